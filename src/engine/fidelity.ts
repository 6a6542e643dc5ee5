// The index fidelity report: recall@k of a database's index at its settings
// against exact search, on a seeded sample of the database's own keys (each
// query excludes its own image, as the inspector does), the curve over the
// index's search knob, and AR-RAG's own FAISS configuration (OPQ + IVF + PQ8,
// no re-ranking, its nprobe) built over the same keys, so a user sees what
// AR-RAG's database would lose on their data.
//
// A backend plugs in as a FidelitySubject: its keys, its exact search, and a
// KnobSearcher (HNSW: ef; an IVF-PQ store: nprobes x refine factor).

import { formatCount, formatPercent } from '../core/format';
import { seededRng, type Rng } from '../core/rng';
import { IvfPqIndex, samplePoints, type IvfPqPhase } from '../core/ivfPq';
import { imageKeys } from '../core/neighbourhood';
import type { PatchDatabase } from './database';
import type { LanceDatabase } from './lanceDatabase';
import { excludeImages, type LabelFilter, type PatchStore, type SearchHit } from './patchStore';

type Hits = readonly SearchHit[] | Promise<readonly SearchHit[]>;

/** Search parameters of one point of a curve (HNSW: { m, efConstruction, ef }). */
export type KnobParams = Readonly<Record<string, number>>;

/** An index searched at a setting of its knob. */
export interface KnobSearcher {
  readonly backend: string;
  /** The settings the database searches at now. */
  readonly current: KnobParams;
  /** The settings the curve is measured at (current among them or not). */
  sweep(k: number): KnobParams[];
  /** The k nearest live entries passing the filter (one made by excludeImages), at the given setting. */
  search(query: Readonly<Float32Array>, k: number, filter: LabelFilter, params: KnobParams): Hits;
}

/** What a fidelity report measures: a database's keys, its exact search and its index. */
export interface FidelitySubject {
  readonly entries: number;
  readonly keyDim: number;
  /** Label ranges of the images; queries are drawn from them. */
  readonly images: readonly { readonly firstLabel: number; readonly entries: number }[];
  /** The filter that leaves out image i's entries. */
  excluding(image: number): LabelFilter;
  /** The stored key of a label. */
  key(label: number): Float32Array;
  /** Every entry's key with its label, in batches. */
  batches(): Iterable<{ keys: Float32Array; labels: ArrayLike<number> }>;
  /** The reference answer. */
  exact(query: Readonly<Float32Array>, k: number, filter: LabelFilter): Hits;
  readonly index: KnobSearcher;
}

export interface CurvePoint {
  readonly params: KnobParams;
  readonly recall: number;
  readonly p50Ms: number;
}

/** AR-RAG's index as its build and retrieve scripts set it up (PLUM-Lab/AR-RAG, build_index_L.py, retrieve_L.py, t2i_daid.py). */
export interface ArragParams {
  /** The FAISS index_factory string of the same index (np: no polysemous training, as the IndexIVFPQ constructor AR-RAG calls). */
  readonly factory: string;
  readonly nlist: number;
  readonly subQuantizers: number;
  readonly bits: number;
  /** nprobe as AR-RAG searches (lists probed: min(nprobe, nlist)). */
  readonly nprobe: number;
  readonly rerank: false;
  readonly trainingKeys: number;
  readonly opqIterations: number;
}

export interface FidelityReport {
  readonly backend: string;
  readonly entries: number;
  readonly k: number;
  readonly queries: number;
  readonly current: CurvePoint;
  readonly sweep: CurvePoint[];
  readonly arrag: { readonly params: ArragParams; readonly recall: number };
}

/** AR-RAG's build_index_L.py: NLIST = 800, 8 sub-quantizers of 8 bits, OPQ, trained on NLIST * 100 keys. */
export const ARRAG_NLIST = 800;
export const ARRAG_SUBQUANTIZERS = 8;
export const ARRAG_TRAINING_PER_LIST = 100;
/** t2i_daid.py / t2i_faid.py search with nprobe 4096 (code2train_L.py: 2048); both probe all 800 lists. */
export const ARRAG_NPROBE = 4096;
/**
 * OPQ alternations: FAISS's default is 50 (with 40 then 4 k-means iterations
 * of the PQ); 10 keep the training to seconds here, and recall moves by less
 * than the sampling error past that (docs/benchmarks.md trains FAISS the same).
 */
