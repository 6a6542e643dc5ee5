// The decoder's reconstruction of the token grid beside the original, and a
// heatmap of the per-pixel error between the two at the model's input size.
// The original is brought to that size cell by cell from the engine's cell
// rectangles, so it matches what the encoder saw (crop, stretch or padding).

import { formatSignificant } from '../../src/core/format';
import { el, replaceChildren } from '../shared/dom';
import type { GridGeometry } from './gridGeometry';
import type { Cell } from './viewState';

export interface ReconstructionInput {
  /** The decoder output (PNG bytes). */
  readonly reconstruction: Uint8Array;
  /** The original image, decoded; its size may differ from the grid's image size (a converted TIFF). None for a code row (tokens only). */
  readonly original: ImageBitmap | HTMLImageElement | undefined;
  readonly geometry: GridGeometry;
}

export class ReconstructionPane {
  readonly element: HTMLElement;
  private readonly body: HTMLElement;
  private readonly markers: HTMLElement[] = [];
  private rows = 0;
  private cols = 0;

  constructor() {
    this.body = el('div', { class: 'recon-body' });
    this.element = el('div', { class: 'recon-pane', 'data-testid': 'reconstruction', hidden: true }, this.body);
  }

  setVisible(visible: boolean): void {
    this.element.hidden = !visible;
  }

  showMessage(text: string, kind: 'info' | 'error' = 'info'): void {
    this.markers.length = 0;
    replaceChildren(this.body, el('div', { class: `list-message ${kind}` }, text));
  }

  async render(input: ReconstructionInput): Promise<void> {
    const recon = await createImageBitmap(new Blob([input.reconstruction as Uint8Array<ArrayBuffer>], { type: 'image/png' }));
    const w = recon.width;
    const h = recon.height;
    const { geometry: g, original } = input;
    this.rows = g.rows;
    this.cols = g.cols;
    const reconCanvas = el('canvas', { class: 'recon-canvas', width: w, height: h, 'data-testid': 'reconstruction-image' });
    reconCanvas.getContext('2d')!.drawImage(recon, 0, 0);
    recon.close();
    this.markers.length = 0;
    const framed = (canvas: HTMLCanvasElement, title: string) => {
      const marker = el('div', { class: 'recon-marker', hidden: true });
      this.markers.push(marker);
      return el('figure', { class: 'recon-figure' }, el('div', { class: 'recon-frame' }, canvas, marker), el('figcaption', {}, title));
    };
    if (!original) {
      replaceChildren(
        this.body,
        framed(reconCanvas, `Reconstruction (${w}×${h}) from the token grid`),
        el(
          'div',
          { class: 'recon-stats', 'data-testid': 'reconstruction-note' },
          'A row of a code shard holds tokens only: no pixels to measure the error against.',
        ),
      );
      return;
    }

    // The original at model-input size, cell by cell.
    const orig = new OffscreenCanvas(w, h);
    const octx = orig.getContext('2d')!;
    const sx = (original.width || g.imageWidth) / g.imageWidth;
    const sy = (original.height || g.imageHeight) / g.imageHeight;
    const valid = new Uint8Array(w * h);
    const cw = w / g.cols;
    const ch = h / g.rows;
    for (let r = 0; r < g.rows; r++) {
      for (let c = 0; c < g.cols; c++) {
        const cell = g.rect(r, c);
        if (cell.width <= 0 || cell.height <= 0) continue; // padding only: nothing of the image to compare
        const dx = Math.round(c * cw);
        const dy = Math.round(r * ch);
        const dw = Math.round((c + 1) * cw) - dx;
        const dh = Math.round((r + 1) * ch) - dy;
        octx.drawImage(original, cell.x * sx, cell.y * sy, cell.width * sx, cell.height * sy, dx, dy, dw, dh);
        for (let y = dy; y < dy + dh; y++) valid.fill(1, y * w + dx, y * w + dx + dw);
      }
    }
    const rctx = new OffscreenCanvas(w, h).getContext('2d')!;
    rctx.drawImage(reconCanvas, 0, 0);
    const a = octx.getImageData(0, 0, w, h).data;
    const b = rctx.getImageData(0, 0, w, h).data;

    // Per-pixel mean absolute error over RGB, as a heatmap; PSNR over the compared pixels.
    const heat = new ImageData(w, h);
    let se = 0;
    let n = 0;
    for (let p = 0; p < w * h; p++) {
      const i = p * 4;
      if (!valid[p]) {
        heat.data[i + 3] = 0;
        continue;
      }
      const dr = a[i] - b[i];
      const dg = a[i + 1] - b[i + 1];
      const db = a[i + 2] - b[i + 2];
      se += dr * dr + dg * dg + db * db;
      n += 3;
      const e = (Math.abs(dr) + Math.abs(dg) + Math.abs(db)) / (3 * 255);
      heatColourInto(heat.data, i, Math.min(1, e * 2)); // errors above 50% saturate
    }
    const mse = n ? se / n : 0;
    const psnr = mse > 0 ? 10 * Math.log10((255 * 255) / mse) : Infinity;

    const heatCanvas = el('canvas', { class: 'recon-canvas heat', width: w, height: h, 'data-testid': 'error-heatmap' });
    heatCanvas.getContext('2d')!.putImageData(heat, 0, 0);
    const legend = el('div', { class: 'heat-legend' }, el('span', {}, '0'), el('div', { class: 'heat-ramp' }), el('span', {}, '≥ 50%'));
    replaceChildren(
      this.body,
      framed(reconCanvas, `Reconstruction (${w}×${h}) from the token grid`),
      framed(heatCanvas, 'Error |x − x̂| per pixel'),
      legend,
      el(
        'div',
        { class: 'recon-stats', 'data-testid': 'reconstruction-stats', 'data-psnr': Number.isFinite(psnr) ? psnr.toFixed(2) : 'inf' },
        `PSNR ${Number.isFinite(psnr) ? formatSignificant(psnr) : '∞'} dB · RMSE ${formatSignificant(Math.sqrt(mse))} (of 255)`,
      ),
    );
  }

  /** Outlines the selected patch on both images. */
  setSelection(cell: Cell | null): void {
    for (const m of this.markers) {
      if (!cell || !this.rows) {
        m.hidden = true;
        continue;
      }
      m.hidden = false;
      m.style.left = `${(cell.col / this.cols) * 100}%`;
      m.style.top = `${(cell.row / this.rows) * 100}%`;
      m.style.width = `${100 / this.cols}%`;
      m.style.height = `${100 / this.rows}%`;
    }
  }
}

/** Writes pixel i of a black-red-yellow-white ramp (perceptually ordered, readable on light and dark), opaque. */
function heatColourInto(data: Uint8ClampedArray, i: number, t: number): void {
  data[i] = Math.round(Math.min(1, t * 3) * 255);
  data[i + 1] = Math.round(Math.min(1, Math.max(0, t * 3 - 1)) * 255);
  data[i + 2] = Math.round(Math.min(1, Math.max(0, t * 3 - 2)) * 255);
  data[i + 3] = 255;
}
