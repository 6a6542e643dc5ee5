// AR-RAG's index, in our own numerics: FAISS's `OPQ<M>,IVF<nlist>,PQ<M>` (an
// orthogonal rotation learned for the product quantizer, an inverted file of
// k-means lists, residuals coded by M sub-quantizers of 8 bits), searched by
// asymmetric distances with no re-ranking, as AR-RAG's build_index_L.py /
// retrieve_L.py do. Used to measure what such a database loses on a user's own
// keys (engine/fidelity.ts), never to answer queries.
//
// Training follows FAISS's procedure (k-means with random initial points,
// sub-sampling to `maxPointsPerCentroid` points a centroid, empty clusters
// split from large ones; OPQ by alternating PQ training and orthogonal
// Procrustes from a random rotation), with iteration counts as options.
// Deterministic: randomness comes from the Rng passed in.

import type { Rng } from './rng';
import { TopK } from './topK';

/** Called between training steps; awaiting it lets a caller report progress and cancel (by throwing). */
export type TrainStep = (phase: IvfPqPhase, done: number, total: number) => void | Promise<void>;

export type IvfPqPhase = 'opq' | 'coarse' | 'pq' | 'add';

export interface KMeansOptions {
  readonly iterations?: number;
  /** Training points kept at most per centroid (FAISS: 256); more are sub-sampled. */
  readonly maxPointsPerCentroid?: number;
  /** Start from these centroids (k * d) instead of random points. */
  readonly init?: Readonly<Float32Array>;
}

/** Squared norms of n rows of d values. */
function rowNorms(x: Readonly<Float32Array>, n: number, d: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0, o = i * d; j < d; j++) s += x[o + j] * x[o + j];
    out[i] = s;
  }
  return out;
}

/** For each of n rows, the nearest of k centroids (ties: the lower index); `dist` gets the squared distances. */
export function assign(x: Readonly<Float32Array>, n: number, d: number, c: Readonly<Float32Array>, k: number, out: Int32Array, dist?: Float32Array): void {
  // ||x - c||^2 - ||x||^2 = ||c||^2 - 2 x.c ranks the centroids alike
  const cn = rowNorms(c, k, d);
  if (d === 4) assign4(x, n, c, cn, k, out);
  else {
    for (let i = 0; i < n; i++) {
      const o = i * d;
      let best = Infinity;
      let bi = 0;
      for (let j = 0; j < k; j++) {
        const p = j * d;
        let d0 = 0;
        let d1 = 0;
        let t = 0;
        for (; t + 1 < d; t += 2) {
          d0 += x[o + t] * c[p + t];
          d1 += x[o + t + 1] * c[p + t + 1];
        }
        if (t < d) d0 += x[o + t] * c[p + t];
        const v = cn[j] - 2 * (d0 + d1);
        if (v < best) {
          best = v;
          bi = j;
        }
      }
      out[i] = bi;
    }
  }
  if (dist) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let t = 0, o = i * d, p = out[i] * d; t < d; t++) s += (x[o + t] - c[p + t]) ** 2;
      dist[i] = s;
    }
  }
}

/** assign for 4-dimensional rows (the sub-vectors of 32-d keys under 8 sub-quantizers): unrolled. */
function assign4(x: Readonly<Float32Array>, n: number, c: Readonly<Float32Array>, cn: Float32Array, k: number, out: Int32Array): void {
  for (let i = 0; i < n; i++) {
    const o = i * 4;
    const x0 = 2 * x[o];
    const x1 = 2 * x[o + 1];
    const x2 = 2 * x[o + 2];
    const x3 = 2 * x[o + 3];
    let best = Infinity;
    let bi = 0;
    for (let j = 0, p = 0; j < k; j++, p += 4) {
      const v = cn[j] - (x0 * c[p] + x1 * c[p + 1] + x2 * c[p + 2] + x3 * c[p + 3]);
      if (v < best) {
        best = v;
        bi = j;
      }
    }
    out[i] = bi;
  }
}

