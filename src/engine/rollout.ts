// A retrieval rollout over a patch database: the core stepping (src/core/rollout)
// with the database's exact or HNSW search. It yields to the event loop every few
// milliseconds, so a worker running it still hears a cancel.

import { Rollout, summarizeRollout, checkRolloutKeys, type RolloutHit, type RolloutStep, type RolloutSummary } from '../core/rollout';
import type { RolloutMode } from '../core/vocabulary';
import { seededRng } from '../core/rng';
import type { PatchRetriever, TokenGrid } from './retrieval';

export interface RolloutOptions {
  /** First generated cell. */
  readonly from: { readonly row: number; readonly col: number };
  /** Entries retrieved per cell (default 64). */
  readonly k?: number;
  /** DAiD temperature (default 1). */
  readonly temperature?: number;
  readonly mode?: RolloutMode;
  /** Seed of a sampled rollout (default 0). */
  readonly seed?: number;
  readonly exact?: boolean;
  /** Let the image retrieve its own entries (left out by default). */
  readonly includeSelf?: boolean;
}

export interface RolloutHooks {
  readonly signal?: AbortSignal;
  /** After each step; `done` of `total` cells. */
  readonly onStep?: (step: RolloutStep, done: number, total: number) => void;
}

export interface RolloutRun {
  readonly image: string;
  readonly from: { readonly row: number; readonly col: number };
  readonly rows: number;
  readonly cols: number;
  readonly tokens: Int32Array;
  readonly original: Int32Array;
  /** Per cell, row-major: the entry its token came from, or null (prompt, no key, nothing retrieved). */
  readonly sources: readonly (RolloutHit | null)[];
  readonly summary: RolloutSummary;
  readonly mode: RolloutMode;
  readonly k: number;
  readonly exact: boolean;
  /** Time spent in searches, and in all. */
  readonly searchMs: number;
  readonly elapsedMs: number;
}

/** The one-JSON-document form of a rollout (the CLI's `rollout --json`). */
export interface RolloutJson {
  image: string;
  from: { row: number; col: number };
  rows: number;
  cols: number;
  tokens: number[][];
  original: number[][];
  sources: ({ image: string; row: number; col: number; distance: number } | null)[][];
  agreement: number;
  topSource: { image: string | null; share: number };
  longestCopiedRun: { image: string | null; cells: number };
}

export class RolloutCancelledError extends Error {
  override name = 'RolloutCancelledError';
  constructor() {
    super('the rollout was cancelled');
  }
}

export const DEFAULT_ROLLOUT_K = 64;
/** Longest stretch of stepping between two yields to the event loop. */
const SLICE_MS = 8;

/** The rollout of a token grid (an image in the database, or tokenized now). */
export async function runRollout(
  retriever: PatchRetriever,
  grid: Pick<TokenGrid, 'image' | 'inDatabase' | 'tokens'>,
  opts: RolloutOptions,
  hooks: RolloutHooks = {},
): Promise<RolloutRun> {
  const db = retriever.db;
  checkRolloutKeys(db.keys);
  const k = opts.k ?? DEFAULT_ROLLOUT_K;
  if (!Number.isInteger(k) || k < 1 || k > 10_000) throw new RangeError(`k must be an integer from 1 to 10000, got ${k}`);
  const mode = opts.mode ?? 'greedy';
  const { rows, cols, dim } = db.model;
  const rollout = new Rollout({
    rows,
    cols,
    dim,
    keys: db.keys,
    codebook: db.codebook,
    original: grid.tokens,
    from: opts.from,
    mode,
    temperature: opts.temperature ?? 1,
    rng: mode === 'sample' ? seededRng(opts.seed ?? 0) : undefined,
  });
  const exclude = opts.includeSelf ? undefined : retriever.selfFilter(grid);
  const exact = opts.exact ?? false;
  if (exact) db.exactIndex(); // built once, outside the timed searches
  let searchMs = 0;
  const search = async (key: Float32Array) => {
    const t = performance.now();
    const hits = await retriever.search(key, k, { exact, exclude });
    searchMs += performance.now() - t;
    return hits;
  };
  // Messages already queued (a cancel sent right after the request) are heard before the first step.
  await new Promise((r) => setImmediate(r));
  const t0 = performance.now();
  let slice = t0;
  for (;;) {
    if (hooks.signal?.aborted) throw new RolloutCancelledError();
    const step = await rollout.stepAsync(search);
    if (!step) break;
    hooks.onStep?.(step, rollout.done, rollout.total);
    if (performance.now() - slice > SLICE_MS) {
      await new Promise((r) => setImmediate(r));
      slice = performance.now();
    }
  }
  const start = opts.from.row * cols + opts.from.col;
  return {
    image: grid.image,
    from: { row: opts.from.row, col: opts.from.col },
    rows,
    cols,
    tokens: rollout.tokens,
    original: Int32Array.from(grid.tokens),
    sources: rollout.sources,
    summary: summarizeRollout(grid.tokens, rollout.tokens, rollout.sources, start, cols),
    mode,
    k,
    exact,
    searchMs,
    elapsedMs: performance.now() - t0,
  };
}