export const ARRAG_OPQ_ITERATIONS = 10;
/** FAISS's k-means iterations for an IVF's coarse quantizer (Level1Quantizer sets 10: large clusterings). */
const IVF_COARSE_ITERATIONS = 10;
/** FAISS warns below 39 training points a centroid; smaller databases get fewer lists. */
const MIN_POINTS_PER_LIST = 39;

export const DEFAULT_FIDELITY_QUERIES = 200;
export const DEFAULT_FIDELITY_K = 10;
/** The ef values of the HNSW curve (those below k are searched at k by hnswlib, and left out). */
export const HNSW_EF_SWEEP = [10, 16, 24, 32, 48, 64, 96, 128, 256, 512];

export type FidelityPhase = 'exact' | 'sweep' | IvfPqPhase | 'arrag';

export interface FidelityOptions {
  readonly queries?: number;
  readonly k?: number;
  readonly seed?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (phase: FidelityPhase, done: number, total: number) => void;
}

export class FidelityCancelledError extends Error {
  override name = 'FidelityCancelledError';
  constructor() {
    super('the fidelity report was cancelled');
  }
}

/** Squared L2 in float64, summed over the dimensions in order (as exact search defines it). */
function squaredL2(a: Readonly<Float32Array>, b: Readonly<Float32Array>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] - b[i];
    s += x * x;
  }
  return s;
}

interface Query {
  readonly label: number;
  readonly key: Float32Array;
  readonly filter: LabelFilter;
  /** The exact k-th distance: a hit within it is a true neighbour (equal keys are not errors). */
  readonly kth: number;
  readonly truth: number;
}

/** `queries` distinct entries drawn with the seed, each with the filter leaving out its own image. */
function sampleQueries(s: FidelitySubject, count: number, rng: Rng): { label: number; filter: LabelFilter }[] {
  const starts: number[] = [];
  let total = 0;
  for (const img of s.images) {
    starts.push(total);
    total += img.entries;
  }
  const picks = Array.from(samplePoints(total, count, rng)).sort((a, b) => a - b);
  const out: { label: number; filter: LabelFilter }[] = [];
  let i = 0;
  for (const p of picks) {
    while (i + 1 < starts.length && starts[i + 1] <= p) i++;
    out.push({ label: s.images[i].firstLabel + (p - starts[i]), filter: s.excluding(i) });
  }
  return out;
}

/** Recall of a hit list: hits within the exact k-th distance, over the k the exact search found. */
function recallOf(s: FidelitySubject, q: Query, hits: readonly SearchHit[]): number {
  const seen = new Set<number>();
  let good = 0;
  const tol = q.kth * 1e-9 + 1e-12;
  for (const h of hits) {
    if (seen.has(h.label) || !q.filter(h.label)) continue;
    seen.add(h.label);
    if (squaredL2(s.key(h.label), q.key) <= q.kth + tol) good++;
  }
  return Math.min(good, q.truth);
}

function median(xs: number[]): number {
  const a = xs.slice().sort((x, y) => x - y);
  const n = a.length;
  return n === 0 ? 0 : n % 2 ? a[(n - 1) >> 1] : (a[n / 2 - 1] + a[n / 2]) / 2;
}

const sameParams = (a: KnobParams, b: KnobParams) => JSON.stringify(a) === JSON.stringify(b);

/** Lets the worker's event loop run (a cancel request) and throws once cancelled. */
async function checkpoint(signal: AbortSignal | undefined): Promise<void> {
  if (signal) await new Promise<void>((r) => setImmediate(r));
  if (signal?.aborted) throw new FidelityCancelledError();
}

