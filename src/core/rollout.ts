// Retrieval rollout: the database alone generates the rest of an image. Cells
// before the start keep the image's own tokens (the prompt); from there, each
// cell in raster order takes a token from DAiD's retrieval distribution for its
// causal key, built from the code vectors of the tokens already placed (how
// AR-RAG queries at generation time). The search and the randomness are passed
// in, so the stepping is pure and deterministic.

import { retrievalDistribution, type TokenProbability } from './daid';
import { hasEntry, neighbourOffsets, writeKey, type KeyParams, type Offset } from './neighbourhood';
import type { Rng } from './rng';
import type { RolloutMode } from './vocabulary';

/** A retrieved database entry: its token, its key's squared L2 distance, and where it came from. */
export interface RolloutHit {
  readonly token: number;
  readonly distance: number;
  /** Path of the source image. */
  readonly image: string;
  readonly row: number;
  readonly col: number;
}

/** The nearest entries of a key, nearest first. */
export type RolloutSearch = (key: Float32Array, row: number, col: number) => readonly RolloutHit[];

export class RolloutError extends Error {
  override name = 'RolloutError';
}

export interface RolloutPlan {
  readonly rows: number;
  readonly cols: number;
  /** Code dimension d. */
  readonly dim: number;
  readonly keys: Pick<KeyParams, 'shape' | 'hops' | 'border'>;
  /** Codebook rows as used for keys, [K * d]. */
  readonly codebook: Readonly<Float32Array>;
  /** The image's own tokens, [rows * cols]. */
  readonly original: Readonly<Int32Array>;
  /** First generated cell; every cell before it in raster order is prompt. */
  readonly from: { readonly row: number; readonly col: number };
  readonly mode: RolloutMode;
  /** DAiD temperature T of softmax(-d / T). */
  readonly temperature: number;
  /** Needed for `sample`. */
  readonly rng?: Rng;
}

/** One cell of the generation order. */
export interface RolloutStep {
  /** 0 for the start cell. */
  readonly index: number;
  readonly row: number;
  readonly col: number;
  readonly token: number;
  readonly original: number;
  /** The entry the token came from; null when the cell has no key (it keeps its token) or nothing was retrieved. */
  readonly source: RolloutHit | null;
  /** Whether the cell has a key (border `skip` leaves border cells without). */
  readonly keyed: boolean;
  /** What was retrieved for it, nearest first. */
  readonly candidates: readonly RolloutHit[];
  /** DAiD's distribution over the candidates' tokens. */
  readonly distribution: readonly TokenProbability[];
}

/** Refuses key parameters a rollout cannot use: ring keys need tokens not generated yet. */
export function checkRolloutKeys(keys: Pick<KeyParams, 'shape'>): void {
  if (keys.shape !== 'causal')
    throw new RolloutError(`a rollout needs causal keys: this database has ${keys.shape} keys, and ring keys need tokens not generated yet`);
}

/** The generation, one cell per `step`. */
export class Rollout {
  /** The tokens so far: the prompt, the generated cells, then the original tokens not reached yet. */
  readonly tokens: Int32Array;
  readonly sources: (RolloutHit | null)[];
  /** Cells in all, from the start cell to the end. */
  readonly total: number;
  private readonly vectors: Float32Array;
  private readonly offsets: Offset[];
  private readonly key: Float32Array;
  private readonly start: number;
  private cursor: number;

  constructor(private readonly plan: RolloutPlan) {
    const { rows, cols, dim, from, original, codebook } = plan;
    checkRolloutKeys(plan.keys);
    if (!Number.isInteger(from.row) || !Number.isInteger(from.col) || from.row < 0 || from.col < 0 || from.row >= rows || from.col >= cols) {
      throw new RangeError(`the start ${from.row},${from.col} is outside the ${rows}x${cols} grid`);
    }
    if (!(plan.temperature > 0) || !Number.isFinite(plan.temperature)) throw new RangeError(`temperature must be a positive number, got ${plan.temperature}`);
    if (plan.mode === 'sample' && !plan.rng) throw new RangeError('a sampled rollout needs a seeded random generator');
    if (original.length !== rows * cols) throw new RangeError(`expected ${rows * cols} tokens, got ${original.length}`);
    this.tokens = Int32Array.from(original);
    this.sources = new Array<RolloutHit | null>(rows * cols).fill(null);
    this.vectors = new Float32Array(rows * cols * dim);
    for (let i = 0; i < original.length; i++) this.setVector(i, original[i]);
    if (codebook.length === 0) throw new RangeError('empty codebook');
    this.offsets = neighbourOffsets(plan.keys.shape, plan.keys.hops);
    this.key = new Float32Array(this.offsets.length * dim);
    this.start = from.row * cols + from.col;
    this.cursor = this.start;
    this.total = rows * cols - this.start;
  }

  /** Steps taken so far. */
  get done(): number {
    return this.cursor - this.start;
  }

  get finished(): boolean {
    return this.cursor >= this.plan.rows * this.plan.cols;
  }

  /** Generates the next cell; undefined when the grid is complete. */
  step(search: RolloutSearch): RolloutStep | undefined {
    const next = this.begin();
    return next && 'token' in next ? next : next && this.finish(next, search(this.key, next.row, next.col));
  }

