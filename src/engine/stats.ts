// Statistics of a patch database: codebook usage over every indexed image and
// retrieval predictability (how often DAiD's top tokens are the true one).

import { codebookStats, type CodebookStats } from '../core/codebookStats';
import type { LanceSearchParams } from '../core/dbManifest';
import { retrievalDistribution } from '../core/daid';
import { seededRng, shuffled } from '../core/rng';
import { codeGrid, type KeySource } from '../core/neighbourhood';
import { excludeImages, type PatchStore } from './patchStore';
import { entryPosition } from './database';
import { PatchRetriever } from './retrieval';
import { DEFAULT_ROLLOUT_K, runRollout } from './rollout';

export interface DatabaseStats {
  readonly db: string;
  readonly generation: number;
  readonly updatedAt: string;
  readonly model: { name: string; fingerprint: string; rows: number; cols: number; dim: number; codebookSize: number };
  readonly keys: { shape: string; hops: number; border: string; source: string; dim: number };
  readonly index: { kind: string; m: number; efConstruction: number; ef: number; lance?: LanceSearchParams };
  readonly images: number;
  readonly failed: number;
  readonly entries: number;
  readonly diskBytes: number;
  readonly codebook: CodebookStats;
  /** Usage count per code id (codebookSize values). */
  readonly usage: number[];
}

export function databaseStats(db: PatchStore, top = 20): DatabaseStats {
  const m = db.manifest;
  const grids = (function* () {
    for (let i = 0; i < m.images.length; i++) yield db.record(i).tokens;
  })();
  const { stats, counts } = codebookStats(grids, m.model.codebookSize, top);
  return {
    db: db.dir,
    generation: m.generation,
    updatedAt: m.updatedAt,
    model: {
      name: m.model.name,
      fingerprint: m.model.fingerprint,
      rows: m.model.rows,
      cols: m.model.cols,
      dim: m.model.dim,
      codebookSize: m.model.codebookSize,
    },
    keys: { ...m.keys, dim: m.index.keyDim },
    index: { kind: m.index.kind, m: m.index.m, efConstruction: m.index.efConstruction, ef: m.index.ef, ...(m.index.lance ? { lance: m.index.lance } : {}) },
    images: m.images.length,
    failed: m.failed.length,
    entries: db.entryCount,
    diskBytes: db.diskBytes(),
    codebook: stats,
    usage: Array.from(counts),
  };
}

export interface PredictabilityOptions {
  /** Fraction of images held out as queries (0 < f <= 1). */
  readonly fraction: number;
  readonly seed?: number;
  readonly k?: number;
  readonly temperature?: number;
  /** At most this many queries in all (entries sampled evenly across held-out images). */
  readonly maxQueries?: number;
  readonly exact?: boolean;
  readonly queryKeys?: KeySource;
  readonly signal?: AbortSignal;
  /** Queries done of those planned. */
  readonly onProgress?: (done: number, total: number) => void;
}

export class PredictabilityCancelledError extends Error {
  override name = 'PredictabilityCancelledError';
  constructor() {
    super('predictability cancelled');
  }
}

export interface Predictability {
  readonly heldOutImages: number;
  readonly queries: number;
  readonly top1: number;
  readonly top5: number;
  /** Fraction of queries whose true token was among the retrieved tokens at all. */
  readonly coverage: number;
  /** Baseline: the fraction of queries whose true token is the most used value of the other images' entries. */
  readonly mostFrequent: number;
  /** That most used token. */
  readonly mostFrequentToken: number;
  /** Baseline: a uniform guess over the codebook, 1/K. */
  readonly chance: number;
  readonly k: number;
  readonly seed: number;
  readonly exact: boolean;
}

/**
 * Holds out a seeded fraction of images; for entries of each, retrieves from
 * the other images only and checks DAiD's argmax (top-1) and top-5 against the
 * true token.
 */