export async function measureFidelity(s: FidelitySubject, opts: FidelityOptions = {}): Promise<FidelityReport> {
  const k = opts.k ?? DEFAULT_FIDELITY_K;
  const count = Math.min(opts.queries ?? DEFAULT_FIDELITY_QUERIES, s.entries);
  if (!Number.isInteger(k) || k < 1 || k > 10_000) throw new RangeError(`k must be an integer from 1 to 10000, got ${k}`);
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`queries must be a positive integer, got ${opts.queries}`);
  if (s.images.filter((i) => i.entries > 0).length < 2)
    throw new RangeError('a fidelity report needs at least two indexed images (a query never retrieves from its own image)');
  const rng = seededRng(opts.seed ?? 0);
  const progress = opts.onProgress ?? (() => {});
  const sampled = sampleQueries(s, count, rng);
  const queries: Query[] = [];
  for (const [i, q] of sampled.entries()) {
    const key = s.key(q.label);
    const truth = await s.exact(key, k, q.filter);
    // the k-th distance measured here, as every hit is: a backend's own (float32) distances may round below it
    if (truth.length) queries.push({ ...q, key, kth: Math.max(...truth.map((h) => squaredL2(s.key(h.label), key))), truth: truth.length });
    if (i % 16 === 15) await checkpoint(opts.signal);
    progress('exact', i + 1, sampled.length);
  }
  const truthTotal = queries.reduce((a, q) => a + q.truth, 0);

  const measure = async (params: KnobParams): Promise<CurvePoint> => {
    let good = 0;
    const times: number[] = [];
    for (const [i, q] of queries.entries()) {
      const t0 = performance.now();
      const found = s.index.search(q.key, k, q.filter, params);
      // an answer given at once is timed without the await's turn of the event loop
      const hits = 'then' in found ? await found : found;
      times.push(performance.now() - t0);
      good += recallOf(s, q, hits);
      if (i % 64 === 63) await checkpoint(opts.signal);
    }
    return { params, recall: good / truthTotal, p50Ms: median(times) };
  };
  const settings = s.index.sweep(k);
  const sweep: CurvePoint[] = [];
  for (const [i, p] of settings.entries()) {
    sweep.push(await measure(p));
    progress('sweep', i + 1, settings.length);
  }
  const current = sweep.find((p) => sameParams(p.params, s.index.current)) ?? (await measure(s.index.current));

  const arrag = await arragRecall(s, queries, k, truthTotal, rng, opts);
  return {
    backend: s.index.backend,
    entries: s.entries,
    k,
    queries: queries.length,
    current,
    sweep,
    arrag,
  };
}

/** AR-RAG's parameters for a database of n entries (fewer lists where n is too small to train 800). */
export function arragParams(n: number): ArragParams {
  const nlist = Math.max(1, Math.min(ARRAG_NLIST, Math.floor(n / MIN_POINTS_PER_LIST)));
  return {
    factory: `OPQ${ARRAG_SUBQUANTIZERS},IVF${nlist},PQ${ARRAG_SUBQUANTIZERS}np`,
    nlist,
    subQuantizers: ARRAG_SUBQUANTIZERS,
    bits: 8,
    nprobe: ARRAG_NPROBE,
    rerank: false,
    trainingKeys: Math.min(n, ARRAG_NLIST * ARRAG_TRAINING_PER_LIST),
    opqIterations: ARRAG_OPQ_ITERATIONS,
  };
}

