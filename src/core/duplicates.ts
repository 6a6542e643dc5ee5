// Duplicate and leak finding on token grids. Identical w x w token windows are
// exact evidence of shared content; the matching windows say which cells are
// shared. Two passes over the images keep memory bounded by the number of
// distinct windows, never by the number of image pairs:
//   1. count every window (64-bit hash -> occurrences, saturating);
//   2. keep only windows seen 2..maxBucket times, post their occurrences, and
//      pair the images that share them.
// Windows seen more than maxBucket times (a uniform background, a codebook's
// "flat" token) are dropped as evidence: they would pair everything with
// everything, and they say nothing about copying.

export const DEFAULT_WINDOW = 3;
export const DEFAULT_MAX_BUCKET = 64;
export const DEFAULT_PAIR_LIMIT = 100;

const MAX_LOAD = 0.7;
const COUNT_MAX = 0xffff;

/**
 * Writes the 64-bit hash (two 32-bit lanes) of every w x w window of a
 * row-major token grid; window (r, c) lands at r * (cols - w + 1) + c.
 * Returns the number of windows.
 */
export function windowHashes(tokens: Readonly<Int32Array>, rows: number, cols: number, w: number, outHi: Uint32Array, outLo: Uint32Array): number {
  const wr = rows - w + 1;
  const wc = cols - w + 1;
  if (wr <= 0 || wc <= 0) return 0;
  let n = 0;
  for (let r = 0; r < wr; r++) {
    for (let c = 0; c < wc; c++) {
      let h1 = 0x9747b28c;
      let h2 = 0x85ebca6b ^ (w * 0x01000193);
      for (let dr = 0; dr < w; dr++) {
        const base = (r + dr) * cols + c;
        for (let dc = 0; dc < w; dc++) {
          const t = tokens[base + dc] | 0;
          h1 = Math.imul(h1 ^ t, 0xcc9e2d51);
          h1 = (h1 << 13) | (h1 >>> 19);
          h2 = Math.imul(h2 ^ t, 0x1b873593) + 0x7a2d;
          h2 = (h2 << 17) | (h2 >>> 15);
        }
      }
      outHi[n] = fmix32(h1 ^ Math.imul(h2, 0x2545f491));
      outLo[n] = fmix32(h2 ^ h1);
      n++;
    }
  }
  return n;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * An open-addressing hash table from 64-bit window hashes to a saturating
 * occurrence count: 10 bytes a slot, at most 70% full. (0, 0) marks an empty
 * slot, so a hash that is (0, 0) is stored as (0, 1).
 */
export class WindowCounts {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private counts: Uint16Array;
  private used = 0;

  constructor(initialCapacity = 1 << 12) {
    const cap = 1 << Math.max(4, Math.ceil(Math.log2(initialCapacity / MAX_LOAD)));
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.counts = new Uint16Array(cap);
  }

  /** Distinct windows held. */
  get size(): number {
    return this.used;
  }

  get capacity(): number {
    return this.hi.length;
  }

  /** Bytes of the table's arrays. */
  get bytes(): number {
    return this.capacity * 10;
  }

  private find(hi: number, lo: number): number {
    const mask = this.hi.length - 1;
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask;
    for (;;) {
      const h = this.hi[i];
      const l = this.lo[i];
      if ((h === hi && l === lo) || (h === 0 && l === 0)) return i;
      i = (i + 1) & mask;
    }
  }

  /** Adds `by` occurrences of a window. */
  add(hi: number, lo: number, by = 1): void {
    if (hi === 0 && lo === 0) lo = 1;
    let i = this.find(hi, lo);
    if (this.hi[i] === 0 && this.lo[i] === 0) {
      if (this.used + 1 > this.hi.length * MAX_LOAD) {
        this.grow();
        i = this.find(hi, lo);
      }
      this.hi[i] = hi;
      this.lo[i] = lo;
      this.used++;
    }
    this.counts[i] = Math.min(COUNT_MAX, this.counts[i] + by);
  }

  /** Occurrences of a window (saturated at 65535); 0 when absent. */
  count(hi: number, lo: number): number {
    if (hi === 0 && lo === 0) lo = 1;
    return this.counts[this.find(hi, lo)];
  }

  /** Slot of a window, -1 when absent (slots are stable until the table grows). */
  slot(hi: number, lo: number): number {
    if (hi === 0 && lo === 0) lo = 1;
    const i = this.find(hi, lo);
    return this.hi[i] === 0 && this.lo[i] === 0 ? -1 : i;
  }

  /** Calls f for every window held. */
  forEach(f: (hi: number, lo: number, count: number) => void): void {
    for (let i = 0; i < this.hi.length; i++) if (this.hi[i] !== 0 || this.lo[i] !== 0) f(this.hi[i], this.lo[i], this.counts[i]);
  }

  private grow(): void {
    const { hi, lo, counts } = this;
    const cap = hi.length * 2;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.counts = new Uint16Array(cap);
    for (let j = 0; j < hi.length; j++) {
      if (hi[j] === 0 && lo[j] === 0) continue;
      const i = this.find(hi[j], lo[j]);
      this.hi[i] = hi[j];
      this.lo[i] = lo[j];
      this.counts[i] = counts[j];
    }
  }
}

/** One image as the finder reads it. */
export interface TokenImage {
  /** Relative to its dataset root, '/'-separated. */
  readonly path: string;
  /** Content hash of the file (identical files share it). */
  readonly sha256: string;
  /** Row-major rows x cols token ids. */
  readonly tokens: Readonly<Int32Array>;
}

/**
 * A set of token grids that can be read more than once, one image at a time
 * (a database backend streams them; nothing needs all of them at once).
 */
export interface TokenSource {
  readonly rows: number;
  readonly cols: number;
  readonly count: number;
  images(): Iterable<TokenImage> | AsyncIterable<TokenImage>;
}

export interface CellPair {
  readonly a: readonly [number, number];
  readonly b: readonly [number, number];
}

export interface DuplicatePair {
  readonly a: string;
  readonly b: string;
  /** Fraction of the smaller image's cells that are shared. */
  readonly score: number;
  readonly sharedCells: number;
  /** The shared cells, row-major indices: [cell in a, cell in b, ...], by cell in a. */
  readonly cells: Int32Array;
  /** Same content hash: the two files are byte-identical. */
  readonly identical: boolean;
}

/** A pair as the CLI's JSON has it: cells as { a: [row, col], b: [row, col] }. */
export function pairJson(p: DuplicatePair, cols: number): { a: string; b: string; score: number; sharedCells: number; cells: CellPair[]; identical: boolean } {
  const cells: CellPair[] = [];
  for (let i = 0; i < p.cells.length; i += 2)
    cells.push({ a: [Math.floor(p.cells[i] / cols), p.cells[i] % cols], b: [Math.floor(p.cells[i + 1] / cols), p.cells[i + 1] % cols] });
  return { a: p.a, b: p.b, score: p.score, sharedCells: p.sharedCells, cells, identical: p.identical };
}

export interface FindOptions {
  /** Window side w (1 .. min(rows, cols)). */
  readonly window?: number;
  /** Fewest shared cells a reported pair has (default w * w: one window). */
  readonly minShared?: number;
  /** Pairs reported, best first. */
  readonly limit?: number;
  /** Windows seen more often than this are not evidence (uniform backgrounds). */
  readonly maxBucket?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: FindProgress) => void;
  /**
   * Extra single-cell correspondences (near mode), after the windows: gets a
   * function that records cell ca of image ia as matching cell cb of image ib
   * (images numbered across the sources in order, cells row-major).
   */
  readonly extra?: (record: (ia: number, ca: number, ib: number, cb: number) => void) => Promise<void> | void;
}

