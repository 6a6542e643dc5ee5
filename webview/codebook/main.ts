// The Codebook view's document: a filterable, virtualised list of codes by
// usage with prototype thumbnails and counts; selecting a code lists the
// images and positions that use it, and a position opens the inspector there.
// Text from the host (file names above all) is only ever set as textContent.

import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-toolbar-button/index.js';
import '@vscode-elements/elements/dist/vscode-icon/index.js';
import './codebook.css';
import {
  CODEBOOK_REPLIES,
  codebookConsistent,
  hostToCodebookSchema,
  type CodebookData,
  type CodebookDataset,
  type CodebookReplies,
  type CodebookToHost,
  type TokenUse,
  type HostToCodebook,
} from '../../src/protocol';
import { HostConnection, type VsCodeApi } from '../shared/hostConnection';
import { formatCell, formatCount } from '../../src/core/format';
import { tokenColour, tokenColourTitle } from '../shared/tokenColour';
import {
  FILTER_HELP,
  parseTokenFilter,
  prototypeRgba,
  restoreCodebookState,
  type CodebookViewState,
  rowWindow,
  shareText,
  summarize,
  summaryText,
  usageOrder,
  visibleCodes,
  type CodebookSummary,
} from './model';

const ROW_H = 24;
// About two rows of chips at sidebar widths, so an image's uses stay a few lines tall; "+N" shows the rest.
const CHIPS = 6;

const api = acquireVsCodeApi<CodebookViewState>();
const st: CodebookViewState = restoreCodebookState(api.getState());
const save = () => api.setState(st);
// Every message from the host is checked against the protocol's schema first.
const conn = new HostConnection<CodebookToHost, HostToCodebook, CodebookReplies>(api as VsCodeApi<unknown>, hostToCodebookSchema, CODEBOOK_REPLIES, {
  consistent: codebookConsistent,
});
const post = (m: CodebookToHost) => conn.post(m);