/** k-means (Lloyd) as FAISS runs it; returns k * d centroids. */
export async function kMeans(
  x: Readonly<Float32Array>,
  n: number,
  d: number,
  k: number,
  rng: Rng,
  opts: KMeansOptions = {},
  step?: () => void | Promise<void>,
): Promise<Float32Array> {
  if (n < k) throw new RangeError(`k-means needs at least ${k} training points, got ${n}`);
  const maxPer = opts.maxPointsPerCentroid ?? 256;
  let data = x;
  let m = n;
  if (n > k * maxPer) {
    m = k * maxPer;
    const pick = samplePoints(n, m, rng);
    const sub = new Float32Array(m * d);
    pick.forEach((p, i) => sub.set(x.subarray(p * d, p * d + d), i * d));
    data = sub;
  }
  const c = new Float32Array(k * d);
  if (opts.init) c.set(opts.init);
  else samplePoints(m, k, rng).forEach((p, i) => c.set(data.subarray(p * d, p * d + d), i * d));
  const a = new Int32Array(m);
  const counts = new Float64Array(k);
  const sums = new Float64Array(k * d);
  const iterations = opts.iterations ?? 25;
  for (let it = 0; it < iterations; it++) {
    assign(data, m, d, c, k, a);
    counts.fill(0);
    sums.fill(0);
    for (let i = 0; i < m; i++) {
      const j = a[i];
      counts[j]++;
      for (let t = 0; t < d; t++) sums[j * d + t] += data[i * d + t];
    }
    for (let j = 0; j < k; j++) if (counts[j] > 0) for (let t = 0; t < d; t++) c[j * d + t] = sums[j * d + t] / counts[j];
    splitEmpty(c, counts, k, d, m, rng);
    await step?.();
  }
  return c;
}

/** FAISS's remedy for an empty cluster: a large cluster (chosen in proportion to its size) is split in two. */
function splitEmpty(c: Float32Array, counts: Float64Array, k: number, d: number, n: number, rng: Rng): void {
  const EPS = 1 / 1024;
  for (let ci = 0; ci < k; ci++) {
    if (counts[ci] !== 0) continue;
    let cj = 0;
    for (;;) {
      // a cluster picked with probability (size - 1) / (n - k)
      const p = rng() * (n - k);
      let acc = 0;
      for (cj = 0; cj < k; cj++) {
        acc += Math.max(0, counts[cj] - 1);
        if (acc >= p) break;
      }
      if (cj < k && counts[cj] > 1) break;
    }
    for (let t = 0; t < d; t++) {
      const v = c[cj * d + t];
      c[ci * d + t] = t % 2 === 0 ? v * (1 + EPS) : v * (1 - EPS);
      c[cj * d + t] = t % 2 === 0 ? v * (1 - EPS) : v * (1 + EPS);
    }
    counts[ci] = Math.floor(counts[cj] / 2);
    counts[cj] -= counts[ci];
  }
}

