// The Duplicates view's document: choose a dataset, find its image pairs
// that share patch content (or its leaks into another database), watch the
// search's progress, cancel it, and page through the ranked pairs with both
// thumbnails, score and shared-cell count; activating a pair opens both
// images side by side in the inspector. Text from the host (file names above
// all) is only ever set as textContent.

import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import './duplicates.css';
import { FIND_PHASES, type FindPhase } from '../../src/core/duplicates';
import {
  DUPLICATES_PAGE,
  DUPLICATES_REPLIES,
  MAX_DUPLICATE_WINDOW,
  hostToDuplicatesSchema,
  type CodebookDataset,
  type DuplicateResults,
  type DuplicatesReplies,
  type DuplicatesToHost,
  type HostToDuplicates,
} from '../../src/protocol';
import { baseName, formatCount, formatDuration, formatGrid, formatPercent } from '../../src/core/format';
import { displayName, el, replaceChildren } from '../shared/dom';
import { HostConnection } from '../shared/hostConnection';
import { restoreDuplicatesState, type DuplicatesState } from './viewState';

type Pair = DuplicatesReplies['page']['pairs'][number];
type Select = HTMLElement & { value: string };
type Checkbox = HTMLElement & { checked: boolean };
type TextField = HTMLElement & { value: string };

const PHASE_LABELS: Record<FindPhase, string> = { count: 'Hashing token windows', pair: 'Pairing images', near: 'Matching near keys', rank: 'Ranking pairs' };

class DuplicatesApp {
  private readonly conn: HostConnection<DuplicatesToHost, HostToDuplicates, DuplicatesReplies>;
  private state: DuplicatesState;
  private datasets: CodebookDataset[] = [];
  private results?: DuplicateResults;
  private loaded = 0;
  private loading = false;
  private readonly thumbs = new Map<string, string>();

  private readonly datasetSelect = el('vscode-single-select', { 'aria-label': 'Dataset', class: 'dataset-select', 'data-testid': 'dataset-select' }) as Select;
  private readonly windowSelect = el('vscode-single-select', {
    'aria-label': 'Window side',
    title: 'Token windows of w × w cells are hashed; two images share a cell when a window covering it occurs in both',
    'data-testid': 'window-select',
  }) as Select;
  private readonly nearBox = el('vscode-checkbox', {
    label: 'Near keys',
    title: 'Also match entries whose keys lie within the squared distance given (through the index)',
    'data-testid': 'near-box',
  }) as Checkbox;
  private readonly nearField = el('vscode-textfield', { 'aria-label': 'Near distance', size: 5, 'data-testid': 'near-eps' }) as TextField;
  private readonly findButton = el('vscode-button', { 'data-testid': 'find' }, 'Find Duplicates');
  private readonly leaksButton = el('vscode-button', { secondary: true, 'data-testid': 'find-leaks' }, 'Find Leaks Against…');
  private readonly cancelButton = el('vscode-button', { secondary: true, 'data-testid': 'cancel', hidden: true }, 'Cancel');
  private readonly progress = el('div', { class: 'progress', 'data-testid': 'progress', hidden: true });
  private readonly progressBar = el('div', { class: 'progress-bar' });
  private readonly progressText = el('span', { class: 'progress-text' });
  private readonly summary = el('div', { class: 'summary', 'data-testid': 'summary', role: 'status' });
  private readonly list = el('div', { class: 'pairs', role: 'list', 'aria-label': 'Image pairs', 'data-testid': 'pairs' });
  private readonly more = el('div', { class: 'more', 'data-testid': 'more' });
  private readonly observer: IntersectionObserver;

