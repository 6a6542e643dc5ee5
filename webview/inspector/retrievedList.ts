// The retrieved patches of the queried patch, nearest first: a thumbnail of
// each patch's surroundings (loaded when the row scrolls into view), the image
// name, its position, token and key distance. Activating a row opens that
// image in the inspector with the patch selected: a click in the preview tab,
// a double click in a kept one (as VS Code's explorer). One Tab stop, arrow
// keys inside (a roving tabindex, as VS Code's lists).

import type { CropWindow, RetrievedPatch } from '../../src/protocol';
import { formatCell, formatDistance } from '../../src/core/format';
import { displayName, el, replaceChildren } from '../shared/dom';
import { tokenColour, tokenColourTitle } from '../shared/tokenColour';

export type { RetrievedPatch };

export interface Thumbnail {
  readonly url: string;
  readonly window: CropWindow;
}

export interface RetrievedListEvents {
  /** The user activated a row. */
  /** `keep`: a double click, for a kept tab rather than the preview. */
  onOpen(patch: RetrievedPatch, keep?: boolean): void;
  /** Loads a row's thumbnail (cached by the caller). */
  loadThumbnail(patch: RetrievedPatch): Promise<Thumbnail>;
  /** The pointer rests on a row, or the keyboard focused it (null: neither any more): for the side-by-side comparison. */
  onPreview?(patch: RetrievedPatch | null, rank: number, row: HTMLElement | null): void;
}

/** The last path segment of a '/'-separated dataset path. */
function baseName(p: string): string {
  const i = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  return i >= 0 ? p.slice(i + 1) : p;
}

export class RetrievedList {
  readonly element: HTMLElement;
  private readonly list: HTMLElement;
  private readonly observer: IntersectionObserver;
  private generation = 0;
  /** A click's preview, waiting to see whether a second click makes it a double click. */
  private pendingOpen?: ReturnType<typeof setTimeout>;
  /** The row that holds the list's one Tab stop. */
  private active = 0;

  constructor(private readonly events: RetrievedListEvents) {
    this.list = el('div', { class: 'retrieved-list', role: 'listbox', 'aria-label': 'Retrieved patches', 'data-testid': 'retrieved-list' });
    this.element = this.list;
    this.list.addEventListener('keydown', (e) => this.onKey(e));
    this.observer = new IntersectionObserver((entries) => {
      for (const e of entries) {
        if (!e.isIntersecting) continue;
        this.observer.unobserve(e.target);
        const load = (e.target as HTMLElement & { loadThumb?: () => void }).loadThumb;
        load?.();
      }
    });
  }

  /** Shows a message instead of rows (no query yet, no results, an error). */
  showMessage(text: string, kind: 'info' | 'error' = 'info'): void {
    this.generation++;
    this.observer.disconnect();
    replaceChildren(this.list, el('div', { class: `list-message ${kind}`, role: 'status' }, text));
    delete this.list.dataset.forRow;
    delete this.list.dataset.forCol;
  }

  /** Draws the rows; `queryToken` is the queried patch's own token (rows with it are marked). */
  render(patches: readonly RetrievedPatch[], queryToken: number, forCell: { row: number; col: number }): void {
    const generation = ++this.generation;
    this.observer.disconnect();
    if (patches.length === 0) {
      this.showMessage('No patches retrieved. With "Exclude this image" on, a database of one image has nothing else to offer.');
      return;
    }
    const rows = patches.map((p, i) => this.row(p, i, queryToken, generation));
    this.active = 0;
    replaceChildren(this.list, ...rows);
    this.setActive(0, false);
    this.list.dataset.forRow = String(forCell.row);
    this.list.dataset.forCol = String(forCell.col);
    this.list.dataset.count = String(patches.length);
    for (const r of rows) this.observer.observe(r);
  }

  private rows(): RowElement[] {
    return [...this.list.querySelectorAll<RowElement>('.retrieved-item')];
  }

  /** Moves the Tab stop (and aria-selected) to row i; focuses it when asked. */
  private setActive(i: number, focus: boolean): void {
    const rows = this.rows();
    if (rows.length === 0) return;
    this.active = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach((r, j) => {
      r.tabIndex = j === this.active ? 0 : -1;
      r.setAttribute('aria-selected', String(j === this.active));
    });
    if (focus) {
      rows[this.active].focus();
      rows[this.active].scrollIntoView({ block: 'nearest' });
    }
  }

