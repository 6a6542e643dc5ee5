// Keys from real tokenized images: the augmented set indexed by the real
// pipeline (buildDatabase, cached and incremental), its entries' keys read back
// in label order, and query keys from the held-out photos' variants.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseNpy, writeNpy } from '../../src/core/npy';
import { entryCount, imageKeys, keyDimension } from '../../src/core/neighbourhood';
import { PatchDatabase } from '../../src/engine/database';
import { buildDatabase, DEFAULT_KEYS, type BuildResult } from '../../src/engine/indexer';
import { decodeForModel } from '../../src/engine/imageDecoder';
import { scanDataset } from '../../src/engine/datasetScanner';
import { Tokenizer, type ModelInfo } from '../../src/engine/tokenizer';
import { seededRng, shuffled } from '../../src/core/rng';
import { augmentedSet, type AugmentedSet } from './augment';
import { now, sig } from './common';

export interface RealSetOptions {
  readonly model: string;
  readonly images: string;
  /** Database entries wanted (approximately: whole images). */
  readonly entries: number;
  readonly holdOutEvery: number;
  readonly queryVariants: number;
  readonly log?: (line: string) => void;
}

export interface RealSet {
  readonly set: AugmentedSet;
  readonly info: ModelInfo;
  readonly dbDir: string;
  /** Build figures of the run that built the database (cached with it). */
  readonly build: { images: number; entries: number; elapsedMs: number; timings: BuildResult['timings']; imagesPerSec: number; date: string };
}

export async function loadModelInfo(model: string): Promise<ModelInfo> {
  const tok = await Tokenizer.load(model, { threads: 1 });
  const info = tok.info;
  await tok.release();
  return info;
}

/** Writes the augmented images and indexes them with buildDatabase (reused when up to date). */
export async function realSet(opts: RealSetOptions): Promise<RealSet> {
  const log = opts.log ?? (() => {});
  const info = await loadModelInfo(opts.model);
  const perImage = entryCount(info.rows, info.cols, DEFAULT_KEYS.shape, DEFAULT_KEYS.hops, DEFAULT_KEYS.border);
  const photos = scanDataset(opts.images).files.length;
  const dbPhotos = photos - Math.floor(photos / opts.holdOutEvery);
  const variants = Math.max(1, Math.ceil(opts.entries / perImage / Math.max(1, dbPhotos)));
  const set = await augmentedSet({
    images: opts.images,
    variants,
    holdOutEvery: opts.holdOutEvery,
    queryVariants: opts.queryVariants,
    size: info.manifest.input.width,
    log,
  });
  const dbDir = path.join(set.dir, `db-${info.fingerprint}`);
  const buildFile = path.join(dbDir, 'bench-build.json');
  log(
    `${set.dbCount} database images (${dbPhotos} photos x ${variants} variants, ${perImage} entries each), ${set.queryCount} query images from ${set.heldOut.length} held-out photos`,
  );
  const t0 = now();
  const res = await buildDatabase({
    root: set.dbImages,
    dbDir,
    model: opts.model,
    keys: DEFAULT_KEYS,
    onProgress: (() => {
      let last = 0;
      return (p) => {
        if (p.phase === 'encode' && now() - last > 15_000) {
          last = now();
          log(`  indexing ${p.done}/${p.total} (${sig(p.done / ((now() - t0) / 1000))} img/s)`);
        }
      };
    })(),
  });
  if (!res.upToDate) {
    const n = res.added + res.updated;
    const build = {
      images: n,
      entries: res.entries,
      elapsedMs: res.elapsedMs,
      timings: res.timings,
      imagesPerSec: sig(n / (res.timings.pipelineMs / 1000)),
      date: new Date().toISOString(),
    };
    fs.writeFileSync(buildFile, JSON.stringify(build, null, 2));
    log(`indexed ${n} images in ${(res.elapsedMs / 1000).toFixed(0)} s: ${res.entries} entries`);
  }
  const build = JSON.parse(fs.readFileSync(buildFile, 'utf8')) as RealSet['build'];
  return { set, info, dbDir, build };
}

/**
 * Every entry's key in label order (labels must be 0..n-1: a fresh build), or,
 * with `limit`, the keys of a seeded random subset of whole images holding
 * about that many entries, renumbered from 0.
 */
