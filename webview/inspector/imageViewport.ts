// The image with its patch grid: zoom and pan, an SVG overlay in image-pixel
// coordinates (grid lines, token map, the selected patch and its h-hop
// neighbourhood in key order), a hover tooltip, and selection by click or
// keyboard. Everything is drawn from the engine's cell rectangles, so crops,
// padding and EXIF orientation need no special cases here.

import { neighbourOffsets } from '../../src/core/neighbourhood';
import { DEFAULT_KEYS, type NeighbourhoodShape } from '../../src/core/vocabulary';
import { formatCell, formatDistance } from '../../src/core/format';
import { el, replaceChildren, setAttrs, svg } from '../shared/dom';
import type { GridGeometry } from './gridGeometry';
import { tokenColour } from '../shared/tokenColour';
import type { Cell } from './viewState';

export interface ViewportEvents {
  /** A patch was selected by a click (query it) or by the arrow keys (query on Enter). */
  onSelect(cell: Cell, how: 'click' | 'key'): void;
  /** Enter or Space on the selected patch. */
  onQuery(): void;
  /** Zoom or pan changed (to keep in the view state). */
  onViewChange(): void;
}

const MIN_ZOOM = 0.02;
const MAX_ZOOM = 64;
const DRAG_THRESHOLD = 4;

export class ImageViewport {
  readonly element: HTMLElement;
  private readonly stage: HTMLElement;
  private readonly img: HTMLImageElement;
  private readonly overlay: SVGSVGElement;
  private readonly gTokens: SVGGElement;
  private readonly maskPath: SVGPathElement;
  private readonly gridPath: SVGPathElement;
  /** The same lines, wider and dark underneath, so the grid reads on light and dark images. */
  private readonly gridShadow: SVGPathElement;
  private readonly gHighlight: SVGGElement;
  private readonly gNeighbours: SVGGElement;
  private readonly gSelection: SVGGElement;
  private readonly tooltip: HTMLElement;
  /** The zoom level as a percentage, for the toolbar (as VS Code's image preview shows it). */
  readonly zoomLabel: HTMLElement;
  /** The token grid the tooltip's content was built from. */
  private tooltipTokens?: Int32Array;

  private geometry?: GridGeometry;
  private tokens?: Int32Array;
  private distances?: Float32Array;
  private imageWidth = 0;
  private imageHeight = 0;
  private zoom = 1;
  private tx = 0;
  private ty = 0;
  private fitting = true;
  private selection: Cell | null = null;
  private shape: NeighbourhoodShape = DEFAULT_KEYS.shape;
  private hops = 1;
  private highlightToken: number | null = null;
  /** Cells shared with another image (a duplicate pair), row-major indices. */
  private sharedCells: Int32Array | null = null;
  private readonly gShared: SVGGElement;
  /** Whether a cell has a database entry (for the tooltip); set with the grid. */
  private hasEntry: (row: number, col: number) => boolean = () => true;

