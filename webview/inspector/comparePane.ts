// Compare on hover: the queried patch and a retrieved one side by side,
// enlarged, each with the cells of its whole h-hop key neighbourhood and the
// neighbours drawn over it, their tokens and the distance between their keys.
// Shown while the pointer rests on a row of the retrieved list or the keyboard
// focuses it. The query's picture is the image on screen; the retrieved
// patch's is a crop of its neighbourhood (at h = 1 its row's cached one).

import type { CellWindow, Rect } from '../../src/core/geometry';
import { neighbourOffsets } from '../../src/core/neighbourhood';
import type { NeighbourhoodShape } from '../../src/core/vocabulary';
import { formatCell, formatDistance } from '../../src/core/format';
import { displayName, el, replaceChildren, svg } from '../shared/dom';
import { tokenColour, tokenColourTitle } from '../shared/tokenColour';

/** Side of each enlarged picture, in CSS pixels. */
const PICTURE = 160;

/** One side of the comparison. */
export interface CompareSide {
  /** 'query' or 'retrieved'. */
  readonly role: 'query' | 'retrieved';
  /** What the side is: "Query" or "#3 cat.png" (a file name: drawn as text). */
  readonly heading: string;
  readonly row: number;
  readonly col: number;
  readonly token: number;
  /** The cells the picture shows. */
  readonly window: CellWindow;
  /** The picture: a URL, and the rectangle of it that covers `window` (null: all of it); '' while it loads. */
  readonly src: string;
  readonly crop: { readonly rect: Rect; readonly width: number; readonly height: number } | null;
}

/** The keys retrieval compares: which neighbours make a patch's key. */
export interface CompareKeys {
  readonly shape: NeighbourhoodShape;
  readonly hops: number;
}

export class ComparePane {
  readonly element: HTMLElement;

  constructor() {
    this.element = el('div', { class: 'compare-pane', role: 'tooltip', id: 'compare-pane', hidden: true, 'data-testid': 'compare-pane' });
  }

  /** Shows the two patches next to `anchor` (the list row): left of it when there is room, else under or over it. */
  show(query: CompareSide, retrieved: CompareSide, distance: number, keys: CompareKeys, anchor: DOMRect): void {
    const same = query.token === retrieved.token;
    replaceChildren(
      this.element,
      el('div', { class: 'compare-sides' }, side(query, keys), side(retrieved, keys)),
      el(
        'div',
        { class: 'compare-footer' },
        el('span', { 'data-testid': 'compare-distance' }, `squared distance ${formatDistance(distance)}`),
        el('span', { class: same ? 'compare-same' : 'compare-different', 'data-testid': 'compare-verdict' }, same ? 'same token' : 'different tokens'),
      ),
    );
    this.element.dataset.rank = retrieved.heading;
    this.element.dataset.hops = String(keys.hops);
    this.element.hidden = false;
    this.place(anchor);
  }

  hide(): void {
    this.element.hidden = true;
  }

  get visible(): boolean {
    return !this.element.hidden;
  }

  private place(anchor: DOMRect): void {
    const box = this.element.getBoundingClientRect();
    const gap = 8;
    const vw = document.documentElement.clientWidth;
    const vh = document.documentElement.clientHeight;
    let left: number;
    let top: number;
    if (anchor.left - gap - box.width >= 0) {
      left = anchor.left - gap - box.width;
      top = anchor.top + anchor.height / 2 - box.height / 2;
    } else {
      left = Math.min(Math.max(0, anchor.left), vw - box.width);
      top = anchor.bottom + gap + box.height <= vh ? anchor.bottom + gap : anchor.top - gap - box.height;
    }
    this.element.style.left = `${Math.round(Math.max(0, left))}px`;
    this.element.style.top = `${Math.round(Math.max(0, Math.min(top, vh - box.height)))}px`;
  }
}

function side(s: CompareSide, keys: CompareKeys): HTMLElement {
  const picture = el('div', { class: `compare-picture${s.src ? '' : ' loading'}` });
  // square cells: a window clipped by the grid (h = 3 on a small grid) is drawn narrower or shorter
  const width = PICTURE * Math.min(1, s.window.cols / s.window.rows);
  const height = PICTURE * Math.min(1, s.window.rows / s.window.cols);
  picture.style.width = `${width}px`;
  picture.style.height = `${height}px`;
  if (s.src) {
    const img = el('img', { class: 'compare-image', alt: '', draggable: 'false', src: s.src });
    if (s.crop) {
      // the whole image, scaled and shifted so the window's rectangle fills the picture
      const sx = width / s.crop.rect.width;
      const sy = height / s.crop.rect.height;
      Object.assign(img.style, {
        width: `${s.crop.width * sx}px`,
        height: `${s.crop.height * sy}px`,
        left: `${-s.crop.rect.x * sx}px`,
        top: `${-s.crop.rect.y * sy}px`,
      });
    } else Object.assign(img.style, { width: '100%', height: '100%', left: '0', top: '0' });
    picture.append(img);
  }
  picture.append(overlay(s, keys));
  const chip = el('span', { class: 'swatch', 'aria-hidden': 'true', title: tokenColourTitle(s.token) });
  chip.style.background = tokenColour(s.token);
  return el(
    'figure',
    {
      class: `compare-side compare-${s.role}`,
      'data-testid': `compare-${s.role}`,
      'data-row': s.row,
      'data-col': s.col,
      'data-token': s.token,
      'data-window': `${s.window.row},${s.window.col},${s.window.rows},${s.window.cols}`,
    },
    picture,
    el(
      'figcaption',
      {},
      el('div', { class: 'compare-heading', title: displayName(s.heading) }, displayName(s.heading)),
      el(
        'div',
        { class: 'compare-meta' },
        el('span', {}, formatCell(s.row, s.col)),
        el('span', { class: 'token-chip', 'data-testid': 'compare-token' }, chip, `token ${s.token}`),
      ),
    ),
  );
}

/** The window's cells in cell units: the patch outlined, its key neighbours shaded and numbered in key order. */
function overlay(s: CompareSide, keys: CompareKeys): SVGSVGElement {
  const w = s.window;
  const out = svg('svg', { class: 'compare-overlay', viewBox: `0 0 ${w.cols} ${w.rows}`, preserveAspectRatio: 'none', 'aria-hidden': 'true' });
  const cells = svg('g', { class: 'neighbours' });
  neighbourOffsets(keys.shape, keys.hops).forEach((o, i) => {
    const r = s.row + o.dr - w.row;
    const c = s.col + o.dc - w.col;
    if (r < 0 || c < 0 || r >= w.rows || c >= w.cols) return;
    cells.append(
      svg(
        'g',
        { 'data-testid': 'compare-neighbour', 'data-row': s.row + o.dr, 'data-col': s.col + o.dc },
        svg('rect', { x: c, y: r, width: 1, height: 1 }),
        svg('text', { x: c + 0.5, y: r + 0.5, 'font-size': 0.4 }, String(i + 1)),
      ),
    );
  });
  out.append(cells, svg('rect', { class: 'compare-patch', x: s.col - w.col, y: s.row - w.row, width: 1, height: 1 }));
  return out;
}
