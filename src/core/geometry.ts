// How an image is fitted to the model's input, and where each grid cell lies
// in the original (EXIF-oriented) image's pixels.

import type { ResizeMode } from './modelManifest';

export interface ResizePlan {
  readonly mode: ResizeMode;
  /** Oriented source size. */
  readonly srcWidth: number;
  readonly srcHeight: number;
  /** Size the source is resized to before cropping (crop) or padding (pad). */
  readonly resizedWidth: number;
  readonly resizedHeight: number;
  /** crop: offset of the model input inside the resized image; pad: offset of the resized image inside the model input. */
  readonly offsetX: number;
  readonly offsetY: number;
  readonly targetWidth: number;
  readonly targetHeight: number;
}

export function planResize(srcWidth: number, srcHeight: number, targetWidth: number, targetHeight: number, mode: ResizeMode): ResizePlan {
  if (!(srcWidth >= 1 && srcHeight >= 1)) throw new RangeError(`bad image size ${srcWidth}x${srcHeight}`);
  const base = { mode, srcWidth, srcHeight, targetWidth, targetHeight };
  if (mode === 'stretch') {
    return { ...base, resizedWidth: targetWidth, resizedHeight: targetHeight, offsetX: 0, offsetY: 0 };
  }
  if (mode === 'crop') {
    const s = Math.max(targetWidth / srcWidth, targetHeight / srcHeight);
    const rw = Math.max(targetWidth, Math.round(srcWidth * s));
    const rh = Math.max(targetHeight, Math.round(srcHeight * s));
    return { ...base, resizedWidth: rw, resizedHeight: rh, offsetX: Math.floor((rw - targetWidth) / 2), offsetY: Math.floor((rh - targetHeight) / 2) };
  }
  const s = Math.min(targetWidth / srcWidth, targetHeight / srcHeight);
  const rw = Math.min(targetWidth, Math.max(1, Math.round(srcWidth * s)));
  const rh = Math.min(targetHeight, Math.max(1, Math.round(srcHeight * s)));
  return { ...base, resizedWidth: rw, resizedHeight: rh, offsetX: Math.floor((targetWidth - rw) / 2), offsetY: Math.floor((targetHeight - rh) / 2) };
}

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface Cell extends Rect {
  readonly row: number;
  readonly col: number;
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

/** Maps a rectangle in model-input pixels to source pixels (clipped to the source; empty where it only covers padding). */
export function modelRectToSource(plan: ResizePlan, r: Rect): Rect {
  const sx = plan.srcWidth / plan.resizedWidth;
  const sy = plan.srcHeight / plan.resizedHeight;
  const sign = plan.mode === 'pad' ? -1 : 1;
  let x0 = (r.x + sign * plan.offsetX) * sx;
  let y0 = (r.y + sign * plan.offsetY) * sy;
  let x1 = (r.x + r.width + sign * plan.offsetX) * sx;
  let y1 = (r.y + r.height + sign * plan.offsetY) * sy;
  x0 = Math.min(Math.max(x0, 0), plan.srcWidth);
  x1 = Math.min(Math.max(x1, 0), plan.srcWidth);
  y0 = Math.min(Math.max(y0, 0), plan.srcHeight);
  y1 = Math.min(Math.max(y1, 0), plan.srcHeight);
  return { x: round3(x0), y: round3(y0), width: round3(x1 - x0), height: round3(y1 - y0) };
}

/** The rectangle of every grid cell in source pixels, row-major. */
export function cellRects(plan: ResizePlan, rows: number, cols: number): Cell[] {
  const cw = plan.targetWidth / cols;
  const ch = plan.targetHeight / rows;
  const out: Cell[] = [];
  for (let row = 0; row < rows; row++) {
    for (let col = 0; col < cols; col++) {
      out.push({ row, col, ...modelRectToSource(plan, { x: col * cw, y: row * ch, width: cw, height: ch }) });
    }
  }
  return out;
}

/** A block of grid cells: its top-left cell and its size in cells. */
export interface CellWindow {
  readonly row: number;
  readonly col: number;
  readonly rows: number;
  readonly cols: number;
}

/**
 * The cells a thumbnail of a patch shows: the (2 reach + 1)² around it (3x3 for a retrieved patch's row; the whole h-hop
 * key neighbourhood, reach = h, for Compare on hover), shifted inside the grid at its borders so it stays square, and
 * no larger than the grid.
 */
export function thumbnailWindow(gridRows: number, gridCols: number, row: number, col: number, reach = 1): CellWindow {
  const rows = Math.min(2 * reach + 1, gridRows);
  const cols = Math.min(2 * reach + 1, gridCols);
  return { row: Math.max(0, Math.min(gridRows - rows, row - reach)), col: Math.max(0, Math.min(gridCols - cols, col - reach)), rows, cols };
}

/** The source-pixel rectangle covering a window's cells (`cells` row-major, `gridCols` wide); at least 1x1. */
export function windowRect(cells: readonly Rect[], gridCols: number, w: CellWindow): Rect {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let r = w.row; r < w.row + w.rows; r++) {
    for (let c = w.col; c < w.col + w.cols; c++) {
      const cell = cells[r * gridCols + c];
      x0 = Math.min(x0, cell.x);
      y0 = Math.min(y0, cell.y);
      x1 = Math.max(x1, cell.x + cell.width);
      y1 = Math.max(y1, cell.y + cell.height);
    }
  }
  return { x: x0, y: y0, width: Math.max(1, x1 - x0), height: Math.max(1, y1 - y0) };
}