  constructor(private readonly events: ViewportEvents) {
    this.img = el('img', { class: 'image', draggable: 'false', alt: '' });
    this.gTokens = svg('g', { class: 'token-map' });
    this.maskPath = svg('path', { class: 'outside-view', 'fill-rule': 'evenodd' });
    this.gridPath = svg('path', { class: 'grid-lines' });
    this.gridShadow = svg('path', { class: 'grid-shadow' });
    this.gHighlight = svg('g', { class: 'token-highlight' });
    this.gShared = svg('g', { class: 'shared-cells', 'data-testid': 'shared-cells' });
    this.gNeighbours = svg('g', { class: 'neighbours' });
    this.gSelection = svg('g', { class: 'selection' });
    this.overlay = svg(
      'svg',
      { class: 'overlay', 'data-testid': 'patch-grid', 'aria-hidden': 'true' },
      this.gTokens,
      this.maskPath,
      this.gridShadow,
      this.gridPath,
      this.gShared,
      this.gHighlight,
      this.gNeighbours,
      this.gSelection,
    );
    this.stage = el('div', { class: 'stage' }, this.img, this.overlay as unknown as Node);
    this.tooltip = el('div', { class: 'patch-tooltip', role: 'tooltip', hidden: true });
    this.zoomLabel = el('span', { class: 'zoom-level', 'data-testid': 'zoom-level', title: 'Zoom level', 'aria-live': 'polite' }, '100%');
    this.element = el(
      'div',
      {
        class: 'viewport',
        tabindex: '0',
        role: 'application',
        'aria-label': 'Image with patch grid. Arrow keys move the selected patch, Enter searches for it, plus and minus zoom, 0 fits.',
      },
      this.stage,
      this.tooltip,
    );
    this.attachPointer();
    this.element.addEventListener('keydown', (e) => this.onKey(e));
    // A focus ring while the keyboard drives the view, none after a click (as in VS Code's editors).
    this.element.addEventListener('keydown', () => this.element.classList.add('keyboard'));
    this.element.addEventListener('pointerdown', () => this.element.classList.remove('keyboard'));
    this.element.addEventListener('blur', () => this.element.classList.remove('keyboard'));
    new ResizeObserver(() => {
      if (this.fitting) this.fit(false);
    }).observe(this.element);
  }

  // ------------------------------------------------------------ content

  /** The image's URL ('' before one is shown). */
  get imageSrc(): string {
    return this.img.getAttribute('src') ?? '';
  }

  /** Shows an image (webview URI or blob URL) drawn at width x height image pixels. */
  setImage(src: string, width: number, height: number, alt: string): void {
    if (this.img.getAttribute('src') !== src) this.img.src = src;
    // The same image again (a session re-initialised after a build): no new 'load' comes, so answer from the one already in.
    else if (this.img.complete) this.reportLoaded();
    this.img.alt = alt;
    if (width > 0 && height > 0) this.setImageSize(width, height);
  }

  setImageSize(width: number, height: number): void {
    if (width === this.imageWidth && height === this.imageHeight) return;
    this.imageWidth = width;
    this.imageHeight = height;
    for (const e of [this.img, this.overlay] as HTMLElement[]) {
      e.style.width = `${width}px`;
      e.style.height = `${height}px`;
    }
    this.overlay.setAttribute('viewBox', `0 0 ${width} ${height}`);
    setAttrs(this.overlay, { 'data-image-width': width, 'data-image-height': height });
    if (this.fitting) this.fit(false);
    else this.applyTransform();
  }

  private loaded?: (ok: boolean, naturalWidth: number, naturalHeight: number) => void;

  /** Calls back once the image element has decoded (or failed to), and again when setImage is given the same image. */
  onImageLoad(callback: (ok: boolean, naturalWidth: number, naturalHeight: number) => void): void {
    this.loaded = callback;
    this.img.addEventListener('load', () => this.reportLoaded());
    this.img.addEventListener('error', () => callback(false, 0, 0));
  }

  private reportLoaded(): void {
    const img = this.img;
    const src = img.src;
    if (img.complete && img.naturalWidth === 0) {
      this.loaded?.(false, 0, 0);
      return;
    }
    // After decode(): 'load' fires once the bytes are in, while a large photo still takes seconds to decode for its first paint.
    const done = () => {
      if (img.src === src) this.loaded?.(true, img.naturalWidth, img.naturalHeight);
    };
    img.decode().then(done, done);
  }

  setGrid(geometry: GridGeometry, tokens: Int32Array, distances: Float32Array, hasEntry: (row: number, col: number) => boolean): void {
    this.geometry = geometry;
    this.tokens = tokens;
    this.distances = distances;
    this.hasEntry = hasEntry;
    const v = geometry.viewRect;
    setAttrs(this.overlay, {
      'data-rows': geometry.rows,
      'data-cols': geometry.cols,
      'data-view-x': v.x,
      'data-view-y': v.y,
      'data-view-width': v.width,
      'data-view-height': v.height,
    });
    this.drawGridLines();
    this.drawMask();
    this.drawTokenMap();
    this.drawHighlight();
    this.drawShared();
    this.drawSelection();
  }

