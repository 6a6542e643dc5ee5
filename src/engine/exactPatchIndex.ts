// Exact (brute-force) search: the reference every approximate answer is
// measured against, and what `--exact` answers. Keys stay float32 as stored.
//
// The answer is defined in float64: the k live, filter-passing entries
// smallest by (squared L2 summed over the dimensions in order, insertion
// slot), nearest first, ties by label. It is computed in three steps that
// cannot change it:
//  1. a strided sample of the keys gives an upper bound on the k-th distance;
//  2. a WebAssembly SIMD kernel (l2ScanKernel) streams the keys in float32 and
//     keeps only slots within that bound, widened by a proven bound on float32
//     rounding; keys are stored in planes of 8 dimensions, so the kernel drops
//     most keys after reading their first plane, and reads a fraction of the
//     key bytes;
//  3. the few candidates are re-measured in float64 and ranked; the bound
//     tightens as they come in.
// Where the kernel cannot run (no WebAssembly SIMD, more keys than a 4 GiB
// memory holds, or values so large that float32 squares could overflow), the
// same answer comes from a plain float64 scan of every key.

import type { LabelFilter, PatchIndex, SearchHit } from './patchIndex';
import { WASM_PAGE, scanKernel, type ScanKernel } from './l2ScanKernel';
import { TopK } from '../core/topK';

/** Slots the kernel scans between two updates of the bound (and candidate slots it can return at once). */
const BLOCK = 16384;
/** Vectors of 4 floats in a plane: 8 dimensions, one latent vector of an 8-d tokenizer's key. */
const PLANE_VECTORS = 2;
/** Keys whose values stay below this keep float32 squares and sums far from overflow. */
const SAFE_ABS = 1e15;
/** Largest wasm32 memory (bytes). */
const MAX_MEMORY = 65536 * WASM_PAGE;

export interface ExactIndexOptions {
  /** Use the WebAssembly kernel where it can run (default true); false: the plain float64 scan. */
  readonly kernel?: boolean;
}

export class ExactPatchIndex implements PatchIndex {
  readonly kind = 'exact';
  private labels: Float64Array;
  private count = 0;
  private capacity: number;
  private removed = new Set<number>();
  /** v128 vectors per key (dim rounded up to a multiple of 4; the padding is zeros). */
  private readonly vectors: number;
  private readonly planes: number;
  /** Floats of one key in plane g. */
  private readonly planeFloats: number[];
  private memory?: WebAssembly.Memory;
  private kernel?: ScanKernel;
  /** Byte offsets in the kernel's memory: padded query, candidate slots, keys. */
  private readonly queryAt = 0;
  private readonly outAt: number;
  private readonly keysAt: number;
  /** The keys, plane after plane (a view of the kernel's memory, or a plain array without it). */
  private store: Float32Array;
  /** False once a key is not finite or too large for float32 squares: the plain scan answers. */
  private safe = true;
  private readonly q64: Float64Array;