  constructor(private readonly api: ReturnType<typeof acquireVsCodeApi<unknown>>) {
    this.state = restoreDuplicatesState(api.getState());
    this.conn = new HostConnection<DuplicatesToHost, HostToDuplicates, DuplicatesReplies>(api, hostToDuplicatesSchema, DUPLICATES_REPLIES, {
      onRejected: (reason) => console.warn(`duplicates view rejected a message: ${reason}`),
    });
    for (let w = 1; w <= MAX_DUPLICATE_WINDOW; w++) {
      const o = el('vscode-option', { value: String(w) }, `${w} × ${w}`);
      this.windowSelect.appendChild(o);
    }
    this.windowSelect.value = String(this.state.window);
    this.nearBox.checked = this.state.near >= 0;
    this.nearField.value = String(this.state.near >= 0 ? this.state.near : 0.05);
    this.nearField.hidden = !this.nearBox.checked;

    this.datasetSelect.addEventListener('change', () => {
      this.state = { ...this.state, root: this.datasetSelect.value };
      this.save();
      this.conn.post({ type: 'selectDataset', root: this.datasetSelect.value });
    });
    this.windowSelect.addEventListener('change', () => this.saveOptions());
    this.nearBox.addEventListener('change', () => {
      this.nearField.hidden = !this.nearBox.checked;
      this.saveOptions();
    });
    this.nearField.addEventListener('change', () => this.saveOptions());
    this.findButton.addEventListener('click', () => this.find('find'));
    this.leaksButton.addEventListener('click', () => this.find('findLeaks'));
    this.cancelButton.addEventListener('click', () => this.conn.post({ type: 'cancel' }));

    this.observer = new IntersectionObserver((entries) => {
      for (const e of entries) {
        if (!e.isIntersecting) continue;
        const t = e.target as HTMLElement & { load?: () => void };
        this.observer.unobserve(t);
        t.load?.();
      }
    });
    const moreObserver = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void this.loadPage();
    });
    moreObserver.observe(this.more);

    replaceChildren(
      document.getElementById('root')!,
      el(
        'div',
        { class: 'controls' },
        this.datasetSelect,
        el('div', { class: 'options' }, el('span', { class: 'label' }, 'Window'), this.windowSelect, this.nearBox, this.nearField),
        el('div', { class: 'buttons' }, this.findButton, this.leaksButton, this.cancelButton),
      ),
      el('div', {}, this.progress),
      this.summary,
      this.list,
      this.more,
    );
    this.progress.append(this.progressBar, this.progressText);

    this.conn.on('datasets', (m) => this.onDatasets(m.datasets, m.selected));
    this.conn.on('progress', (m) => this.onProgress(m.phase, m.done, m.total));
    this.conn.on('results', (m) => this.onResults(m.results));
    this.conn.on('empty', (m) => this.onEmpty(m.message, m.reason));
    this.conn.ready();
  }

  private save(): void {
    this.api.setState(this.state);
  }

  private options(): { window: number; near: number } {
    const window = Number(this.windowSelect.value) || this.state.window;
    const eps = Number(this.nearField.value);
    return { window, near: this.nearBox.checked && Number.isFinite(eps) && eps >= 0 ? eps : -1 };
  }

  private saveOptions(): void {
    this.state = { ...this.state, ...this.options() };
    this.save();
  }

  private find(type: 'find' | 'findLeaks'): void {
    const root = this.datasetSelect.value;
    if (!root) return;
    const o = this.options();
    this.conn.post({ type, root, window: o.window, near: o.near });
  }

  private onDatasets(datasets: CodebookDataset[], selected: string): void {
    this.datasets = datasets;
    replaceChildren(
      this.datasetSelect,
      ...datasets.map((d) => el('vscode-option', { value: d.root, description: d.root }, `${displayName(d.name)}${d.built ? '' : ' (no database)'}`)),
    );
    const root = datasets.some((d) => d.root === this.state.root) ? this.state.root! : selected;
    if (root) this.datasetSelect.value = root;
    const built = datasets.find((d) => d.root === root)?.built ?? false;
    for (const b of [this.findButton, this.leaksButton]) b.toggleAttribute('disabled', !built || !this.cancelButton.hidden);
  }

  private setRunning(running: boolean): void {
    this.progress.hidden = !running;
    this.cancelButton.hidden = !running;
    const built = this.datasets.find((d) => d.root === this.datasetSelect.value)?.built ?? false;
    for (const b of [this.findButton, this.leaksButton]) b.toggleAttribute('disabled', running || !built);
  }

  private onProgress(phase: FindPhase, done: number, total: number): void {
    this.setRunning(true);
    const step = FIND_PHASES.indexOf(phase);
    const within = total > 0 ? Math.min(1, done / total) : 0;
    this.progressBar.style.width = `${((step + within) / FIND_PHASES.length) * 100}%`;
    this.progressText.textContent = `${PHASE_LABELS[phase]}… ${total > 1 ? formatPercent(within) : ''}`;
  }

  private onEmpty(message: string, reason: string): void {
    this.setRunning(false);
    this.results = undefined;
    this.loaded = 0;
    this.summary.textContent = message;
    this.summary.className = `summary ${reason === 'error' ? 'error' : ''}`;
    this.list.replaceChildren();
    this.more.textContent = '';
  }

  private onResults(r: DuplicateResults): void {
    this.setRunning(false);
    this.results = r;
    this.loaded = 0;
    this.thumbs.forEach((url) => URL.revokeObjectURL(url));
    this.thumbs.clear();
    this.list.replaceChildren();
    this.summary.className = 'summary';
    const what = r.against ? `leaks of ${displayName(r.dataset)} into ${displayName(r.against)}` : `in ${displayName(r.dataset)}`;
    const kept = r.totalPairs > r.pairs ? ` (the best ${formatCount(r.pairs)} kept)` : '';
    this.summary.textContent =
      r.totalPairs === 0
        ? `No pairs share content ${what}: ${formatCount(r.images)} images, ${formatDuration(r.elapsedMs)}.`
        : `${formatCount(r.totalPairs)} pairs ${what}${kept}; ${formatCount(r.images)} images, ${formatDuration(r.elapsedMs)}, window ${formatGrid(r.window, r.window)}${r.near >= 0 ? `, near ${r.near}` : ''}${r.commonWindows ? `; ${formatCount(r.commonWindows)} windows too common to count` : ''}.`;
    this.summary.title = `${formatCount(r.distinctWindows)} distinct windows`;
    void this.loadPage();
  }

  private async loadPage(): Promise<void> {
    const r = this.results;
    if (!r || this.loading || this.loaded >= r.pairs) {
      this.more.textContent = r && r.pairs > 0 && this.loaded >= r.pairs ? '' : this.more.textContent;
      return;
    }
    this.loading = true;
    this.more.textContent = 'Loading…';
    try {
      const page = await this.conn.request({ type: 'page', searchId: r.searchId, offset: this.loaded });
      if (this.results !== r) return;
      for (const p of page.pairs) this.list.appendChild(this.row(r, p));
      this.loaded += page.pairs.length;
      this.more.textContent = this.loaded < r.pairs ? `${this.loaded} of ${r.pairs} shown` : '';
      if (page.pairs.length < DUPLICATES_PAGE) this.loaded = r.pairs;
    } catch (e) {
      this.more.textContent = `Cannot load more pairs: ${(e as Error).message}`;
    } finally {
      this.loading = false;
    }
  }

  private thumb(r: DuplicateResults, p: Pair, side: 'a' | 'b'): HTMLElement {
    const name = side === 'a' ? p.a : p.b;
    const img = el('img', { class: 'thumb', alt: displayName(baseName(name)), width: 48, height: 48, 'data-testid': `thumb-${side}` }) as HTMLImageElement;
    const box = el('div', { class: 'thumb-box' }, img) as HTMLElement & { load?: () => void };
    box.load = () => {
      const key = `${r.searchId}:${p.rank}:${side}`;
      const cached = this.thumbs.get(key);
      if (cached) {
        img.src = cached;
        return;
      }
      void this.conn.request({ type: 'thumbnail', searchId: r.searchId, rank: p.rank, side }).then(
        (t) => {
          if (this.results !== r) return;
          const url = URL.createObjectURL(new Blob([t.png as BlobPart], { type: 'image/png' }));
          this.thumbs.set(key, url);
          img.src = url;
        },
        () => box.classList.add('failed'),
      );
    };
    this.observer.observe(box);
    return box;
  }

  private row(r: DuplicateResults, p: Pair): HTMLElement {
    const names = el(
      'div',
      { class: 'names' },
      el('div', { class: 'name', title: displayName(p.a) }, displayName(baseName(p.a))),
      el('div', { class: 'name', title: displayName(p.b) }, displayName(baseName(p.b))),
    );
    const score = el(
      'div',
      { class: 'score' },
      el('span', { class: 'pct', 'data-testid': 'score' }, formatPercent(p.score)),
      el('span', { class: 'cells', 'data-testid': 'shared-cells' }, `${p.sharedCells}/${r.cells} cells`),
      p.identical ? el('span', { class: 'identical', 'data-testid': 'identical' }, 'identical files') : null,
    );
    const row = el(
      'div',
      {
        class: 'pair',
        role: 'listitem',
        tabindex: '0',
        'data-testid': 'pair',
        'data-rank': p.rank,
        'data-a': p.a,
        'data-b': p.b,
        title: `Open ${displayName(p.a)} and ${displayName(p.b)} side by side`,
      },
      this.thumb(r, p, 'a'),
      this.thumb(r, p, 'b'),
      names,
      score,
    );
    const open = () => this.conn.post({ type: 'openPair', searchId: r.searchId, rank: p.rank });
    row.addEventListener('click', open);
    row.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        open();
      } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const next = (e.key === 'ArrowDown' ? row.nextElementSibling : row.previousElementSibling) as HTMLElement | null;
        next?.focus();
      }
    });
    return row;
  }
}

new DuplicatesApp(acquireVsCodeApi<unknown>());