  /** Lights the cells this image shares with another one (null: none). */
  setSharedCells(cells: Int32Array | null): void {
    this.sharedCells = cells;
    this.drawShared();
  }

  private drawShared(): void {
    const g = this.geometry;
    const cells = this.sharedCells;
    if (!g || !cells) {
      replaceChildren(this.gShared);
      return;
    }
    const rects: Node[] = [];
    for (const i of cells) {
      const row = Math.floor(i / g.cols);
      const col = i % g.cols;
      if (!g.contains(row, col)) continue;
      const cr = g.rect(row, col);
      rects.push(svg('rect', { x: cr.x, y: cr.y, width: cr.width, height: cr.height, 'data-row': row, 'data-col': col }));
    }
    replaceChildren(this.gShared, ...rects);
  }

  setShowGrid(show: boolean): void {
    this.overlay.classList.toggle('hide-grid', !show);
  }

  setOverlay(mode: 'image' | 'tokens'): void {
    this.overlay.classList.toggle('show-tokens', mode === 'tokens');
    this.element.classList.toggle('token-mode', mode === 'tokens');
  }

  setNeighbourhood(shape: NeighbourhoodShape, hops: number): void {
    this.shape = shape;
    this.hops = hops;
    this.drawSelection();
  }

  setSelection(cell: Cell | null, reveal = false): void {
    this.selection = cell && this.geometry?.contains(cell.row, cell.col) ? cell : cell && !this.geometry ? cell : null;
    this.drawSelection();
    if (reveal && this.selection) this.reveal(this.selection);
  }

  getSelection(): Cell | null {
    return this.selection;
  }

  setHighlightToken(token: number | null): void {
    this.highlightToken = token;
    this.drawHighlight();
  }

  // ------------------------------------------------------------ drawing

  private drawGridLines(): void {
    const g = this.geometry;
    if (!g) return;
    const { xs, ys } = g;
    const x0 = xs[0];
    const x1 = xs[g.cols];
    const y0 = ys[0];
    const y1 = ys[g.rows];
    let d = '';
    for (let c = 0; c <= g.cols; c++) if (c === 0 || xs[c] !== xs[c - 1]) d += `M${xs[c]} ${y0}V${y1}`;
    for (let r = 0; r <= g.rows; r++) if (r === 0 || ys[r] !== ys[r - 1]) d += `M${x0} ${ys[r]}H${x1}`;
    this.gridPath.setAttribute('d', d);
    this.gridShadow.setAttribute('d', d);
  }

  /** Shades the parts of the image the model does not see (a centre crop's sides). */
  private drawMask(): void {
    const g = this.geometry;
    if (!g || !g.cropsImage) {
      this.maskPath.setAttribute('d', '');
      return;
    }
    const v = g.viewRect;
    const W = this.imageWidth;
    const H = this.imageHeight;
    this.maskPath.setAttribute('d', `M0 0H${W}V${H}H0Z M${v.x} ${v.y}V${v.y + v.height}H${v.x + v.width}V${v.y}Z`);
  }

  private drawTokenMap(): void {
    const g = this.geometry;
    const t = this.tokens;
    if (!g || !t) return;
    const rects: Node[] = [];
    for (let r = 0; r < g.rows; r++) {
      for (let c = 0; c < g.cols; c++) {
        const cr = g.rect(r, c);
        if (cr.width <= 0 || cr.height <= 0) continue;
        rects.push(svg('rect', { x: cr.x, y: cr.y, width: cr.width, height: cr.height, fill: tokenColour(t[r * g.cols + c]) }));
      }
    }
    replaceChildren(this.gTokens, ...rects);
  }

  private drawHighlight(): void {
    const g = this.geometry;
    const t = this.tokens;
    const token = this.highlightToken;
    if (!g || !t || token === null) {
      replaceChildren(this.gHighlight);
      return;
    }
    const rects: Node[] = [];
    for (let i = 0; i < t.length; i++) {
      if (t[i] !== token) continue;
      const row = Math.floor(i / g.cols);
      const col = i % g.cols;
      const cr = g.rect(row, col);
      rects.push(svg('rect', { x: cr.x, y: cr.y, width: cr.width, height: cr.height, 'data-testid': 'token-highlight', 'data-row': row, 'data-col': col }));
    }
    replaceChildren(this.gHighlight, ...rects);
  }