/** m distinct indices of 0..n-1 in random order (a partial Fisher-Yates shuffle). */
export function samplePoints(n: number, m: number, rng: Rng): Int32Array {
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const take = Math.min(n, m);
  for (let i = 0; i < take; i++) {
    const j = i + Math.floor(rng() * (n - i));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm.subarray(0, take);
}

// ---------------------------------------------------------------- product quantizer

export class ProductQuantizer {
  /** Centroids of sub-quantizer s at [s * ksub * dsub, (s + 1) * ksub * dsub). */
  readonly centroids: Float32Array;
  readonly dsub: number;
  readonly ksub: number;

  constructor(
    readonly d: number,
    readonly m: number,
    readonly nbits = 8,
  ) {
    if (d % m !== 0) throw new RangeError(`${m} sub-quantizers do not divide dimension ${d}`);
    if (nbits !== 8) throw new RangeError('only 8-bit sub-quantizers are implemented');
    this.dsub = d / m;
    this.ksub = 1 << nbits;
    this.centroids = new Float32Array(m * this.ksub * this.dsub);
  }

  /** The sub-vectors of sub-space s of n rows, contiguous. */
  private slice(x: Readonly<Float32Array>, n: number, s: number): Float32Array {
    const { d, dsub } = this;
    const out = new Float32Array(n * dsub);
    for (let i = 0; i < n; i++) for (let t = 0; t < dsub; t++) out[i * dsub + t] = x[i * d + s * dsub + t];
    return out;
  }

  /** Trains every sub-quantizer by k-means; `hot`: start from the current centroids. */
  async train(
    x: Readonly<Float32Array>,
    n: number,
    rng: Rng,
    opts: { iterations?: number; hot?: boolean } = {},
    step?: () => void | Promise<void>,
  ): Promise<void> {
    const { ksub, dsub } = this;
    for (let s = 0; s < this.m; s++) {
      const span = ksub * dsub;
      const init = opts.hot ? this.centroids.subarray(s * span, (s + 1) * span) : undefined;
      const c = await kMeans(this.slice(x, n, s), n, dsub, ksub, rng, { iterations: opts.iterations ?? 25, init });
      this.centroids.set(c, s * span);
      await step?.();
    }
  }

  /** Codes (n * m bytes) of n rows. */
  encode(x: Readonly<Float32Array>, n: number): Uint8Array {
    const { m, ksub, dsub } = this;
    const codes = new Uint8Array(n * m);
    const a = new Int32Array(n);
    for (let s = 0; s < m; s++) {
      assign(this.slice(x, n, s), n, dsub, this.centroids.subarray(s * ksub * dsub, (s + 1) * ksub * dsub), ksub, a);
      for (let i = 0; i < n; i++) codes[i * m + s] = a[i];
    }
    return codes;
  }

  /** The vectors the codes stand for (n * d). */
  decode(codes: Readonly<Uint8Array>, n: number): Float32Array {
    const { d, m, ksub, dsub } = this;
    const out = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      for (let s = 0; s < m; s++) {
        const c = (s * ksub + codes[i * m + s]) * dsub;
        for (let t = 0; t < dsub; t++) out[i * d + s * dsub + t] = this.centroids[c + t];
      }
    }
    return out;
  }

  /** Squared distances from a vector to every centroid of every sub-quantizer (m * ksub), into `out`. */
  distanceTable(v: Readonly<Float32Array>, out: Float32Array): void {
    const { m, ksub, dsub } = this;
    for (let s = 0; s < m; s++) {
      for (let j = 0; j < ksub; j++) {
        let acc = 0;
        const c = (s * ksub + j) * dsub;
        for (let t = 0; t < dsub; t++) {
          const diff = v[s * dsub + t] - this.centroids[c + t];
          acc += diff * diff;
        }
        out[s * ksub + j] = acc;
      }
    }
  }
}

// ---------------------------------------------------------------- rotation (OPQ)

/** A random d x d rotation: Gram-Schmidt on Gaussian rows. Row-major; y = R x. */
export function randomRotation(d: number, rng: Rng): Float64Array {
  const r = new Float64Array(d * d);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  for (let i = 0; i < d; i++) {
    for (;;) {
      for (let j = 0; j < d; j++) r[i * d + j] = gauss();
      if (orthonormalizeRow(r, d, i)) break;
    }
  }
  return r;
}

/** Makes row i orthogonal to rows 0..i-1 and of unit length; false when it was (nearly) dependent on them. */
function orthonormalizeRow(r: Float64Array, d: number, i: number): boolean {
  for (let pass = 0; pass < 2; pass++) {
    for (let p = 0; p < i; p++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += r[i * d + j] * r[p * d + j];
      for (let j = 0; j < d; j++) r[i * d + j] -= dot * r[p * d + j];
    }
  }
  let norm = 0;
  for (let j = 0; j < d; j++) norm += r[i * d + j] ** 2;
  norm = Math.sqrt(norm);
  if (!(norm > 1e-10)) return false;
  for (let j = 0; j < d; j++) r[i * d + j] /= norm;
  return true;
}

/**
 * The singular value decomposition A = U S V^T of a square d x d matrix
 * (row-major) by one-sided Jacobi rotations (Hestenes); d is small here (the
 * key dimension). Columns of U whose singular value is zero are completed to
 * an orthonormal basis.
 */
