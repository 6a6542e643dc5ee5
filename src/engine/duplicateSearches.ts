// Duplicate searches run in the engine worker and kept there, so a side
// panel can page through thousands of ranked pairs and ask for one pair's
// cells when it opens it, without the whole result crossing to the host.

import type { FindOptions, FindResult } from '../core/duplicates';
import type { PatchStore } from './patchStore';
import { LRUCache } from 'lru-cache';
import { databaseDuplicates } from './duplicates';
import { DUPLICATE_RESULT_LIMIT, type DuplicateSearch, type DuplicateSearchParams, type DuplicateSummary } from './engineProtocol';

/** Results kept at once (the least recently used are dropped; asking for them says so). */
const KEPT = 4;
/** Largest page a request may ask for. */
export const MAX_PAGE = 500;

interface Kept {
  readonly search: DuplicateSearch;
  readonly result: FindResult;
  readonly db: PatchStore;
  readonly against?: PatchStore;
  readonly params: DuplicateSearchParams;
}

export class SearchGoneError extends Error {
  override name = 'SearchGoneError';
}

export class DuplicateSearches {
  private nextId = 1;
  private readonly kept = new LRUCache<number, Kept>({ max: KEPT });

  constructor(private readonly open: (dbDir: string) => PatchStore | Promise<PatchStore>) {}

  async run(params: DuplicateSearchParams, opts: Pick<FindOptions, 'signal' | 'onProgress'> = {}): Promise<DuplicateSearch> {
    const db = await this.open(params.dbDir);
    const against = params.against ? await this.open(params.against) : undefined;
    const t0 = performance.now();
    const result = await databaseDuplicates(db, against, {
      window: params.window,
      minShared: params.minShared,
      near: params.near,
      maxBucket: params.maxBucket,
      limit: DUPLICATE_RESULT_LIMIT,
      signal: opts.signal,
      onProgress: opts.onProgress,
    });
    const searchId = this.nextId++;
    const search: DuplicateSearch = {
      searchId,
      dbDir: params.dbDir,
      ...(params.against ? { against: params.against } : {}),
      rows: db.model.rows,
      cols: db.model.cols,
      pairs: result.pairs.length,
      totalPairs: result.totalPairs,
      stats: result.stats,
      elapsedMs: performance.now() - t0,
    };
    this.kept.set(searchId, { search, result, db, against, params });
    return search;
  }

  private get(searchId: number): Kept {
    const k = this.kept.get(searchId);
    if (!k) throw new SearchGoneError('this duplicate search is no longer kept; run it again');
    return k;
  }

  search(searchId: number): DuplicateSearch {
    return this.get(searchId).search;
  }

  page(searchId: number, offset: number, count: number): DuplicateSummary[] {
    const { result } = this.get(searchId);
    if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(count) || count < 1) throw new RangeError('a page needs an offset >= 0 and a count >= 1');
    const out: DuplicateSummary[] = [];
    for (let i = offset; i < Math.min(result.pairs.length, offset + Math.min(count, MAX_PAGE)); i++) out.push(summaryOf(result, i));
    return out;
  }

  cells(searchId: number, rank: number): { pair: DuplicateSummary; cells: Int32Array } {
    const { result } = this.get(searchId);
    if (!Number.isInteger(rank) || rank < 0 || rank >= result.pairs.length)
      throw new RangeError(`no pair ${rank} in this search (${result.pairs.length} pairs)`);
    return { pair: summaryOf(result, rank), cells: result.pairs[rank].cells.slice() };
  }

  /** The pairs of a default search of dbDir that involve `image`, best first. */
  async overlaps(
    dbDir: string,
    image: string,
    limit: number,
    opts: Pick<FindOptions, 'signal' | 'onProgress'> = {},
  ): Promise<{ searchId: number; pairs: DuplicateSummary[] }> {
    const db = await this.open(dbDir);
    // values() runs from the most recently used, so the first match is the newest.
    let found: Kept | undefined;
    for (const k of this.kept.values()) {
      const p = k.params;
      if (k.db === db && !p.against && p.window === undefined && p.minShared === undefined && p.near === undefined && p.maxBucket === undefined) {
        found = k;
        break;
      }
    }
    const searchId = found ? found.search.searchId : (await this.run({ dbDir }, opts)).searchId;
    const { result } = this.get(searchId);
    const pairs: DuplicateSummary[] = [];
    for (let i = 0; i < result.pairs.length && pairs.length < limit; i++) {
      if (result.pairs[i].a === image || result.pairs[i].b === image) pairs.push(summaryOf(result, i));
    }
    return { searchId, pairs };
  }
}

function summaryOf(result: FindResult, rank: number): DuplicateSummary {
  const p = result.pairs[rank];
  return { rank, a: p.a, b: p.b, score: p.score, sharedCells: p.sharedCells, identical: p.identical };
}