  private drawSelection(): void {
    const g = this.geometry;
    const s = this.selection;
    if (!g || !s || !g.contains(s.row, s.col)) {
      replaceChildren(this.gNeighbours);
      replaceChildren(this.gSelection);
      return;
    }
    // Neighbours in key order (AR-RAG concatenates their vectors top-to-bottom, left-to-right); off-grid ones are zero padding.
    const offsets = neighbourOffsets(this.shape, this.hops);
    const cells: Node[] = [];
    offsets.forEach((o, i) => {
      const row = s.row + o.dr;
      const col = s.col + o.dc;
      if (!g.contains(row, col)) return;
      const cr = g.rect(row, col);
      const size = Math.max(1, Math.min(cr.width, cr.height) * 0.42);
      const label = svg('text', { x: cr.x + cr.width / 2, y: cr.y + cr.height / 2, 'font-size': size, 'stroke-width': size * 0.16 }, String(i + 1));
      cells.push(
        svg(
          'g',
          { 'data-testid': 'neighbour-cell', 'data-row': row, 'data-col': col, 'data-order': i + 1 },
          svg('rect', { x: cr.x, y: cr.y, width: cr.width, height: cr.height }),
          label,
        ),
      );
    });
    replaceChildren(this.gNeighbours, ...cells);
    const cr = g.rect(s.row, s.col);
    const token = this.tokens ? this.tokens[s.row * g.cols + s.col] : undefined;
    replaceChildren(
      this.gSelection,
      svg('rect', { class: 'selected-halo', x: cr.x, y: cr.y, width: cr.width, height: cr.height }),
      svg('rect', {
        'data-testid': 'selected-patch',
        'data-row': s.row,
        'data-col': s.col,
        'data-token': token,
        x: cr.x,
        y: cr.y,
        width: cr.width,
        height: cr.height,
      }),
    );
  }

  // ------------------------------------------------------------ zoom and pan

  /** Zoom factor, or null while fitting the view. */
  get view(): { zoom: number | null; centerX: number; centerY: number } {
    const r = this.element.getBoundingClientRect();
    return { zoom: this.fitting ? null : this.zoom, centerX: (r.width / 2 - this.tx) / this.zoom, centerY: (r.height / 2 - this.ty) / this.zoom };
  }

  /** Restores a zoom (null: fit) centred on an image point. */
  setView(zoom: number | null, centerX: number, centerY: number): void {
    if (zoom === null) return this.fit(false);
    const r = this.element.getBoundingClientRect();
    this.fitting = false;
    this.zoom = clamp(zoom, MIN_ZOOM, MAX_ZOOM);
    this.tx = r.width / 2 - centerX * this.zoom;
    this.ty = r.height / 2 - centerY * this.zoom;
    this.applyTransform();
  }

  fit(notify = true): void {
    const r = this.element.getBoundingClientRect();
    this.fitting = true;
    if (this.imageWidth > 0 && this.imageHeight > 0 && r.width > 0 && r.height > 0) {
      const pad = 16;
      this.zoom = clamp(Math.min((r.width - pad) / this.imageWidth, (r.height - pad) / this.imageHeight), MIN_ZOOM, MAX_ZOOM);
      this.tx = (r.width - this.imageWidth * this.zoom) / 2;
      this.ty = (r.height - this.imageHeight * this.zoom) / 2;
    }
    this.applyTransform();
    if (notify) this.events.onViewChange();
  }