export function jacobiSvd(a: Readonly<Float64Array>, d: number): { u: Float64Array; s: Float64Array; v: Float64Array } {
  // Work on columns: w = A V, rotated until its columns are orthogonal.
  const w = Float64Array.from(a);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < d; i++) {
          const x = w[i * d + p];
          const y = w[i * d + q];
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (gamma === 0 || Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta)) continue;
        off = Math.max(off, Math.abs(gamma) / Math.sqrt(alpha * beta));
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const sn = c * t;
        for (let i = 0; i < d; i++) {
          const x = w[i * d + p];
          const y = w[i * d + q];
          w[i * d + p] = c * x - sn * y;
          w[i * d + q] = sn * x + c * y;
          const vx = v[i * d + p];
          const vy = v[i * d + q];
          v[i * d + p] = c * vx - sn * vy;
          v[i * d + q] = sn * vx + c * vy;
        }
      }
    }
    if (off < 1e-14) break;
  }
  const s = new Float64Array(d);
  const u = new Float64Array(d * d);
  let maxS = 0;
  for (let j = 0; j < d; j++) {
    let n2 = 0;
    for (let i = 0; i < d; i++) n2 += w[i * d + j] ** 2;
    s[j] = Math.sqrt(n2);
    maxS = Math.max(maxS, s[j]);
  }
  // U's columns as rows of ut, to complete them with orthonormalizeRow
  const ut = new Float64Array(d * d);
  const order: number[] = [];
  for (let j = 0; j < d; j++) if (s[j] > 1e-12 * maxS) order.push(j);
  const zero = Array.from({ length: d }, (_, j) => j).filter((j) => !order.includes(j));
  let row = 0;
  for (const j of order) {
    for (let i = 0; i < d; i++) ut[row * d + i] = w[i * d + j] / s[j];
    orthonormalizeRow(ut, d, row);
    row++;
  }
  let e = 0;
  for (const _ of zero) {
    for (;;) {
      ut.fill(0, row * d, row * d + d);
      ut[row * d + (e++ % d)] = 1;
      if (orthonormalizeRow(ut, d, row)) break;
    }
    row++;
  }
  const cols = [...order, ...zero];
  const vOut = new Float64Array(d * d);
  cols.forEach((j, r) => {
    for (let i = 0; i < d; i++) {
      u[i * d + r] = ut[r * d + i];
      vOut[i * d + r] = v[i * d + j];
    }
  });
  return { u, s: Float64Array.from(cols, (j) => s[j]), v: vOut };
}

/** y = R x for n rows (R row-major d x d). */
export function rotate(r: Readonly<Float64Array>, x: Readonly<Float32Array>, n: number, d: number): Float32Array {
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      let s = 0;
      for (let b = 0; b < d; b++) s += r[a * d + b] * x[i * d + b];
      out[i * d + a] = s;
    }
  }
  return out;
}

export interface OpqOptions {
  /** Alternations of PQ training and Procrustes (FAISS: 50). */
  readonly iterations?: number;
  /** k-means iterations of the first PQ training (FAISS: 40) and of the later ones (FAISS: 4). */
  readonly pqIterationsFirst?: number;
  readonly pqIterations?: number;
  /** Training points used at most (FAISS: 256 * 256). */
  readonly maxTrainPoints?: number;
}

/**
 * OPQ (Ge et al.; FAISS's OPQMatrix): the rotation R that minimises the PQ
 * reconstruction error of R x, alternating a PQ trained on the rotated points
 * and the orthogonal Procrustes solution R = U V^T of Y^T X = U S V^T (Y the
 * reconstructions), from a random rotation.
 */