/** The phases of a search, in order: counting and posting windows, pairing, near matches, ranking. */
export const FIND_PHASES = ['count', 'pair', 'near', 'rank'] as const;
export type FindPhase = (typeof FIND_PHASES)[number];

export interface FindProgress {
  readonly phase: FindPhase;
  readonly done: number;
  readonly total: number;
}

export interface FindStats {
  readonly images: number;
  readonly windows: number;
  readonly distinctWindows: number;
  /** Windows in 2 .. maxBucket images' worth of occurrences: the evidence. */
  readonly sharedWindows: number;
  /** Distinct windows dropped for occurring more than maxBucket times. */
  readonly commonWindows: number;
  readonly candidatePairs: number;
  /** Peak bytes of the window tables. */
  readonly tableBytes: number;
}

export interface FindResult {
  readonly pairs: DuplicatePair[];
  readonly totalPairs: number;
  readonly stats: FindStats;
}

export class DuplicateOptionError extends RangeError {
  override name = 'DuplicateOptionError';
}

export class DuplicatesCancelledError extends Error {
  override name = 'DuplicatesCancelledError';
  constructor() {
    super('duplicate search cancelled');
  }
}

export function checkAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  const why: unknown = signal.reason;
  throw why instanceof Error && why.name !== 'AbortError' ? why : new DuplicatesCancelledError();
}