  /** Zooms by a factor around a point of the viewport (default: the selected patch, else the centre). */
  zoomBy(factor: number, atX?: number, atY?: number): void {
    const r = this.element.getBoundingClientRect();
    const s =
      atX === undefined && this.selection && this.geometry?.contains(this.selection.row, this.selection.col)
        ? this.geometry.rect(this.selection.row, this.selection.col)
        : undefined;
    const px = atX ?? (s ? this.tx + (s.x + s.width / 2) * this.zoom : r.width / 2);
    const py = atY ?? (s ? this.ty + (s.y + s.height / 2) * this.zoom : r.height / 2);
    const z = clamp(this.zoom * factor, MIN_ZOOM, MAX_ZOOM);
    const ix = (px - this.tx) / this.zoom;
    const iy = (py - this.ty) / this.zoom;
    this.zoom = z;
    this.tx = px - ix * z;
    this.ty = py - iy * z;
    this.fitting = false;
    this.applyTransform();
    // A selected patch that was outside the view comes into it.
    if (s && this.selection) this.reveal(this.selection);
    this.events.onViewChange();
  }

  private panBy(dx: number, dy: number): void {
    this.tx += dx;
    this.ty += dy;
    this.fitting = false;
    this.applyTransform();
  }

  private applyTransform(): void {
    this.stage.style.transform = `translate(${this.tx}px, ${this.ty}px) scale(${this.zoom})`;
    this.element.style.setProperty('--zoom', String(this.zoom));
    this.element.dataset.zoom = this.zoom.toFixed(4);
    this.zoomLabel.textContent = `${Math.round(this.zoom * 100)}%`;
    // Show the image's pixels as squares when magnified, like VS Code's image preview.
    this.element.classList.toggle('magnified', this.zoom >= 2);
  }

  /** Pans so that a cell is inside the view. */
  private reveal(cell: Cell): void {
    const g = this.geometry;
    if (!g) return;
    const r = this.element.getBoundingClientRect();
    const c = g.rect(cell.row, cell.col);
    const margin = 24;
    const left = this.tx + c.x * this.zoom;
    const top = this.ty + c.y * this.zoom;
    const right = left + c.width * this.zoom;
    const bottom = top + c.height * this.zoom;
    let dx = 0;
    let dy = 0;
    if (left < margin) dx = margin - left;
    else if (right > r.width - margin) dx = r.width - margin - right;
    if (top < margin) dy = margin - top;
    else if (bottom > r.height - margin) dy = r.height - margin - bottom;
    if (dx || dy) {
      this.panBy(dx, dy);
      this.events.onViewChange();
    }
  }

  // ------------------------------------------------------------ input

  private imagePoint(e: { clientX: number; clientY: number }): { x: number; y: number; vx: number; vy: number } {
    const r = this.element.getBoundingClientRect();
    const vx = e.clientX - r.left;
    const vy = e.clientY - r.top;
    return { x: (vx - this.tx) / this.zoom, y: (vy - this.ty) / this.zoom, vx, vy };
  }