// ---- DOM helpers: elements and text only, never HTML strings
function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K];
function el(tag: string, cls?: string, text?: string): HTMLElement;
function el(tag: string, cls?: string, text?: string): HTMLElement {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
function icon(name: string, cls = ''): HTMLElement {
  const i = el('span', `codicon codicon-${name} ${cls}`.trim());
  i.setAttribute('aria-hidden', 'true');
  return i;
}

// ---- layout
const app = document.getElementById('root')!;
app.className = 'codebook';
const toolbar = el('div', 'toolbar');
const datasetSelect = document.createElement('vscode-single-select') as HTMLElement & { value: string };
datasetSelect.className = 'dataset-select';
datasetSelect.setAttribute('aria-label', 'Dataset');
datasetSelect.hidden = true;
const filterRow = el('div', 'filter-row');
const filter = document.createElement('vscode-textfield') as HTMLElement & { value: string; placeholder: string; invalid: boolean };
filter.className = 'filter';
filter.setAttribute('placeholder', 'Filter by token id');
filter.setAttribute('aria-label', 'Filter by token id');
filter.title = FILTER_HELP;
const filterIcon = document.createElement('vscode-icon');
filterIcon.setAttribute('name', 'filter');
filterIcon.setAttribute('slot', 'content-before');
filter.append(filterIcon);
const deadToggle = document.createElement('vscode-checkbox') as HTMLElement & { checked: boolean };
deadToggle.setAttribute('label', 'Dead codes');
deadToggle.title = 'Show codes no indexed patch uses';
deadToggle.className = 'dead-toggle';
filterRow.append(filter, deadToggle);
toolbar.append(datasetSelect, filterRow);
const summaryEl = el('div', 'summary');
summaryEl.setAttribute('role', 'status');
const filterError = el('div', 'filter-error');
filterError.hidden = true;
const list = el('div', 'list');
list.tabIndex = 0;
list.setAttribute('role', 'listbox');
list.setAttribute('aria-label', 'Codes by usage');
const spacer = el('div', 'spacer');
list.append(spacer);
const details = el('section', 'details');
details.hidden = true;
const empty = el('div', 'empty');
empty.hidden = true;
const loading = el('div', 'loading');
loading.append(document.createElement('vscode-progress-ring'), el('span', '', 'Loading codebook…'));
loading.hidden = true;
app.append(toolbar, summaryEl, filterError, list, details, empty, loading);
app.removeAttribute('aria-busy');

// ---- data
let data: CodebookData | undefined;
let summary: CodebookSummary | undefined;
let order: Uint32Array = new Uint32Array(0);
let shown: number[] = [];
let active = -1; // keyboard position in `shown`

function showOnly(which: 'list' | 'empty' | 'loading'): void {
  const hasList = which === 'list';
  summaryEl.hidden = !hasList;
  list.hidden = !hasList;
  filterRow.hidden = !hasList;
  if (!hasList) {
    details.hidden = true;
    filterError.hidden = true;
  }
  empty.hidden = which !== 'empty';
  loading.hidden = which !== 'loading';
}

function applyFilter(keepScroll = false): void {
  if (!data) return;
  const f = parseTokenFilter(st.filter);
  if ('error' in f) {
    filterError.textContent = f.error;
    filterError.hidden = false;
    filter.invalid = true;
    return;
  }
  filterError.hidden = true;
  filter.invalid = false;
  shown = visibleCodes(order, data.counts, f, st.showDead);
  spacer.style.height = `${shown.length * ROW_H}px`;
  if (!keepScroll) list.scrollTop = 0;
  active = st.selected !== undefined ? shown.indexOf(st.selected) : -1;
  // the matching count first: it is what a filter changes, and the line may wrap in a narrow sidebar
  const matched = f.kind === 'all' ? '' : `${formatCount(shown.length)} matching · `;
  summaryEl.textContent = summary ? matched + summaryText(summary, data.images) : '';
  if (data.staleImages > 0) summaryEl.title = `Prototypes still include ${data.staleImages} removed or replaced image(s); a rebuild recomputes them.`;
  else summaryEl.title = '';
  render();
}

// ---- virtual list
const pool: HTMLElement[] = [];

function drawThumb(canvas: HTMLCanvasElement, id: number): boolean {
  if (!data) return false;
  const rgba = prototypeRgba(data.prototypes, data.patch, id, data.counts[id]);
  if (!rgba) return false;
  canvas.width = data.patch;
  canvas.height = data.patch;
  canvas.getContext('2d')!.putImageData(new ImageData(rgba, data.patch, data.patch), 0, 0);
  return true;
}

function makeRow(): HTMLElement {
  const row = el('div', 'row');
  row.setAttribute('role', 'option');
  const thumb = el('canvas', 'thumb');
  // Beside the prototype (what the token looks like), the colour the inspector marks it with.
  const colour = el('span', 'map-colour');
  colour.setAttribute('aria-hidden', 'true');
  const id = el('span', 'id');
  const bar = el('span', 'bar');
  bar.append(el('span', 'fill'));
  const count = el('span', 'count');
  const share = el('span', 'share');
  row.append(thumb, colour, id, bar, count, share);
  row.addEventListener('click', () => {
    const i = Number(row.dataset.index);
    active = i;
    select(shown[i]);
    list.focus();
  });
  return row;
}

function render(): void {
  if (!data || !summary) return;
  const { first, last } = rowWindow(list.scrollTop, list.clientHeight || 400, ROW_H, shown.length);
  const n = last - first;
  while (pool.length < n) {
    const r = makeRow();
    pool.push(r);
    list.append(r);
  }
  for (let k = 0; k < pool.length; k++) {
    const row = pool[k];
    if (k >= n) {
      row.hidden = true;
      continue;
    }
    const i = first + k;
    const code = shown[i];
    const count = data.counts[code];
    row.hidden = false;
    row.dataset.index = String(i);
    row.dataset.token = String(code);
    row.id = `code-${code}`;
    row.style.transform = `translateY(${i * ROW_H}px)`;
    const dead = count === 0;
    row.classList.toggle('dead', dead);
    row.classList.toggle('selected', code === st.selected);
    row.classList.toggle('active', i === active);
    row.setAttribute('aria-selected', String(code === st.selected));
    const [thumb, colour, id, bar, cnt, share] = row.children as unknown as [
      HTMLCanvasElement,
      HTMLElement,
      HTMLElement,
      HTMLElement,
      HTMLElement,
      HTMLElement,
    ];
    colour.style.background = tokenColour(code);
    colour.title = tokenColourTitle(code);
    if (row.dataset.drawn !== `${code}:${data.generation}`) {
      thumb.classList.toggle('none', !drawThumb(thumb, code));
      row.dataset.drawn = `${code}:${data.generation}`;
    }
    id.textContent = `#${code}`;
    (bar.firstChild as HTMLElement).style.width = `${summary.max ? Math.max(dead ? 0 : 2, (count / summary.max) * 100) : 0}%`;
    cnt.textContent = dead ? 'dead' : formatCount(count);
    share.textContent = dead ? '' : shareText(count, summary.tokens);
    row.title = dead
      ? `Token ${code}: dead (no indexed patch uses it)`
      : `Token ${code}: ${formatCount(count)} patches (${shareText(count, summary.tokens)} of all). Click to list the images.`;
    row.setAttribute('aria-label', dead ? `token ${code}, dead code` : `token ${code}, ${count} uses`);
  }
  if (active >= 0) list.setAttribute('aria-activedescendant', `code-${shown[active]}`);
  else list.removeAttribute('aria-activedescendant');
}

list.addEventListener('scroll', () => {
  st.scrollTop = list.scrollTop;
  save();
  render();
});
new ResizeObserver(() => render()).observe(list);

list.addEventListener('keydown', (e) => {
  if (!shown.length) return;
  const page = Math.max(1, Math.floor(list.clientHeight / ROW_H) - 1);
  const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, Home: -Infinity, End: Infinity };
  if (e.key in moves) {
    e.preventDefault();
    active = Math.max(0, Math.min(shown.length - 1, (active < 0 ? 0 : active) + moves[e.key]));
    scrollIntoView(active);
    render();
  } else if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    if (active >= 0) select(shown[active]);
  }
});