/**
 * Ranks image pairs by shared patch content. With one source every pair of
 * its images is a candidate; with two (a test set and a training set) only
 * pairs across them, `a` from the first and `b` from the second.
 */
export async function findDuplicates(sources: readonly TokenSource[], opts: FindOptions = {}): Promise<FindResult> {
  if (sources.length < 1 || sources.length > 2) throw new DuplicateOptionError('one or two token sources');
  const { rows, cols } = sources[0];
  for (const s of sources) {
    if (s.rows !== rows || s.cols !== cols) throw new DuplicateOptionError(`token grids differ (${rows}x${cols} and ${s.rows}x${s.cols})`);
  }
  const w = opts.window ?? DEFAULT_WINDOW;
  if (!Number.isInteger(w) || w < 1 || w > Math.min(rows, cols))
    throw new DuplicateOptionError(`the window must be an integer from 1 to ${Math.min(rows, cols)} for a ${rows}x${cols} grid, got ${w}`);
  const minShared = opts.minShared ?? w * w;
  const limit = opts.limit ?? DEFAULT_PAIR_LIMIT;
  const maxBucket = Math.min(COUNT_MAX - 1, opts.maxBucket ?? DEFAULT_MAX_BUCKET);
  const across = sources.length === 2;
  const cells = rows * cols;
  const wc = cols - w + 1;
  const perImage = (rows - w + 1) * wc;
  const hi = new Uint32Array(perImage);
  const lo = new Uint32Array(perImage);
  const total = sources.reduce((a, s) => a + s.count, 0);
  const progress = (phase: FindProgress['phase'], done: number, of: number) => opts.onProgress?.({ phase, done, total: of });
  const paths: string[] = [];
  const hashes: string[] = [];

  // Pass 1: occurrences of every distinct window.
  const counts = new WindowCounts(Math.min(1 << 22, Math.max(1 << 10, total * perImage)));
  let done = 0;
  let windows = 0;
  for (const s of sources) {
    for await (const img of s.images()) {
      checkAborted(opts.signal);
      paths.push(img.path);
      hashes.push(img.sha256);
      const n = windowHashes(img.tokens as Int32Array, rows, cols, w, hi, lo);
      for (let i = 0; i < n; i++) counts.add(hi[i], lo[i]);
      windows += n;
      if (++done % 256 === 0) progress('count', done, 2 * total);
    }
  }
  if (paths.length !== total) throw new DuplicateOptionError(`the sources listed ${total} images but gave ${paths.length}`);
  const firstOfSecond = across ? sources[0].count : total;

  // The evidence: windows seen 2 .. maxBucket times, in a table of their own
  // with room for their occurrences (the big table is dropped here).
  let sharedWindows = 0;
  let commonWindows = 0;
  let postings = 0;
  counts.forEach((_h, _l, c) => {
    if (c >= 2 && c <= maxBucket) {
      sharedWindows++;
      postings += c;
    } else if (c > maxBucket) commonWindows++;
  });
  const distinctWindows = counts.size;
  let tableBytes = counts.bytes;
  const shared = new WindowCounts(Math.max(16, sharedWindows));
  counts.forEach((h, l, c) => {
    if (c >= 2 && c <= maxBucket) shared.add(h, l, 0);
  });
  const start = new Int32Array(shared.capacity + 1);
  counts.forEach((h, l, c) => {
    if (c >= 2 && c <= maxBucket) start[shared.slot(h, l) + 1] = c;
  });
  for (let i = 0; i < shared.capacity; i++) start[i + 1] += start[i];
  const fill = start.slice(0, shared.capacity);
  const postImage = new Int32Array(postings);
  const postWindow = new Int32Array(postings);
  tableBytes = Math.max(tableBytes, counts.bytes + shared.bytes + start.byteLength * 2 + postings * 8);

  // Pass 2: post the occurrences of shared windows.
  let image = 0;
  for (const s of sources) {
    for await (const img of s.images()) {
      checkAborted(opts.signal);
      const n = windowHashes(img.tokens as Int32Array, rows, cols, w, hi, lo);
      for (let i = 0; i < n; i++) {
        const slot = shared.slot(hi[i], lo[i]);
        if (slot < 0) continue;
        const at = fill[slot]++;
        postImage[at] = image;
        postWindow[at] = i;
      }
      image++;
      if (++done % 256 === 0) progress('count', done, 2 * total);
    }
  }
  progress('count', 2 * total, 2 * total);

  // Pairing: every two occurrences of a shared window in two different images
  // (across the two sources when there are two) is a window correspondence.
  const pairKey = (a: number, b: number) => a * total + b;
  const events = new Map<number, number[]>();
  const windowCell = (i: number) => Math.floor(i / wc) * cols + (i % wc);
  const record = (ia: number, ca: number, ib: number, cb: number, isWindow: boolean) => {
    if (ia === ib) return;
    if (across && ia < firstOfSecond === ib < firstOfSecond) return;
    if (ia > ib) [ia, ca, ib, cb] = [ib, cb, ia, ca];
    const key = pairKey(ia, ib);
    let list = events.get(key);
    if (!list) events.set(key, (list = []));
    // window correspondences as positive codes, single cells as negative
    list.push(isWindow ? ca * cells + cb + 1 : -(ca * cells + cb + 1));
  };
  for (let s = 0; s < shared.capacity; s++) {
    const b0 = start[s];
    const b1 = start[s + 1];
    if (b1 - b0 < 2) continue;
    for (let p = b0; p < b1; p++) {
      for (let q = p + 1; q < b1; q++) {
        if (postImage[p] === postImage[q]) continue;
        record(postImage[p], windowCell(postWindow[p]), postImage[q], windowCell(postWindow[q]), true);
      }
    }
    if ((s & 0xffff) === 0) {
      checkAborted(opts.signal);
      progress('pair', s, shared.capacity);
    }
  }
  if (opts.extra) await opts.extra((ia, ca, ib, cb) => record(ia, ca, ib, cb, false));

  // Identical files pair whatever their tokens say.
  const identical = new Set<number>();
  const byHash = new Map<string, number[]>();
  hashes.forEach((h, i) => {
    if (!h) return;
    const g = byHash.get(h);
    if (g) g.push(i);
    else byHash.set(h, [i]);
  });
  for (const group of byHash.values()) {
    for (let x = 0; x < group.length; x++) {
      for (let y = x + 1; y < group.length; y++) {
        const [a, b] = [group[x], group[y]];
        if (across && a < firstOfSecond === b < firstOfSecond) continue;
        identical.add(pairKey(a, b));
      }
    }
  }

  // Ranking: one-to-one cell matching per candidate pair.
  const ranked: { key: number; shared: number; cells: Int32Array | undefined }[] = [];
  let k = 0;
  for (const [key, list] of events) {
    if (identical.has(key)) continue;
    const matched = matchCells(list, rows, cols, w);
    if (matched.length / 2 >= minShared) ranked.push({ key, shared: matched.length / 2, cells: matched });
    if ((++k & 0x3fff) === 0) {
      checkAborted(opts.signal);
      progress('rank', k, events.size);
    }
  }
  for (const key of identical) ranked.push({ key, shared: cells, cells: undefined });
  ranked.sort((x, y) => y.shared - x.shared || x.key - y.key);
  const pairs = ranked.slice(0, limit).map(({ key, shared: n, cells: m }): DuplicatePair => {
    const a = Math.floor(key / total);
    const b = key % total;
    let list = m;
    if (!list) {
      list = new Int32Array(2 * cells);
      for (let c = 0; c < cells; c++) list[2 * c] = list[2 * c + 1] = c;
    }
    return { a: paths[a], b: paths[b], score: n / cells, sharedCells: n, cells: list, identical: !m };
  });
  progress('rank', events.size, events.size);
  return {
    pairs,
    totalPairs: ranked.length,
    stats: { images: total, windows, distinctWindows, sharedWindows, commonWindows, candidatePairs: events.size + identical.size, tableBytes },
  };
}