  private attachPointer(): void {
    let down: { x: number; y: number; id: number; panning: boolean; button: number } | undefined;
    const el = this.element;
    el.addEventListener('pointerdown', (e) => {
      if (e.button !== 0 && e.button !== 1) return;
      // The element takes focus by itself (tabindex), without the keyboard focus ring.
      down = { x: e.clientX, y: e.clientY, id: e.pointerId, panning: e.button === 1, button: e.button };
      if (e.button === 1) e.preventDefault();
    });
    el.addEventListener('pointermove', (e) => {
      if (down && e.pointerId === down.id) {
        const dx = e.clientX - down.x;
        const dy = e.clientY - down.y;
        if (!down.panning && Math.hypot(dx, dy) > DRAG_THRESHOLD) {
          down.panning = true;
          el.setPointerCapture(e.pointerId);
          el.classList.add('panning');
        }
        if (down.panning) {
          this.panBy(dx, dy);
          down.x = e.clientX;
          down.y = e.clientY;
          this.hideTooltip();
          return;
        }
      }
      this.showTooltip(e);
    });
    const finish = (e: PointerEvent, cancelled: boolean) => {
      if (!down || e.pointerId !== down.id) return;
      const wasPanning = down.panning;
      const button = down.button;
      down = undefined;
      el.classList.remove('panning');
      if (el.hasPointerCapture(e.pointerId)) el.releasePointerCapture(e.pointerId);
      if (wasPanning) return this.events.onViewChange();
      if (cancelled || button !== 0) return;
      const p = this.imagePoint(e);
      const cell = this.geometry?.cellAt(p.x, p.y);
      if (cell) {
        this.setSelection(cell);
        this.events.onSelect(cell, 'click');
      }
    };
    el.addEventListener('pointerup', (e) => finish(e, false));
    el.addEventListener('pointercancel', (e) => finish(e, true));
    el.addEventListener('pointerleave', () => this.hideTooltip());
    el.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault();
        const p = this.imagePoint(e);
        // Pinch gestures and Ctrl/Cmd+wheel zoom; a plain wheel or two-finger scroll pans.
        if (e.ctrlKey || e.metaKey) this.zoomBy(Math.exp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.002)), p.vx, p.vy);
        else {
          this.panBy(-e.deltaX, -e.deltaY);
          this.events.onViewChange();
        }
        this.hideTooltip();
      },
      { passive: false },
    );
  }

  private onKey(e: KeyboardEvent): void {
    const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const g = this.geometry;
    if (e.key in moves && g) {
      e.preventDefault();
      const [dr, dc] = moves[e.key];
      const step = e.shiftKey ? 4 : 1;
      const from = this.selection ?? { row: Math.floor(g.rows / 2), col: Math.floor(g.cols / 2) };
      const cell = this.selection ? { row: clamp(from.row + dr * step, 0, g.rows - 1), col: clamp(from.col + dc * step, 0, g.cols - 1) } : from;
      this.setSelection(cell, true);
      this.events.onSelect(cell, 'key');
    } else if ((e.key === 'Enter' || e.key === ' ') && this.selection) {
      e.preventDefault();
      this.events.onQuery();
    } else if (e.key === '+' || e.key === '=') {
      e.preventDefault();
      this.zoomBy(1.25);
    } else if (e.key === '-' || e.key === '_') {
      e.preventDefault();
      this.zoomBy(0.8);
    } else if (e.key === '0') {
      e.preventDefault();
      this.fit();
    }
  }

  private showTooltip(e: PointerEvent): void {
    const g = this.geometry;
    const t = this.tokens;
    const d = this.distances;
    if (!g || !t || !d) return this.hideTooltip();
    const p = this.imagePoint(e);
    const cell = g.cellAt(p.x, p.y);
    if (!cell) return this.hideTooltip();
    const i = cell.row * g.cols + cell.col;
    // Rebuilt only when the pointer enters another cell (or the grid changed); moving inside one just moves it.
    const same =
      !this.tooltip.hidden && this.tooltipTokens === t && this.tooltip.dataset.row === String(cell.row) && this.tooltip.dataset.col === String(cell.col);
    if (!same)
      replaceChildren(
        this.tooltip,
        el('div', { class: 'tt-title' }, `Patch ${formatCell(cell.row, cell.col)}`),
        el('div', {}, el('span', { class: 'tt-key' }, 'Token '), el('span', { class: 'tt-value', 'data-testid': 'tooltip-token' }, String(t[i]))),
        el('div', {}, el('span', { class: 'tt-key' }, 'Distance to code '), el('span', { class: 'tt-value' }, formatDistance(d[i]))),
        this.hasEntry(cell.row, cell.col) ? null : el('div', { class: 'tt-note' }, 'No database entry (its neighbourhood leaves the grid)'),
      );
    this.tooltip.hidden = false;
    const r = this.element.getBoundingClientRect();
    const w = this.tooltip.offsetWidth;
    const h = this.tooltip.offsetHeight;
    const x = p.vx + 14 + w > r.width ? p.vx - 14 - w : p.vx + 14;
    const y = p.vy + 18 + h > r.height ? p.vy - 10 - h : p.vy + 18;
    this.tooltip.style.transform = `translate(${Math.max(0, x)}px, ${Math.max(0, y)}px)`;
    this.tooltip.dataset.row = String(cell.row);
    this.tooltip.dataset.col = String(cell.col);
    this.tooltipTokens = t;
  }

  private hideTooltip(): void {
    this.tooltip.hidden = true;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
