// The engine's share of "click a patch -> retrieved list drawn":
// PatchRetriever.query on an opened database (key of the clicked cell, index
// search, label -> image/position/token lookup, DAiD distribution), per click,
// on grids of images outside the database (held-out photos) and inside it.

import * as path from 'node:path';
import { PatchDatabase } from '../../src/engine/database';
import { PatchRetriever, type TokenGrid } from '../../src/engine/retrieval';
import { Tokenizer } from '../../src/engine/tokenizer';
import { scanDataset } from '../../src/engine/datasetScanner';
import { seededRng } from '../../src/core/rng';
import { median, now, percentile, sig } from './common';

export interface LatencyCase {
  readonly name: string;
  readonly k: number;
  readonly excludeSelf: boolean;
  readonly inDatabase: boolean;
}

export interface LatencyResult {
  case: string;
  k: number;
  clicks: number;
  medianMs: number;
  p95Ms: number;
  maxMs: number;
  /** Of which the index search alone (QueryResult.searchMs), median. */
  searchMedianMs: number;
}

export interface LatencyBenchResult {
  entries: number;
  images: number;
  openSec: number;
  ef: number;
  /** Tokenizing a held-out image for the inspector (once per image opened, not per click), ms median. */
  tokenGridOutsideMs: number;
  cases: LatencyResult[];
}

export async function runLatencyBench(opts: {
  dbDir: string;
  datasetRoot: string;
  queryImages: string;
  model: string;
  clicks: number;
  log?: (l: string) => void;
}): Promise<LatencyBenchResult> {
  const t0 = now();
  const db = PatchDatabase.open(opts.dbDir, { verify: false });
  if (!db) throw new Error(`no database in ${opts.dbDir}`);
  const openSec = (now() - t0) / 1000;
  let tok: Promise<Tokenizer> | undefined;
  const retriever = new PatchRetriever(db, opts.datasetRoot, () => (tok ??= Tokenizer.load(opts.model)));
  const rng = seededRng(11);
  try {
    // Grids: held-out images (tokenized on open, as the inspector does for a file outside the database) and database images.
    const outside = scanDataset(opts.queryImages).files.slice(0, 8);
    const gridsOut: TokenGrid[] = [];
    const tokMs: number[] = [];
    for (const f of outside) {
      const tg = now();
      gridsOut.push(await retriever.tokenGrid(f.abs));
      tokMs.push(now() - tg);
    }
    const gridsIn: TokenGrid[] = [];
    for (let i = 0; i < 8; i++) {
      const img = db.image(Math.floor(rng() * db.manifest.images.length));
      gridsIn.push(await retriever.tokenGrid(path.join(opts.datasetRoot, img.path)));
    }
    const cases: LatencyCase[] = [
      { name: 'image outside the database, k=10', k: 10, excludeSelf: false, inDatabase: false },
      { name: 'image outside the database, k=100', k: 100, excludeSelf: false, inDatabase: false },
      { name: 'database image, k=10, its own entries excluded (filter)', k: 10, excludeSelf: true, inDatabase: true },
      { name: 'database image, k=100, its own entries excluded (filter)', k: 100, excludeSelf: true, inDatabase: true },
    ];
    const { rows, cols } = db.model;
    const results: LatencyResult[] = [];
    for (const c of cases) {
      const grids = c.inDatabase ? gridsIn : gridsOut;
      const ms: number[] = [];
      const search: number[] = [];
      for (let i = 0; i < 20; i++)
        await retriever.query(grids[i % grids.length], 1 + (i % (rows - 1)), 1 + (i % (cols - 2)), { k: c.k, excludeSelf: c.excludeSelf }); // warm
      for (let i = 0; i < opts.clicks; i++) {
        const g = grids[i % grids.length];
        const row = Math.floor(rng() * rows);
        const col = Math.floor(rng() * cols);
        const t = now();
        const r = await retriever.query(g, row, col, { k: c.k, excludeSelf: c.excludeSelf });
        ms.push(now() - t);
        search.push(r.searchMs);
      }
      const res: LatencyResult = {
        case: c.name,
        k: c.k,
        clicks: ms.length,
        medianMs: sig(median(ms)),
        p95Ms: sig(percentile(ms, 95)),
        maxMs: sig(Math.max(...ms)),
        searchMedianMs: sig(median(search)),
      };
      opts.log?.(`  ${c.name}: median ${res.medianMs} ms, p95 ${res.p95Ms} ms`);
      results.push(res);
    }
    return {
      entries: db.entryCount,
      images: db.manifest.images.length,
      openSec: sig(openSec),
      ef: db.manifest.index.ef,
      tokenGridOutsideMs: sig(median(tokMs)),
      cases: results,
    };
  } finally {
    if (tok) await (await tok).release();
  }
}