/**
 * A one-to-one matching of two images' cells from window correspondences
 * (positive codes: ca * cells + cb + 1, the windows' top-left cells) and
 * single-cell ones (the same, negated). Correspondences that agree on an offset
 * are taken first, the most common offset first: a copy or a pasted region
 * moves every cell by the same amount, while a repeated texture matches many
 * ways. Returns [cellA, cellB, ...] sorted by cellA.
 */
export function matchCells(codes: readonly number[], rows: number, cols: number, w: number): Int32Array {
  const cells = rows * cols;
  const ca: number[] = [];
  const cb: number[] = [];
  for (const code of codes) {
    const v = Math.abs(code) - 1;
    const a = Math.floor(v / cells);
    const b = v % cells;
    if (code > 0) {
      for (let dr = 0; dr < w; dr++) {
        for (let dc = 0; dc < w; dc++) {
          ca.push(a + dr * cols + dc);
          cb.push(b + dr * cols + dc);
        }
      }
    } else {
      ca.push(a);
      cb.push(b);
    }
  }
  const offsetOf = (i: number) => {
    const dr = Math.floor(cb[i] / cols) - Math.floor(ca[i] / cols);
    const dc = (cb[i] % cols) - (ca[i] % cols);
    return (dr + rows) * (2 * cols + 1) + (dc + cols);
  };
  const freq = new Map<number, number>();
  for (let i = 0; i < ca.length; i++) freq.set(offsetOf(i), (freq.get(offsetOf(i)) ?? 0) + 1);
  const order = Array.from({ length: ca.length }, (_, i) => i);
  order.sort((x, y) => {
    const ox = offsetOf(x);
    const oy = offsetOf(y);
    return freq.get(oy)! - freq.get(ox)! || ox - oy || ca[x] - ca[y] || cb[x] - cb[y];
  });
  const usedA = new Uint8Array(cells);
  const usedB = new Uint8Array(cells);
  const out: number[] = [];
  for (const i of order) {
    if (usedA[ca[i]] || usedB[cb[i]]) continue;
    usedA[ca[i]] = 1;
    usedB[cb[i]] = 1;
    out.push(i);
  }
  out.sort((x, y) => ca[x] - ca[y]);
  const res = new Int32Array(out.length * 2);
  out.forEach((i, j) => {
    res[2 * j] = ca[i];
    res[2 * j + 1] = cb[i];
  });
  return res;
}