export async function retrievalPredictability(db: PatchStore, opts: PredictabilityOptions): Promise<Predictability> {
  if (!(opts.fraction > 0 && opts.fraction <= 1)) throw new RangeError(`fraction must be in (0, 1], got ${opts.fraction}`);
  const seed = opts.seed ?? 0;
  const k = opts.k ?? 64;
  const maxQueries = opts.maxQueries ?? 2000;
  const rng = seededRng(seed);
  const m = db.manifest;
  const n = m.images.length;
  const held = shuffled(
    Array.from({ length: n }, (_, i) => i),
    rng,
  ).slice(0, Math.max(1, Math.round(n * opts.fraction)));
  if (n < 2) throw new RangeError('predictability needs at least two indexed images');
  // Held-out labels are excluded from every search: only other images answer.
  const filter = excludeImages(db, held);
  const perImage = m.images[held[0]].entries;
  const totalEntries = held.length * perImage;
  const stride = Math.max(1, Math.ceil(totalEntries / maxQueries));
  const index = opts.exact ? db.exactIndex() : db.index;
  const source = opts.queryKeys ?? m.keys.source;
  const { cols, dim } = m.model;
  // The most-frequent-token baseline: the value the other images' entries hold most often.
  const heldSet = new Set(held);
  const entryCells = Array.from({ length: perImage }, (_, e) => {
    const p = entryPosition(m, e);
    return p.row * cols + p.col;
  });
  const counts = new Uint32Array(m.model.codebookSize);
  for (let i = 0; i < n; i++) {
    if (heldSet.has(i)) continue;
    const tokens = db.record(i).tokens;
    for (const c of entryCells) counts[tokens[c]]++;
  }
  let mostFrequentToken = 0;
  for (let t = 1; t < counts.length; t++) if (counts[t] > counts[mostFrequentToken]) mostFrequentToken = t;
  let mostHits = 0;
  let queries = 0;
  let top1 = 0;
  let top5 = 0;
  let covered = 0;
  let e = Math.floor(rng() * stride);
  const planned = Math.ceil((totalEntries - e) / stride);
  for (; e < totalEntries; e += stride) {
    if (opts.signal?.aborted) throw new PredictabilityCancelledError();
    opts.onProgress?.(queries, planned);
    const img = held[Math.floor(e / perImage)];
    const rec = db.record(img);
    const grid = source === 'latent' ? rec.latents : codeGrid(rec.tokens, db.codebook, dim);
    const pos = entryPosition(m, e % perImage);
    const truth = rec.tokens[pos.row * cols + pos.col];
    const hits = await index.search(db.keyAt(grid, pos.row, pos.col), k, filter);
    const dist = retrievalDistribution(
      hits.map((h) => {
        const loc = db.locate(h.label)!;
        return { token: h.token ?? db.record(loc.image).tokens[loc.row * cols + loc.col], distance: h.distance };
      }),
      opts.temperature ?? 1,
    );
    queries++;
    if (truth === mostFrequentToken) mostHits++;
    const rank = dist.findIndex((d) => d.token === truth);
    if (rank === 0) top1++;
    if (rank >= 0 && rank < 5) top5++;
    if (rank >= 0) covered++;
  }
  opts.onProgress?.(queries, planned);
  return {
    heldOutImages: held.length,
    queries,
    top1: queries ? top1 / queries : 0,
    top5: queries ? top5 / queries : 0,
    coverage: queries ? covered / queries : 0,
    mostFrequent: queries ? mostHits / queries : 0,
    mostFrequentToken,
    chance: 1 / m.model.codebookSize,
    k,
    seed,
    exact: opts.exact ?? false,
  };
}

export interface RolloutStatisticOptions {
  /** Fraction of images sampled (0 < f <= 1). */
  readonly fraction: number;
  readonly seed?: number;
  readonly k?: number;
  readonly exact?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
}

/** One sampled image's copy indicators. */
export interface RolloutCopying {
  readonly image: string;
  readonly agreement: number;
  readonly topSource: { readonly image: string | null; readonly share: number };
  readonly longestCopiedRun: { readonly image: string | null; readonly cells: number };
}

export interface RolloutStatistic {
  readonly images: number;
  readonly seed: number;
  readonly k: number;
  readonly exact: boolean;
  /** The row every rollout starts from (column 0). */
  readonly fromRow: number;
  readonly meanAgreement: number;
  readonly meanTopSourceShare: number;
  readonly meanLongestCopiedRun: number;
  /** The sampled images that copy the most (longest copied run, then top source share), at most 10. */
  readonly mostCopying: readonly RolloutCopying[];
}

/**
 * A greedy rollout from the middle row of each image of a seeded sample, each
 * retrieving from the other images only (as `patchlens rollout` does by
 * default): how much the database reproduces the images, and how much it copies.
 */
export async function rolloutStatistic(db: PatchStore, opts: RolloutStatisticOptions): Promise<RolloutStatistic> {
  if (!(opts.fraction > 0 && opts.fraction <= 1)) throw new RangeError(`fraction must be in (0, 1], got ${opts.fraction}`);
  const m = db.manifest;
  const n = m.images.length;
  if (n < 2) throw new RangeError('the rollout statistic needs at least two indexed images');
  const seed = opts.seed ?? 0;
  const k = opts.k ?? DEFAULT_ROLLOUT_K;
  const sample = shuffled(
    Array.from({ length: n }, (_, i) => i),
    seededRng(seed),
  ).slice(0, Math.max(1, Math.round(n * opts.fraction)));
  const fromRow = Math.floor(m.model.rows / 2);
  const retriever = new PatchRetriever(db, m.root);
  const per: RolloutCopying[] = [];
  for (const i of sample) {
    const run = await runRollout(
      retriever,
      { image: m.images[i].path, inDatabase: true, tokens: db.record(i).tokens },
      { from: { row: fromRow, col: 0 }, k, exact: opts.exact },
      { signal: opts.signal },
    );
    const s = run.summary;
    per.push({ image: run.image, agreement: s.agreement, topSource: s.topSource, longestCopiedRun: s.longestCopiedRun });
    opts.onProgress?.(per.length, sample.length);
  }
  const mean = (f: (c: RolloutCopying) => number) => per.reduce((a, c) => a + f(c), 0) / per.length;
  const mostCopying = per
    .slice()
    .sort((a, b) => b.longestCopiedRun.cells - a.longestCopiedRun.cells || b.topSource.share - a.topSource.share || (a.image < b.image ? -1 : 1))
    .slice(0, 10);
  return {
    images: per.length,
    seed,
    k,
    exact: opts.exact ?? false,
    fromRow,
    meanAgreement: mean((c) => c.agreement),
    meanTopSourceShare: mean((c) => c.topSource.share),
    meanLongestCopiedRun: mean((c) => c.longestCopiedRun.cells),
    mostCopying,
  };
}