export async function trainOpq(
  x: Readonly<Float32Array>,
  n: number,
  d: number,
  m: number,
  rng: Rng,
  opts: OpqOptions = {},
  step?: (done: number, total: number) => void | Promise<void>,
): Promise<Float64Array> {
  let data = x;
  let nt = n;
  const maxTrain = opts.maxTrainPoints ?? 256 * 256;
  if (n > maxTrain) {
    nt = maxTrain;
    const sub = new Float32Array(nt * d);
    samplePoints(n, nt, rng).forEach((p, i) => sub.set(x.subarray(p * d, p * d + d), i * d));
    data = sub;
  }
  let r = randomRotation(d, rng);
  const pq = new ProductQuantizer(d, m);
  const iterations = opts.iterations ?? 50;
  for (let it = 0; it < iterations; it++) {
    const xr = rotate(r, data, nt, d);
    await pq.train(xr, nt, rng, { iterations: it === 0 ? (opts.pqIterationsFirst ?? 40) : (opts.pqIterations ?? 4), hot: it > 0 });
    const y = pq.decode(pq.encode(xr, nt), nt);
    // M = Y^T X (d x d)
    const mm = new Float64Array(d * d);
    for (let i = 0; i < nt; i++) {
      for (let a = 0; a < d; a++) {
        const ya = y[i * d + a];
        for (let b = 0; b < d; b++) mm[a * d + b] += ya * data[i * d + b];
      }
    }
    const { u, v } = jacobiSvd(mm, d);
    r = new Float64Array(d * d);
    for (let a = 0; a < d; a++)
      for (let b = 0; b < d; b++) {
        let s = 0;
        for (let t = 0; t < d; t++) s += u[a * d + t] * v[b * d + t];
        r[a * d + b] = s;
      }
    await step?.(it + 1, iterations);
  }
  return r;
}

// ---------------------------------------------------------------- the index

export interface IvfPqParams {
  readonly nlist: number;
  /** Sub-quantizers (8 bits each). */
  readonly m: number;
  /** Learn an OPQ rotation first. */
  readonly opq: boolean;
  /** OPQ training (iterations, points). */
  readonly opqOptions?: OpqOptions;
  /** k-means iterations of the coarse quantizer and of the PQ (FAISS: 25 each; IVF coarse training may use fewer). */
  readonly coarseIterations?: number;
  readonly pqIterations?: number;
}

export interface IvfPqHit {
  readonly label: number;
  /** The asymmetric (code) squared distance, as FAISS returns it. */
  readonly distance: number;
}

/** OPQ + IVF + PQ over float32 keys, squared L2, no re-ranking. */
export class IvfPqIndex {
  private listCodes: Uint8Array[] = [];
  private listLabels: Float64Array[] = [];
  private readonly table: Float32Array;
  private readonly residual: Float32Array;
  private readonly coarseNorms: Float32Array;

  private constructor(
    readonly d: number,
    readonly nlist: number,
    /** The rotation applied first (row-major d x d), or undefined without OPQ. */
    readonly rotation: Float64Array | undefined,
    readonly coarse: Float32Array,
    readonly pq: ProductQuantizer,
  ) {
    this.table = new Float32Array(pq.m * pq.ksub);
    this.residual = new Float32Array(d);
    this.coarseNorms = rowNorms(coarse, nlist, d);
  }