export function rolloutJson(run: RolloutRun): RolloutJson {
  const grid = <T>(f: (cell: number) => T): T[][] =>
    Array.from({ length: run.rows }, (_, r) => Array.from({ length: run.cols }, (_, c) => f(r * run.cols + c)));
  const s = run.summary;
  return {
    image: run.image,
    from: { row: run.from.row, col: run.from.col },
    rows: run.rows,
    cols: run.cols,
    tokens: grid((i) => run.tokens[i]),
    original: grid((i) => run.original[i]),
    sources: grid((i) => {
      const h = run.sources[i];
      return h ? { image: h.image, row: h.row, col: h.col, distance: h.distance } : null;
    }),
    agreement: s.agreement,
    topSource: { image: s.topSource.image, share: s.topSource.share },
    longestCopiedRun: { image: s.longestCopiedRun.image, cells: s.longestCopiedRun.cells },
  };
}

/** Distribution entries kept per step for display (the chart shows the first few and sums the rest). */
const STEP_DISTRIBUTION = 512;

/**
 * A rollout for a webview, as columns of typed arrays (transferred, not
 * copied): per cell its token, original and source; per generation step the
 * DAiD distribution of what it retrieved. Image paths are listed once in
 * `images` and referred to by index (-1: none).
 */
export interface RolloutPayload {
  readonly image: string;
  readonly from: { readonly row: number; readonly col: number };
  readonly rows: number;
  readonly cols: number;
  readonly mode: RolloutMode;
  readonly k: number;
  readonly tokens: Int32Array;
  readonly original: Int32Array;
  readonly images: string[];
  readonly sourceImage: Int32Array;
  readonly sourceRow: Int32Array;
  readonly sourceCol: Int32Array;
  readonly sourceDistance: Float32Array;
  /** Step s (cell from + s in raster order) has distribution entries stepStart[s] .. stepStart[s + 1]. */
  readonly stepStart: Int32Array;
  readonly stepTokens: Int32Array;
  readonly stepP: Float32Array;
  readonly agreement: number;
  readonly topSource: { readonly image: string | null; readonly share: number };
  readonly longestCopiedRun: { readonly image: string | null; readonly cells: number };
  readonly generated: number;
  /** Source images by generated cells taken from them, most first (at most 12). */
  readonly sourceCounts: readonly { readonly image: string; readonly cells: number }[];
  readonly searchMs: number;
  readonly elapsedMs: number;
}

/** Collects each step's distribution while a rollout runs; `payload` then puts it together. */
export class RolloutRecorder {
  private readonly starts: number[] = [0];
  private tokens: number[] = [];
  private p: number[] = [];

  readonly onStep = (step: RolloutStep): void => {
    const n = Math.min(STEP_DISTRIBUTION, step.distribution.length);
    for (let i = 0; i < n; i++) {
      this.tokens.push(step.distribution[i].token);
      this.p.push(step.distribution[i].p);
    }
    this.starts.push(this.tokens.length);
  };

  payload(run: RolloutRun): RolloutPayload {
    const n = run.rows * run.cols;
    const images: string[] = [];
    const index = new Map<string, number>();
    const ref = (image: string) => {
      let i = index.get(image);
      if (i === undefined) {
        i = images.length;
        images.push(image);
        index.set(image, i);
      }
      return i;
    };
    const sourceImage = new Int32Array(n).fill(-1);
    const sourceRow = new Int32Array(n).fill(-1);
    const sourceCol = new Int32Array(n).fill(-1);
    const sourceDistance = new Float32Array(n);
    run.sources.forEach((s, cell) => {
      if (!s) return;
      sourceImage[cell] = ref(s.image);
      sourceRow[cell] = s.row;
      sourceCol[cell] = s.col;
      sourceDistance[cell] = s.distance;
    });
    const s = run.summary;
    return {
      image: run.image,
      from: run.from,
      rows: run.rows,
      cols: run.cols,
      mode: run.mode,
      k: run.k,
      tokens: run.tokens,
      original: run.original,
      images,
      sourceImage,
      sourceRow,
      sourceCol,
      sourceDistance,
      stepStart: Int32Array.from(this.starts),
      stepTokens: Int32Array.from(this.tokens),
      stepP: Float32Array.from(this.p),
      agreement: s.agreement,
      topSource: s.topSource,
      longestCopiedRun: s.longestCopiedRun,
      generated: s.generated,
      sourceCounts: s.sourceCounts.slice(0, 12),
      searchMs: run.searchMs,
      elapsedMs: run.elapsedMs,
    };
  }
}