  constructor(
    readonly dim: number,
    capacity = 1024,
    opts: ExactIndexOptions = {},
  ) {
    this.vectors = Math.ceil(dim / 4);
    this.planes = Math.ceil(this.vectors / PLANE_VECTORS);
    this.planeFloats = Array.from({ length: this.planes }, (_, g) => 4 * Math.min(PLANE_VECTORS, this.vectors - g * PLANE_VECTORS));
    this.outAt = Math.ceil((16 * this.vectors) / 64) * 64;
    this.keysAt = this.outAt + BLOCK * 8;
    this.capacity = Math.max(1, capacity);
    this.labels = new Float64Array(this.capacity);
    this.q64 = new Float64Array(dim);
    const bytes = this.keysAt + this.capacity * 16 * this.vectors;
    if (opts.kernel !== false && typeof WebAssembly === 'object' && bytes <= MAX_MEMORY) {
      try {
        const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / WASM_PAGE) });
        this.kernel = scanKernel(this.vectors, PLANE_VECTORS, memory);
        if (this.kernel) this.memory = memory;
      } catch {
        this.kernel = undefined; // no memory that large: the plain scan
      }
    }
    this.store = this.memory
      ? new Float32Array(this.memory.buffer, this.keysAt, this.capacity * 4 * this.vectors)
      : new Float32Array(this.capacity * 4 * this.vectors);
  }

  get size(): number {
    return this.count - this.removed.size;
  }

  /** Whether searches run the WebAssembly kernel (false: the plain float64 scan). */
  get accelerated(): boolean {
    return this.kernel !== undefined && this.safe;
  }

  /** Float offset in `store` where key `slot`'s plane g starts, for a given capacity. */
  private planeAt(g: number, slot: number, capacity = this.capacity): number {
    return capacity * 4 * PLANE_VECTORS * g + slot * this.planeFloats[g];
  }

  private grow(needed: number): void {
    const cap = Math.max(needed, Math.ceil(this.capacity * 1.5));
    const floats = cap * 4 * this.vectors;
    let next: Float32Array | undefined;
    if (this.memory) {
      const bytes = this.keysAt + floats * 4;
      try {
        if (bytes > MAX_MEMORY) throw new RangeError('beyond a 4 GiB memory');
        const have = this.memory.buffer.byteLength;
        if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / WASM_PAGE));
        next = new Float32Array(this.memory.buffer, this.keysAt, floats);
        // Planes move up to their new starts, the last first, so none overwrites another before it moved.
        for (let g = this.planes - 1; g > 0; g--) next.copyWithin(this.planeAt(g, 0, cap), this.planeAt(g, 0), this.planeAt(g, this.count));
      } catch {
        // The kernel's memory cannot hold them: move the keys to a plain array and scan in JS.
        const old = new Float32Array(this.memory.buffer, this.keysAt, this.capacity * 4 * this.vectors);
        this.memory = undefined;
        this.kernel = undefined;
        this.store = old;
        next = undefined;
      }
    }
    if (!next) {
      next = new Float32Array(floats);
      for (let g = 0; g < this.planes; g++) next.set(this.store.subarray(this.planeAt(g, 0), this.planeAt(g, this.count)), this.planeAt(g, 0, cap));
    }
    const l2 = new Float64Array(cap);
    l2.set(this.labels.subarray(0, this.count));
    this.labels = l2;
    this.store = next;
    this.capacity = cap;
  }

  add(keys: Readonly<Float32Array>, labels: ArrayLike<number>): void {
    const n = labels.length;
    const dim = this.dim;
    if (keys.length !== n * dim) throw new RangeError(`expected ${n * dim} key values, got ${keys.length}`);
    if (this.count + n > this.capacity) this.grow(this.count + n);
    const st = this.store;
    for (let i = 0; i < n; i++) {
      const slot = this.count + i;
      let j = 0;
      for (let g = 0; g < this.planes; g++) {
        const base = this.planeAt(g, slot);
        const w = this.planeFloats[g];
        for (let t = 0; t < w; t++, j++) {
          const v = j < dim ? keys[i * dim + j] : 0;
          if (!(Math.abs(v) <= SAFE_ABS)) this.safe = false;
          st[base + t] = v;
        }
      }
      this.labels[slot] = labels[i];
    }
    this.count += n;
  }

  remove(labels: Iterable<number>): void {
    for (const l of labels) this.removed.add(l);
  }

  /** Squared L2 in float64 between key `slot` and q64, summed over the dimensions in order. */
  private distance(slot: number): number {
    const st = this.store;
    const q = this.q64;
    const dim = this.dim;
    let d = 0;
    let j = 0;
    for (let g = 0; g < this.planes && j < dim; g++) {
      const base = this.planeAt(g, slot);
      const w = this.planeFloats[g];
      for (let t = 0; t < w && j < dim; t++, j++) {
        const x = st[base + t] - q[j];
        d += x * x;
      }
    }
    return d;
  }

  /** Whether slot's entry is live and passes the filter. */
  private wanted(slot: number, filter: LabelFilter | undefined): boolean {
    const label = this.labels[slot];
    return !(this.removed.size > 0 && this.removed.has(label)) && (!filter || filter(label));
  }

  search(query: Readonly<Float32Array>, k: number, filter?: LabelFilter): SearchHit[] {
    if (query.length !== this.dim) throw new RangeError(`expected a query of ${this.dim} values, got ${query.length}`);
    const kk = Math.min(k, this.size);
    if (kk <= 0) return [];
    let queryOk = true;
    for (let j = 0; j < this.dim; j++) {
      this.q64[j] = query[j];
      if (!(Math.abs(query[j]) <= SAFE_ABS)) queryOk = false;
    }
    const top = new TopK(kk);
    if (this.kernel && this.safe && queryOk) this.kernelScan(top, filter);
    else this.plainScan(top, filter);
    const out: SearchHit[] = [];
    for (let i = 0; i < top.size; i++) out.push({ label: this.labels[top.s[i]], distance: top.d[i] });
    out.sort((a, b) => a.distance - b.distance || a.label - b.label);
    return out;
  }

  /** Every key in float64, in slot order; a key is dropped once its partial sum passes the worst kept. */
  private plainScan(top: TopK, filter: LabelFilter | undefined): void {
    const st = this.store;
    const q = this.q64;
    const dim = this.dim;
    for (let slot = 0; slot < this.count; slot++) {
      const worst = top.worst;
      let d = 0;
      let j = 0;
      for (let g = 0; g < this.planes && j < dim && d <= worst; g++) {
        const base = this.planeAt(g, slot);
        const w = this.planeFloats[g];
        for (let t = 0; t < w && j < dim; t++, j++) {
          const x = st[base + t] - q[j];
          d += x * x;
        }
      }
      // Partial sums never exceed the full one, so a dropped key could not have entered.
      if (d > worst || !top.admits(d, slot) || !this.wanted(slot, filter)) continue;
      top.push(d, slot);
    }
  }

  private kernelScan(top: TopK, filter: LabelFilter | undefined): void {
    const kernel = this.kernel!;
    const mem = new Float32Array(kernel.memory.buffer, this.queryAt, 4 * this.vectors);
    mem.fill(0);
    mem.set(this.q64);
    // Candidates come back as (slot i32, float32 distance) pairs.
    const slots = new Int32Array(kernel.memory.buffer, this.outAt, 2 * BLOCK);
    const d32 = new Float32Array(kernel.memory.buffer, this.outAt, 2 * BLOCK);
    // A float32 distance differs from the float64 one by at most about (terms + 3) units in the
    // last place of float32 (all terms are non-negative); twice that, and a floor for underflow,
    // is the slack: d64 <= widen(d32) and d32 <= widen(d64).
    const rel = ((4 * this.vectors + 8) * 2) / 2 ** 24;
    const abs = 4 * this.vectors * 1e-37;
    const widen = (x: number) => {
      if (x === Infinity) return Infinity;
      const t = x * (1 + rel) + abs;
      const f = Math.fround(t);
      return f >= t ? f : Math.fround(t * (1 + 2 ** -22));
    };
    const scan = (start: number, end: number, step: number, threshold: number) =>
      kernel.scan(this.queryAt, this.keysAt, this.capacity, start, end, step, threshold, this.outAt);

    // 1. The k-th float32 distance of a strided sample bounds the k-th float64 distance overall.
    let bound = Infinity;
    const sample = Math.min(BLOCK, Math.max(4096, 8 * top.k));
    if (this.count >= 4 * sample) {
      const step = Math.ceil(this.count / sample);
      const n = scan(step >> 1, this.count, step, Infinity);
      const seed = new TopK(top.k);
      for (let c = 0; c < n; c++) {
        const d = d32[2 * c + 1];
        if (seed.admits(d, slots[2 * c]) && this.wanted(slots[2 * c], filter)) seed.push(d, slots[2 * c]);
      }
      bound = widen(seed.worst);
    }
    // 2-3. Every key in blocks; candidates re-measured in float64; the bound tightens between blocks.
    for (let start = 0; start < this.count; start += BLOCK) {
      const end = Math.min(this.count, start + BLOCK);
      let limit = widen(bound);
      const n = scan(start, end, 1, limit);
      for (let c = 0; c < n; c++) {
        if (d32[2 * c + 1] > limit) continue;
        const slot = slots[2 * c];
        const d = this.distance(slot);
        if (d > bound || !top.admits(d, slot) || !this.wanted(slot, filter)) continue;
        top.push(d, slot);
        if (top.worst < bound) {
          bound = top.worst;
          limit = widen(bound);
        }
      }
    }
  }
}