function scrollIntoView(i: number): void {
  const top = i * ROW_H;
  if (top < list.scrollTop) list.scrollTop = top;
  else if (top + ROW_H > list.scrollTop + list.clientHeight) list.scrollTop = top + ROW_H - list.clientHeight;
}

// ---- the uses of the selected code
function select(token: number): void {
  if (!data) return;
  st.selected = token;
  save();
  // the details first: they take part of the height, and the row must be scrolled into the list that is left
  showDetailsHeader(token);
  const i = shown.indexOf(token);
  if (i >= 0) {
    active = i;
    scrollIntoView(i);
  }
  render();
  if (data.counts[token] === 0) {
    const note = el('p', 'note', 'Dead code: no indexed patch has this token. It may still be used by images indexed later.');
    details.append(note);
    return;
  }
  const body = el('div', 'uses');
  body.append(el('p', 'note', 'Finding the images that use it…'));
  details.append(body);
  conn.request({ type: 'tokenUses', root: data.root, token }).then(
    (r) => showUses(r.token, r.uses, r.totalImages, r.totalPositions),
    (e: Error) => {
      if (st.selected === token && body.isConnected) body.replaceChildren(el('p', 'note error', `Could not list the images: ${e.message}`));
    },
  );
}

function showDetailsHeader(token: number): void {
  details.hidden = false;
  details.replaceChildren();
  const head = el('div', 'details-head');
  const big = el('canvas', 'thumb big');
  big.classList.toggle('none', !drawThumb(big, token));
  big.title = 'Prototype: the mean of the patches with this token';
  const titles = el('div', 'titles');
  const colour = el('span', 'map-colour');
  colour.style.background = tokenColour(token);
  colour.title = tokenColourTitle(token);
  const title = el('div', 'title', `Token ${token} `);
  title.append(colour);
  titles.append(title);
  const count = data ? data.counts[token] : 0;
  titles.append(el('div', 'subtitle', count ? `${formatCount(count)} patches · ${shareText(count, summary?.tokens ?? 0)} of all` : 'dead code'));
  const close = document.createElement('vscode-toolbar-button');
  close.setAttribute('icon', 'close');
  close.setAttribute('label', 'Close');
  close.title = 'Close';
  close.addEventListener('click', () => {
    st.selected = undefined;
    save();
    details.hidden = true;
    render();
  });
  head.append(big, titles, close);
  details.append(head);
}