async function arragRecall(
  s: FidelitySubject,
  queries: readonly Query[],
  k: number,
  truthTotal: number,
  rng: Rng,
  opts: FidelityOptions,
): Promise<{ params: ArragParams; recall: number }> {
  const params = arragParams(s.entries);
  const d = s.keyDim;
  const progress = opts.onProgress ?? (() => {});
  // AR-RAG samples its training keys at random from the database's keys
  const all = new Float32Array(s.entries * d);
  const labels = new Float64Array(s.entries);
  let n = 0;
  for (const b of s.batches()) {
    all.set(b.keys, n * d);
    labels.set(Array.from(b.labels), n);
    n += b.labels.length;
  }
  const pick = samplePoints(n, params.trainingKeys, rng);
  const train = new Float32Array(pick.length * d);
  pick.forEach((p, i) => train.set(all.subarray(p * d, p * d + d), i * d));
  const index = await IvfPqIndex.train(
    train,
    pick.length,
    d,
    { nlist: params.nlist, m: params.subQuantizers, opq: true, opqOptions: { iterations: params.opqIterations }, coarseIterations: IVF_COARSE_ITERATIONS },
    rng,
    async (phase, done, total) => {
      progress(phase, done, total);
      await checkpoint(opts.signal);
    },
  );
  const BATCH = 16384;
  for (let i = 0; i < n; i += BATCH) {
    const end = Math.min(n, i + BATCH);
    index.add(all.subarray(i * d, end * d), labels.subarray(i, end));
    progress('add', end, n);
    await checkpoint(opts.signal);
  }
  let good = 0;
  for (const [i, q] of queries.entries()) {
    good += recallOf(s, q, index.search(q.key, k, params.nprobe, q.filter));
    if (i % 16 === 15) await checkpoint(opts.signal);
    progress('arrag', i + 1, queries.length);
  }
  return { params, recall: good / truthTotal };
}

// ---------------------------------------------------------------- the backends

/** A store's keys, label ranges and exact search; `index` says how its approximate index is searched. */
function storeSubject(db: PatchStore, index: KnobSearcher): FidelitySubject {
  const m = db.manifest;
  const { rows, cols, dim } = m.model;
  const grids = new Map<number, Float32Array>();
  const gridOf = (image: number) => {
    let g = grids.get(image);
    if (!g) {
      if (grids.size > 256) grids.clear();
      g = db.sourceGrid(image, m.keys.source);
      grids.set(image, g);
    }
    return g;
  };
  return {
    entries: db.entryCount,
    keyDim: db.keyDim,
    images: m.images,
    excluding: (image) => excludeImages(db, [image]),
    key: (label) => {
      const loc = db.locate(label);
      if (!loc) throw new RangeError(`label ${label} is not in the database`);
      return db.keyAt(gridOf(loc.image), loc.row, loc.col);
    },
    *batches() {
      for (let i = 0; i < m.images.length; i++) {
        const img = m.images[i];
        const k = imageKeys(db.sourceGrid(i, m.keys.source), rows, cols, dim, m.keys);
        yield { keys: k.keys, labels: Float64Array.from({ length: img.entries }, (_, e) => img.firstLabel + e) };
      }
    },
    exact: (query, k, filter) => db.exactIndex().search(query, k, filter),
    index,
  };
}

/** The HNSW database: its graph searched over ef. */
export function hnswSubject(db: PatchDatabase): FidelitySubject {
  const m = db.manifest;
  const index = db.index;
  const graph = { m: m.index.m, efConstruction: m.index.efConstruction };
  return storeSubject(db, {
    backend: 'hnsw',
    current: { ...graph, ef: index.getEf() },
    sweep: (k) => {
      const efs = new Set([k, ...HNSW_EF_SWEEP.filter((e) => e >= k)]);
      return [...efs].sort((a, b) => a - b).map((ef) => ({ ...graph, ef }));
    },
    search: (query, k, filter, params) => {
      const before = index.getEf();
      index.setEf(params.ef);
      try {
        return index.search(query, k, filter);
      } finally {
        index.setEf(before);
      }
    },
  });
}

/** nprobes of the Lance curve (those past the partitions left out), each with and without re-ranking 10x the candidates. */
export const LANCE_NPROBES_SWEEP = [1, 5, 10, 20, 50, 100, 200, 400];
export const LANCE_REFINE_SWEEP = [1, 10];

