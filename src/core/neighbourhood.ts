// The h-hop neighbourhood of a patch and the database keys built from it
// (AR-RAG: key = concatenation of the neighbours' vectors, value = the token).

import { MAX_HOPS, MIN_HOPS, type BorderMode, type KeyParams, type NeighbourhoodShape } from './vocabulary';

export { DEFAULT_KEYS, MAX_HOPS, describeKeyParams, type BorderMode, type KeyParams, type KeySource, type NeighbourhoodShape } from './vocabulary';

/** A neighbour's position relative to the patch, in rows and columns. */
export interface Offset {
  readonly dr: number;
  readonly dc: number;
}

/**
 * Neighbour offsets in key order (top-to-bottom, left-to-right).
 * causal: rows -h..-1 over columns -h..h, then row 0 over columns -h..-1.
 * ring: the whole (2h+1)^2 square except the centre.
 */
export function neighbourOffsets(shape: NeighbourhoodShape, hops: number): Offset[] {
  assertHops(hops);
  const out: Offset[] = [];
  for (let dr = -hops; dr <= (shape === 'ring' ? hops : 0); dr++) {
    for (let dc = -hops; dc <= hops; dc++) {
      if (dr === 0 && dc === 0) {
        if (shape === 'causal') break; // row 0 stops before the patch itself
        continue;
      }
      out.push({ dr, dc });
    }
  }
  return out;
}

export function assertHops(hops: number): void {
  if (!Number.isInteger(hops) || hops < MIN_HOPS || hops > MAX_HOPS) {
    throw new RangeError(`hops must be an integer from ${MIN_HOPS} to ${MAX_HOPS}, got ${hops}`);
  }
}

/** Number of neighbours: 2h^2 + 2h for causal, (2h+1)^2 - 1 for ring. */
export function neighbourCount(shape: NeighbourhoodShape, hops: number): number {
  assertHops(hops);
  return shape === 'causal' ? 2 * hops * hops + 2 * hops : (2 * hops + 1) ** 2 - 1;
}

export function keyDimension(shape: NeighbourhoodShape, hops: number, dim: number): number {
  return neighbourCount(shape, hops) * dim;
}

/** The rectangle of patch positions that get an entry: all of them with zero padding, else those whose neighbourhood stays inside. */
export interface EntryRange {
  readonly rowStart: number;
  readonly rowEnd: number; // exclusive
  readonly colStart: number;
  readonly colEnd: number; // exclusive
}

export function entryRange(rows: number, cols: number, shape: NeighbourhoodShape, hops: number, border: BorderMode): EntryRange {
  assertHops(hops);
  if (border === 'zero') return { rowStart: 0, rowEnd: rows, colStart: 0, colEnd: cols };
  const rowEnd = shape === 'causal' ? rows : rows - hops;
  const r = { rowStart: hops, rowEnd, colStart: hops, colEnd: cols - hops };
  if (r.rowEnd <= r.rowStart || r.colEnd <= r.colStart) return { rowStart: 0, rowEnd: 0, colStart: 0, colEnd: 0 };
  return r;
}

export function entryCount(rows: number, cols: number, shape: NeighbourhoodShape, hops: number, border: BorderMode): number {
  const r = entryRange(rows, cols, shape, hops, border);
  return (r.rowEnd - r.rowStart) * (r.colEnd - r.colStart);
}

/** Whether (row, col) has an entry in the database. */
export function hasEntry(rows: number, cols: number, shape: NeighbourhoodShape, hops: number, border: BorderMode, row: number, col: number): boolean {
  const r = entryRange(rows, cols, shape, hops, border);
  return row >= r.rowStart && row < r.rowEnd && col >= r.colStart && col < r.colEnd;
}

/** Neighbour positions of (row, col) that fall inside the grid, in key order. */
export function neighbourPositions(
  rows: number,
  cols: number,
  shape: NeighbourhoodShape,
  hops: number,
  row: number,
  col: number,
): { row: number; col: number }[] {
  const out: { row: number; col: number }[] = [];
  for (const o of neighbourOffsets(shape, hops)) {
    const r = row + o.dr;
    const c = col + o.dc;
    if (r >= 0 && r < rows && c >= 0 && c < cols) out.push({ row: r, col: c });
  }
  return out;
}

/**
 * Writes the key of (row, col) into out[outOffset ..]: the neighbours' vectors
 * from `grid` ([rows*cols*dim], row-major), zeros for neighbours off the grid.
 */
export function writeKey(
  grid: Readonly<Float32Array>,
  rows: number,
  cols: number,
  dim: number,
  offsets: readonly Offset[],
  row: number,
  col: number,
  out: Float32Array,
  outOffset = 0,
): void {
  let o = outOffset;
  for (let n = 0; n < offsets.length; n++) {
    const r = row + offsets[n].dr;
    const c = col + offsets[n].dc;
    if (r < 0 || r >= rows || c < 0 || c >= cols) {
      out.fill(0, o, o + dim);
    } else {
      const src = (r * cols + c) * dim;
      for (let k = 0; k < dim; k++) out[o + k] = grid[src + k];
    }
    o += dim;
  }
}

/**
 * Vectors a key is built from: the latents themselves, or the codebook vector
 * of each cell's token (how AR-RAG queries at generation time).
 */
export function codeGrid(
  tokens: Readonly<Int32Array> | Readonly<Uint32Array>,
  codebook: Readonly<Float32Array>,
  dim: number,
  out?: Float32Array,
): Float32Array {
  const grid = out ?? new Float32Array(tokens.length * dim);
  for (let i = 0; i < tokens.length; i++) {
    const src = tokens[i] * dim;
    for (let k = 0; k < dim; k++) grid[i * dim + k] = codebook[src + k];
  }
  return grid;
}

export interface ImageKeys {
  /** [n * keyDim] keys, in entry order (row-major over the entry range). */
  readonly keys: Float32Array;
  /** Grid positions of the entries, [n] each. */
  readonly rows: Int32Array;
  readonly cols: Int32Array;
}

/** All entries of one image, in row-major order. */
export function imageKeys(
  grid: Readonly<Float32Array>,
  rows: number,
  cols: number,
  dim: number,
  params: Pick<KeyParams, 'shape' | 'hops' | 'border'>,
): ImageKeys {
  const offsets = neighbourOffsets(params.shape, params.hops);
  const range = entryRange(rows, cols, params.shape, params.hops, params.border);
  const n = (range.rowEnd - range.rowStart) * (range.colEnd - range.colStart);
  const keyDim = offsets.length * dim;
  const keys = new Float32Array(n * keyDim);
  const rs = new Int32Array(n);
  const cs = new Int32Array(n);
  let e = 0;
  for (let r = range.rowStart; r < range.rowEnd; r++) {
    for (let c = range.colStart; c < range.colEnd; c++) {
      writeKey(grid, rows, cols, dim, offsets, r, c, keys, e * keyDim);
      rs[e] = r;
      cs[e] = c;
      e++;
    }
  }
  return { keys, rows: rs, cols: cs };
}