  /** Arrows, Home/End and Page Up/Down move inside the list; Enter or Space opens the row. */
  private onKey(e: KeyboardEvent): void {
    const rows = this.rows();
    if (rows.length === 0) return;
    const page = Math.max(1, Math.floor(this.list.clientHeight / (rows[0].offsetHeight || 1)) - 1);
    const moves: Record<string, number> = {
      ArrowDown: this.active + 1,
      ArrowUp: this.active - 1,
      Home: 0,
      End: rows.length - 1,
      PageDown: this.active + page,
      PageUp: this.active - page,
    };
    if (e.key in moves) {
      e.preventDefault();
      this.setActive(moves[e.key], true);
    } else if (e.key === 'Enter' || e.key === ' ') {
      const p = rows[this.active].patch;
      if (!p) return;
      e.preventDefault();
      this.events.onOpen(p);
    }
  }

  private row(p: RetrievedPatch, i: number, queryToken: number, generation: number): HTMLElement {
    const img = el('img', { class: 'thumb-image', alt: '', draggable: 'false' });
    const marker = el('div', { class: 'thumb-patch', hidden: true });
    const thumb = el('div', { class: 'thumb loading' }, img, marker);
    const same = p.token === queryToken;
    const name = displayName(baseName(p.image));
    const item = el(
      'div',
      {
        class: `retrieved-item${same ? ' same-token' : ''}`,
        role: 'option',
        tabindex: '-1',
        id: `retrieved-${generation}-${i}`,
        'data-testid': 'retrieved-item',
        'data-image': p.image,
        'data-row': p.row,
        'data-col': p.col,
        'data-token': p.token,
        'data-distance': p.distance,
        'data-rank': i + 1,
        title: `${displayName(p.image)}\nPatch ${formatCell(p.row, p.col)}, token ${p.token}, squared distance ${formatDistance(p.distance)}\nClick to open it in the inspector`,
        'aria-label': `${i + 1}: ${name}, patch ${formatCell(p.row, p.col)}, token ${p.token}, distance ${formatDistance(p.distance)}`,
      },
      el('div', { class: 'rank' }, String(i + 1)),
      thumb,
      el(
        'div',
        { class: 'info' },
        el('div', { class: 'name' }, name),
        el(
          'div',
          { class: 'meta' },
          el('span', { class: 'pos' }, formatCell(p.row, p.col)),
          el('span', { class: 'token-chip', title: same ? 'Same token as the selected patch' : '' }, swatch(p.token), String(p.token)),
          el('span', { class: 'distance' }, `d ${formatDistance(p.distance)}`),
        ),
        ...(p.caption ? [el('div', { class: 'caption', 'data-testid': 'retrieved-caption', title: p.caption }, p.caption)] : []),
      ),
    );
    (item as RowElement).patch = p;
    item.addEventListener('click', (e) => {
      this.setActive(i, false);
      clearTimeout(this.pendingOpen);
      this.pendingOpen = undefined;
      if (e.detail >= 2) this.events.onOpen(p, true);
      else
        this.pendingOpen = setTimeout(() => {
          this.pendingOpen = undefined;
          if (generation === this.generation) this.events.onOpen(p);
        }, DOUBLE_CLICK_MS);
    });
    item.addEventListener('focus', () => {
      this.setActive(i, false);
      this.events.onPreview?.(p, i + 1, item);
    });
    item.addEventListener('blur', () => this.events.onPreview?.(null, 0, null));
    item.addEventListener('pointerenter', () => this.events.onPreview?.(p, i + 1, item));
    item.addEventListener('pointerleave', () => this.events.onPreview?.(null, 0, null));
    (item as HTMLElement & { loadThumb?: () => void }).loadThumb = () => {
      this.events.loadThumbnail(p).then(
        (t) => {
          if (generation !== this.generation) return;
          img.src = t.url;
          thumb.classList.remove('loading');
          // Outline the patch inside the window of cells the thumbnail shows.
          marker.style.left = `${((p.col - t.window.col) / t.window.cols) * 100}%`;
          marker.style.top = `${((p.row - t.window.row) / t.window.rows) * 100}%`;
          marker.style.width = `${100 / t.window.cols}%`;
          marker.style.height = `${100 / t.window.rows}%`;
          marker.hidden = false;
        },
        () => {
          if (generation !== this.generation) return;
          thumb.classList.remove('loading');
          thumb.classList.add('failed');
          thumb.title = 'The thumbnail could not be made (see the Patch Lens log)';
        },
      );
    };
    return item;
  }
}

type RowElement = HTMLElement & { patch?: RetrievedPatch };

/**
 * How long a click waits for a second one before it opens the preview. The preview replaces this inspector in its
 * tab group, so a double click's second click would land in the inspector just opened (and select a patch there)
 * instead of keeping the tab: the list tells the two apart before it opens anything.
 */
export const DOUBLE_CLICK_MS = 300;

export function swatch(token: number): HTMLElement {
  const s = el('span', { class: 'swatch', 'aria-hidden': 'true', title: tokenColourTitle(token) });
  s.style.background = tokenColour(token);
  return s;
}
