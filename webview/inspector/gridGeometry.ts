// Where the token grid lies on the image: each cell's rectangle in image
// pixels (as the engine computed them from the model's resize plan), the
// column and row edges for hit-testing, and the part of the image the model
// sees (a centre crop leaves the sides out).

import type { Rect } from '../../src/core/geometry';

export class GridGeometry {
  /** Column edges (cols + 1) and row edges (rows + 1) in image pixels. */
  readonly xs: Float64Array;
  readonly ys: Float64Array;

  constructor(
    readonly rows: number,
    readonly cols: number,
    /** x, y, width, height per cell, row-major. */
    private readonly cells: Readonly<Float32Array>,
    readonly imageWidth: number,
    readonly imageHeight: number,
  ) {
    // x extents do not depend on the row, nor y extents on the column (also with padding).
    this.xs = new Float64Array(cols + 1);
    for (let c = 0; c < cols; c++) this.xs[c] = cells[c * 4];
    this.xs[cols] = cells[(cols - 1) * 4] + cells[(cols - 1) * 4 + 2];
    this.ys = new Float64Array(rows + 1);
    for (let r = 0; r < rows; r++) this.ys[r] = cells[r * cols * 4 + 1];
    this.ys[rows] = cells[(rows - 1) * cols * 4 + 1] + cells[(rows - 1) * cols * 4 + 3];
  }

  contains(row: number, col: number): boolean {
    return Number.isInteger(row) && Number.isInteger(col) && row >= 0 && col >= 0 && row < this.rows && col < this.cols;
  }

  rect(row: number, col: number): Rect {
    const i = (row * this.cols + col) * 4;
    return { x: this.cells[i], y: this.cells[i + 1], width: this.cells[i + 2], height: this.cells[i + 3] };
  }

  /** The cell under an image point, or undefined outside the grid (or on a cell that only covers padding). */
  cellAt(x: number, y: number): { row: number; col: number } | undefined {
    const col = edgeIndex(this.xs, x);
    const row = edgeIndex(this.ys, y);
    if (col < 0 || row < 0) return undefined;
    const r = this.rect(row, col);
    if (r.width <= 0 || r.height <= 0) return undefined;
    return { row, col };
  }

  /** The part of the image the model sees. */
  get viewRect(): Rect {
    return { x: this.xs[0], y: this.ys[0], width: this.xs[this.cols] - this.xs[0], height: this.ys[this.rows] - this.ys[0] };
  }

  /** Whether the model sees less than the whole image (a crop). */
  get cropsImage(): boolean {
    const v = this.viewRect;
    const eps = 0.5;
    return v.x > eps || v.y > eps || v.x + v.width < this.imageWidth - eps || v.y + v.height < this.imageHeight - eps;
  }
}

/** The interval i with edges[i] <= v < edges[i + 1], or -1. */
function edgeIndex(edges: Readonly<Float64Array>, v: number): number {
  const n = edges.length - 1;
  if (!(v >= edges[0]) || v >= edges[n]) return v === edges[n] && n > 0 ? n - 1 : -1;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (edges[mid] <= v) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