  /** Trains the rotation, the coarse quantizer and the PQ (on residuals) on n training keys. */
  static async train(x: Readonly<Float32Array>, n: number, d: number, params: IvfPqParams, rng: Rng, step?: TrainStep): Promise<IvfPqIndex> {
    const rotation = params.opq ? await trainOpq(x, n, d, params.m, rng, params.opqOptions, (done, total) => step?.('opq', done, total)) : undefined;
    const xr = rotation ? rotate(rotation, x, n, d) : x;
    const coarseIt = params.coarseIterations ?? 25;
    let it = 0;
    const coarse =
      params.nlist === 1 ? meanOf(xr, n, d) : await kMeans(xr, n, d, params.nlist, rng, { iterations: coarseIt }, () => step?.('coarse', ++it, coarseIt));
    const a = new Int32Array(n);
    assign(xr, n, d, coarse, params.nlist, a);
    const res = new Float32Array(n * d);
    for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) res[i * d + t] = xr[i * d + t] - coarse[a[i] * d + t];
    const pq = new ProductQuantizer(d, params.m);
    let s = 0;
    // FAISS trains an IVF's PQ on at most 256 points a centroid as well
    const pn = Math.min(n, 256 * pq.ksub);
    const pick = samplePoints(n, pn, rng);
    const sub = new Float32Array(pn * d);
    pick.forEach((p, i) => sub.set(res.subarray(p * d, p * d + d), i * d));
    await pq.train(sub, pn, rng, { iterations: params.pqIterations ?? 25 }, () => step?.('pq', ++s, params.m));
    return new IvfPqIndex(d, params.nlist, rotation, coarse, pq);
  }

  get size(): number {
    return this.listLabels.reduce((a, l) => a + l.length, 0);
  }

  /** Adds n keys under their labels (in batches of the caller's choosing). */
  add(x: Readonly<Float32Array>, labels: ArrayLike<number>): void {
    const { d, nlist } = this;
    const n = labels.length;
    const xr = this.rotation ? rotate(this.rotation, x, n, d) : x;
    const a = new Int32Array(n);
    assign(xr, n, d, this.coarse, nlist, a);
    const res = new Float32Array(n * d);
    for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) res[i * d + t] = xr[i * d + t] - this.coarse[a[i] * d + t];
    const codes = this.pq.encode(res, n);
    const m = this.pq.m;
    const counts = new Int32Array(nlist);
    for (let i = 0; i < n; i++) counts[a[i]]++;
    const at = new Int32Array(nlist);
    for (let l = 0; l < nlist; l++) {
      const oldC = this.listCodes[l] ?? new Uint8Array(0);
      const oldL = this.listLabels[l] ?? new Float64Array(0);
      at[l] = oldL.length;
      if (!counts[l]) {
        this.listCodes[l] = oldC;
        this.listLabels[l] = oldL;
        continue;
      }
      const c = new Uint8Array(oldC.length + counts[l] * m);
      c.set(oldC);
      const lb = new Float64Array(oldL.length + counts[l]);
      lb.set(oldL);
      this.listCodes[l] = c;
      this.listLabels[l] = lb;
    }
    for (let i = 0; i < n; i++) {
      const l = a[i];
      const p = at[l]++;
      this.listCodes[l].set(codes.subarray(i * m, i * m + m), p * m);
      this.listLabels[l][p] = labels[i];
    }
  }

  /** The k nearest by code distance in the nprobe nearest lists, nearest first; `filter` keeps labels. */
  search(query: Readonly<Float32Array>, k: number, nprobe: number, filter?: (label: number) => boolean): IvfPqHit[] {
    const { d, nlist, pq } = this;
    const q = this.rotation ? rotate(this.rotation, query, 1, d) : query;
    const probes = Math.min(nprobe, nlist);
    // the nprobe nearest coarse centroids
    const cd = new Float64Array(nlist);
    for (let l = 0; l < nlist; l++) {
      let dot = 0;
      for (let t = 0; t < d; t++) dot += q[t] * this.coarse[l * d + t];
      cd[l] = this.coarseNorms[l] - 2 * dot;
    }
    const order = Array.from({ length: nlist }, (_, l) => l);
    if (probes < nlist) order.sort((a, b) => cd[a] - cd[b] || a - b);
    const top = new TopK(k);
    const { m, ksub } = pq;
    const table = this.table;
    for (let pi = 0; pi < probes; pi++) {
      const l = order[pi];
      const labels = this.listLabels[l];
      if (!labels || labels.length === 0) continue;
      for (let t = 0; t < d; t++) this.residual[t] = q[t] - this.coarse[l * d + t];
      pq.distanceTable(this.residual, table);
      const codes = this.listCodes[l];
      for (let i = 0; i < labels.length; i++) {
        let dist = 0;
        for (let s = 0, o = i * m; s < m; s++) dist += table[s * ksub + codes[o + s]];
        if (!top.admits(dist, labels[i]) || (filter && !filter(labels[i]))) continue;
        top.push(dist, labels[i]);
      }
    }
    const out: IvfPqHit[] = [];
    for (let i = 0; i < top.size; i++) out.push({ label: top.s[i], distance: top.d[i] });
    return out.sort((a, b) => a.distance - b.distance || a.label - b.label);
  }
}

function meanOf(x: Readonly<Float32Array>, n: number, d: number): Float32Array {
  const c = new Float32Array(d);
  for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) c[t] += x[i * d + t] / n;
  return c;
}