function showUses(token: number, uses: readonly TokenUse[], totalImages: number, totalPositions: number): void {
  if (!data || st.selected !== token) return;
  const root = data.root;
  const body = details.querySelector('.uses');
  if (!body) return;
  const sub = details.querySelector('.subtitle');
  if (sub) sub.textContent = `${formatCount(totalPositions)} patches in ${formatCount(totalImages)} image${totalImages === 1 ? '' : 's'}`;
  const ul = el('ul', 'use-list');
  ul.setAttribute('aria-label', `Images that use token ${token}`);
  for (const u of uses) {
    const li = el('li', 'use');
    const name = el('button', 'image-link');
    name.append(icon('file-media'), el('span', 'image-name', u.image));
    name.title = `Open ${u.image} in the inspector at ${formatCell(u.positions[0].row, u.positions[0].col)}`;
    name.addEventListener('click', () => post({ type: 'openPatch', root, image: u.image, row: u.positions[0].row, col: u.positions[0].col }));
    // a click previews (the preview tab is reused), a double click keeps the tab
    name.addEventListener('dblclick', () => post({ type: 'openPatch', root, image: u.image, row: u.positions[0].row, col: u.positions[0].col, keep: true }));
    const n = el('span', 'use-count', String(u.positions.length));
    n.title = `${u.positions.length} patch${u.positions.length === 1 ? '' : 'es'}`;
    const head = el('div', 'use-head');
    head.append(name, n);
    const chips = el('div', 'chips');
    const addChips = (from: number, to: number) => {
      for (const p of u.positions.slice(from, to)) {
        const c = el('button', 'chip', formatCell(p.row, p.col));
        c.title = `Inspect ${u.image} at ${formatCell(p.row, p.col)}`;
        c.addEventListener('click', () => post({ type: 'openPatch', root, image: u.image, row: p.row, col: p.col }));
        c.addEventListener('dblclick', () => post({ type: 'openPatch', root, image: u.image, row: p.row, col: p.col, keep: true }));
        chips.append(c);
      }
    };
    addChips(0, CHIPS);
    if (u.positions.length > CHIPS) {
      const more = el('button', 'chip more', `+${u.positions.length - CHIPS}`);
      more.title = 'Show every position';
      more.addEventListener('click', () => {
        more.remove();
        addChips(CHIPS, u.positions.length);
      });
      chips.append(more);
    }
    li.append(head, chips);
    ul.append(li);
  }
  body.replaceChildren(ul);
  if (totalImages > uses.length) body.append(el('p', 'note', `Showing the first ${uses.length} of ${formatCount(totalImages)} images.`));
}

// ---- controls
filter.value = st.filter;
filter.addEventListener('input', () => {
  st.filter = filter.value;
  save();
  applyFilter();
});
deadToggle.checked = st.showDead;
deadToggle.addEventListener('change', () => {
  st.showDead = deadToggle.checked;
  save();
  applyFilter();
});
datasetSelect.addEventListener('change', () => {
  if (datasetSelect.value && datasetSelect.value !== st.root) post({ type: 'selectDataset', root: datasetSelect.value });
});

function setDatasets(datasets: readonly CodebookDataset[], selected?: string): void {
  datasetSelect.replaceChildren(
    ...datasets.map((d) => {
      const o = document.createElement('vscode-option') as HTMLElement & { value: string; selected: boolean; description: string };
      o.value = d.root;
      o.textContent = d.built ? d.name : `${d.name} (no database)`;
      o.selected = d.root === selected;
      o.description = d.root;
      return o;
    }),
  );
  datasetSelect.hidden = datasets.length < 2;
  if (selected) datasetSelect.value = selected;
}

function setEmpty(message: string, root: string | undefined, reason: string): void {
  data = undefined;
  empty.replaceChildren();
  const p = el('p', '', message);
  empty.append(icon(reason === 'error' ? 'error' : reason === 'building' ? 'sync' : 'symbol-color', 'empty-icon'), p);
  if (reason === 'none' && root) {
    const b = document.createElement('vscode-button');
    b.textContent = 'Build Patch Database';
    b.addEventListener('click', () => post({ type: 'build', root }));
    empty.append(b);
  }
  showOnly('empty');
}

function setData(d: CodebookData): void {
  const sameDataset = st.root === d.root;
  data = d;
  summary = summarize(d.counts);
  order = usageOrder(d.counts);
  if (!sameDataset) {
    st.root = d.root;
    st.selected = undefined;
    st.scrollTop = 0;
    save();
  }
  for (const r of pool) delete r.dataset.drawn;
  showOnly('list');
  applyFilter(true);
  list.scrollTop = st.scrollTop;
  render();
  if (st.selected !== undefined && st.selected < d.codebookSize) select(st.selected);
  else details.hidden = true;
}

conn.on('datasets', (m) => setDatasets(m.datasets, m.selected));
conn.on('loading', (m) => {
  if (!data || data.root !== m.root) showOnly('loading');
});
conn.on('codebook', (m) => setData(m.data));
conn.on('empty', (m) => {
  conn.cancelAll('the codebook changed');
  setEmpty(m.message, m.root, m.reason);
});
conn.on('focusToken', (m) => {
  if (!data || m.token >= data.codebookSize) return;
  // Focus first: leaving the text field makes it take its input's value again (its change event).
  list.focus();
  if (!shown.includes(m.token)) {
    st.filter = '';
    filter.value = '';
    if (data.counts[m.token] === 0) {
      st.showDead = true;
      deadToggle.checked = true;
    }
    applyFilter();
  }
  select(m.token);
});

conn.ready();