/** The Lance database: IVF-PQ over nprobes x refine factor (a database without a vector index searches flat: one point). */
export function lanceSubject(db: LanceDatabase): FidelitySubject {
  const lance = db.manifest.index.lance ?? { partitions: 0, subVectors: 0, nprobes: 0, refineFactor: 0 };
  const ix = db.index;
  const shape = { partitions: lance.partitions, subVectors: lance.subVectors };
  const current =
    ix.settings === 'flat' ? { ...shape, nprobes: 0, refineFactor: 0 } : { ...shape, nprobes: ix.settings.nprobes, refineFactor: ix.settings.refineFactor };
  return storeSubject(db, {
    backend: 'lance',
    current,
    sweep: () => {
      if (ix.settings === 'flat') return [current];
      const probes = new Set([...LANCE_NPROBES_SWEEP.filter((p) => p <= lance.partitions), current.nprobes]);
      const out: KnobParams[] = [];
      for (const nprobes of [...probes].sort((a, b) => a - b)) {
        for (const refineFactor of [...new Set([...LANCE_REFINE_SWEEP, current.refineFactor])].sort((a, b) => a - b))
          out.push({ ...shape, nprobes, refineFactor });
      }
      return out;
    },
    search: (query, k, filter, p) => ix.searchWith(query, k, p.nprobes === 0 ? 'flat' : { nprobes: p.nprobes, refineFactor: p.refineFactor }, filter),
  });
}

/** The subject of either backend. */
export function fidelitySubject(db: PatchStore): FidelitySubject {
  return db.backend === 'lance' ? lanceSubject(db as LanceDatabase) : hnswSubject(db as PatchDatabase);
}

// ---------------------------------------------------------------- in words

/** "ef=64" (the knob's values only: the params that differ along the sweep, or all). */
export function knobText(params: KnobParams, sweep: readonly CurvePoint[] = []): string {
  // a Lance database without a vector index: its one point is exact search (nprobes 0 in the JSON)
  if (params.nprobes === 0) return 'flat (exact) search';
  const varying = Object.keys(params).filter((key) => sweep.some((p) => p.params[key] !== params[key]));
  return (varying.length ? varying : Object.keys(params)).map((key) => `${key}=${params[key]}`).join(' ');
}

// Shares and counts in the one written form (src/core/format.ts), as the Index view and notifications show them;
// latencies keep three decimals (a search takes well under a millisecond).
const pct = formatPercent;
const latency = (ms: number) => `${ms.toFixed(3)} ms`;

/** What a user loses with AR-RAG's database, in one sentence. */
export function arragLoss(r: Pick<FidelityReport, 'k' | 'current' | 'arrag'>): string {
  const a = r.arrag;
  const lost = 1 - a.recall;
  return `AR-RAG's FAISS database (${a.params.factory}, nprobe ${a.params.nprobe}, no re-ranking) finds ${pct(a.recall)} of the true ${r.k} nearest patches: ${pct(lost)} of what DAiD would see are farther patches, against ${pct(1 - r.current.recall)} with this index.`;
}

/** The report as the CLI prints it. */
export function fidelityText(r: FidelityReport, where: string): string {
  const keys = Object.keys(r.current.params).filter((key) => r.sweep.some((p) => p.params[key] !== r.current.params[key]));
  const head = keys.map((key) => key.padStart(8)).join('') + '   recall   p50 ms';
  return [
    `${where} (${r.backend}, ${formatCount(r.entries)} entries): recall@${r.k} against exact search on ${formatCount(r.queries)} of its own keys (each query's own image left out)`,
    `  current  ${knobText(r.current.params)}: recall ${pct(r.current.recall)}, median ${latency(r.current.p50Ms)} a query`,
    `  curve:`,
    `  ${head}`,
    ...r.sweep.map(
      (p) =>
        `  ${keys.map((key) => String(p.params[key]).padStart(8)).join('')}  ${pct(p.recall).padStart(7)}  ${p.p50Ms.toFixed(3).padStart(7)}${knobText(p.params) === knobText(r.current.params) ? '  <- current' : ''}`,
    ),
    `  AR-RAG ${r.arrag.params.factory} (8-bit codes, nprobe ${r.arrag.params.nprobe}, no re-ranking, trained on ${formatCount(r.arrag.params.trainingKeys)} keys): recall ${pct(r.arrag.recall)}`,
    `  ${arragLoss(r)}`,
  ].join('\n');
}