export function databaseKeys(db: PatchDatabase, limit?: number): Float32Array {
  const { rows, cols, dim } = db.model;
  const n = db.entryCount;
  const keyDim = db.keyDim;
  const images = db.manifest.images.map((img, i) => ({ img, i }));
  if (limit === undefined || limit >= n) {
    const out = new Float32Array(n * keyDim);
    for (const { img, i } of images) {
      if (img.firstLabel + img.entries > n)
        throw new Error(`labels are not contiguous (image ${img.path} has labels from ${img.firstLabel}); rebuild the benchmark database`);
      out.set(imageKeys(db.sourceGrid(i, db.keys.source), rows, cols, dim, db.keys).keys, img.firstLabel * keyDim);
    }
    return out;
  }
  const chosen: Float32Array[] = [];
  let total = 0;
  for (const { i } of shuffled(images, seededRng(3))) {
    if (total >= limit) break;
    const k = imageKeys(db.sourceGrid(i, db.keys.source), rows, cols, dim, db.keys).keys;
    chosen.push(k);
    total += k.length / keyDim;
  }
  const out = new Float32Array(total * keyDim);
  let o = 0;
  for (const k of chosen) {
    out.set(k, o);
    o += k.length;
  }
  return out;
}

/** Keys of the held-out query images, `count` of them sampled with a seed. */
export async function queryKeys(model: string, folder: string, count: number, seed = 5): Promise<{ keys: Float32Array; total: number }> {
  const tok = await Tokenizer.load(model);
  try {
    const { rows, cols, dim } = tok.info;
    const files = scanDataset(folder).files;
    const all: Float32Array[] = [];
    for (let i = 0; i < files.length; i += 8) {
      const decoded = await Promise.all(
        files.slice(i, i + 8).map(async (f) => (await decodeForModel(await fs.promises.readFile(f.abs), tok.info.manifest.input)).rgb),
      );
      for (const e of await tok.encode(decoded)) all.push(imageKeys(e.latents, rows, cols, dim, DEFAULT_KEYS).keys);
    }
    const keyDim = keyDimension(DEFAULT_KEYS.shape, DEFAULT_KEYS.hops, dim);
    const flat = new Float32Array(all.reduce((a, k) => a + k.length, 0));
    let o = 0;
    for (const k of all) {
      flat.set(k, o);
      o += k.length;
    }
    const total = flat.length / keyDim;
    const order = shuffled(
      Array.from({ length: total }, (_, i) => i),
      seededRng(seed),
    );
    const m = Math.min(count, total);
    const keys = new Float32Array(m * keyDim);
    for (let q = 0; q < m; q++) keys.set(flat.subarray(order[q] * keyDim, (order[q] + 1) * keyDim), q * keyDim);
    return { keys, total };
  } finally {
    await tok.release();
  }
}

export interface RealKeys {
  readonly real: RealSet;
  readonly db: PatchDatabase;
  /** The database's keys (a seeded subset of whole images with `limit`), and the held-out query keys. */
  readonly keys: Float32Array;
  readonly queries: Float32Array;
  readonly dim: number;
  /** The same keys and queries as .npy files (cached), for FAISS. */
  readonly keysFile: string;
  readonly queriesFile: string;
  /** The folder the .npy files are cached in. */
  readonly dir: string;
  readonly subset: boolean;
}

/** The real set's database and its keys and `queries` query keys, from .npy files cached beside it. */
export async function realKeys(opts: RealSetOptions & { readonly queries: number; readonly limit?: number }): Promise<RealKeys> {
  const real = await realSet(opts);
  const db = PatchDatabase.open(real.dbDir, { verify: false })!;
  const dir = path.join(real.set.dir, `keys-${real.info.fingerprint}`);
  fs.mkdirSync(dir, { recursive: true });
  const subset = opts.limit !== undefined && opts.limit < db.entryCount;
  const keysFile = path.join(dir, subset ? `keys-subset-${opts.limit}.npy` : `keys-${db.entryCount}.npy`);
  const queriesFile = path.join(dir, `queries-${opts.queries}.npy`);
  let keys: Float32Array;
  if (fs.existsSync(keysFile)) keys = parseNpy(fs.readFileSync(keysFile)).data;
  else {
    keys = databaseKeys(db, subset ? opts.limit : undefined);
    fs.writeFileSync(keysFile, writeNpy(keys, [keys.length / db.keyDim, db.keyDim]));
  }
  let queries: Float32Array;
  if (fs.existsSync(queriesFile)) queries = parseNpy(fs.readFileSync(queriesFile)).data;
  else {
    queries = (await queryKeys(opts.model, real.set.queryImages, opts.queries)).keys;
    fs.writeFileSync(queriesFile, writeNpy(queries, [queries.length / db.keyDim, db.keyDim]));
  }
  return { real, db, keys, queries, dim: db.keyDim, keysFile, queriesFile, dir, subset };
}