  /** step() with a search that answers later (a database on object storage). */
  async stepAsync(search: (key: Float32Array, row: number, col: number) => Promise<readonly RolloutHit[]>): Promise<RolloutStep | undefined> {
    const next = this.begin();
    return next && 'token' in next ? next : next && this.finish(next, await search(this.key, next.row, next.col));
  }

  /** The next cell: a finished step when it has no key, else its position with this.key written. */
  private begin(): RolloutStep | { cell: number; row: number; col: number; original: number } | undefined {
    if (this.finished) return undefined;
    const { rows, cols, dim, keys } = this.plan;
    const cell = this.cursor++;
    const row = Math.floor(cell / cols);
    const col = cell % cols;
    const original = this.plan.original[cell];
    if (!hasEntry(rows, cols, keys.shape, keys.hops, keys.border, row, col)) {
      return { index: cell - this.start, row, col, original, token: original, source: null, keyed: false, candidates: [], distribution: [] };
    }
    writeKey(this.vectors, rows, cols, dim, this.offsets, row, col, this.key);
    return { cell, row, col, original };
  }

  private finish({ cell, row, col, original }: { cell: number; row: number; col: number; original: number }, candidates: readonly RolloutHit[]): RolloutStep {
    const base = { index: cell - this.start, row, col, original };
    const distribution = retrievalDistribution(candidates, this.plan.temperature);
    const source = this.choose(candidates, distribution);
    if (!source) return { ...base, token: original, source: null, keyed: true, candidates, distribution };
    this.tokens[cell] = source.token;
    this.sources[cell] = source;
    this.setVector(cell, source.token);
    return { ...base, token: source.token, source, keyed: true, candidates, distribution };
  }

  /** greedy: the nearest hit; sample: a token drawn from the distribution, and its nearest hit. */
  private choose(candidates: readonly RolloutHit[], distribution: readonly TokenProbability[]): RolloutHit | undefined {
    if (candidates.length === 0) return undefined;
    let token: number;
    if (this.plan.mode === 'greedy') {
      token = nearest(candidates).token;
    } else {
      const u = this.plan.rng!();
      let acc = 0;
      token = distribution[distribution.length - 1].token;
      for (const d of distribution) {
        acc += d.p;
        if (u < acc) {
          token = d.token;
          break;
        }
      }
    }
    return nearest(candidates, token);
  }

  private setVector(cell: number, token: number): void {
    const { dim, codebook } = this.plan;
    if (!Number.isInteger(token) || token < 0 || (token + 1) * dim > codebook.length) throw new RangeError(`token ${token} is outside the codebook`);
    for (let k = 0; k < dim; k++) this.vectors[cell * dim + k] = codebook[token * dim + k];
  }
}

/** The first hit at the smallest distance (of one token, when given). */
function nearest(hits: readonly RolloutHit[], token?: number): RolloutHit {
  let best: RolloutHit | undefined;
  for (const h of hits) {
    if (token !== undefined && h.token !== token) continue;
    if (!best || h.distance < best.distance) best = h;
  }
  return best!;
}

export interface RolloutSummary {
  /** Fraction of generated cells whose token equals the original's. */
  readonly agreement: number;
  /** The most used source image and the fraction of generated cells taken from it. */
  readonly topSource: { readonly image: string | null; readonly share: number };
  /** The longest run of consecutive generated cells copied from one image at the same offset (a copied region). */
  readonly longestCopiedRun: { readonly image: string | null; readonly cells: number };
  /** Cells that got a token from the database. */
  readonly generated: number;
  /** Source images by the number of generated cells taken from them, most first. */
  readonly sourceCounts: readonly { readonly image: string; readonly cells: number }[];
}

/**
 * The copy indicators of a finished rollout. Generated cells are those from
 * `start` (a raster index) on that have a source. A run continues while the
 * next generated cell (in generation order) comes from the same image with the
 * same displacement between source and target position: along a row that is
 * the next source column, across a row end the next source row.
 */
export function summarizeRollout(
  original: Readonly<Int32Array>,
  tokens: Readonly<Int32Array>,
  sources: readonly (RolloutHit | null)[],
  start: number,
  cols: number,
): RolloutSummary {
  let generated = 0;
  let agree = 0;
  const counts = new Map<string, number>();
  let best = { image: null as string | null, cells: 0 };
  let run = { image: '', dr: 0, dc: 0, cells: 0 };
  for (let cell = start; cell < tokens.length; cell++) {
    const s = sources[cell];
    if (!s) continue;
    generated++;
    if (tokens[cell] === original[cell]) agree++;
    counts.set(s.image, (counts.get(s.image) ?? 0) + 1);
    const dr = s.row - Math.floor(cell / cols);
    const dc = s.col - (cell % cols);
    if (run.cells > 0 && run.image === s.image && run.dr === dr && run.dc === dc) run.cells++;
    else run = { image: s.image, dr, dc, cells: 1 };
    if (run.cells > best.cells) best = { image: run.image, cells: run.cells };
  }
  const sourceCounts = [...counts]
    .map(([image, cells]) => ({ image, cells }))
    .sort((a, b) => b.cells - a.cells || (a.image < b.image ? -1 : a.image > b.image ? 1 : 0));
  const top = sourceCounts[0];
  return {
    agreement: generated ? agree / generated : 0,
    topSource: top ? { image: top.image, share: top.cells / generated } : { image: null, share: 0 },
    longestCopiedRun: best,
    generated,
    sourceCounts,
  };
}
