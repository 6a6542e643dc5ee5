// A large image set from a small one: seeded square crops (45-100% of the short
// side, anywhere in the image) with horizontal flips, written at the model's
// input size as JPEG under .cache/. Enough variants of each photo to reach a
// target number of database entries. A few photos are held out entirely: their
// variants are the queries, so no query is an entry of the database.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { seededRng } from '../../src/core/rng';
import { scanDataset } from '../../src/engine/datasetScanner';
import { mkCache } from './common';

export interface AugmentOptions {
  readonly images: string;
  /** Variants per database photo. */
  readonly variants: number;
  /** Every `holdOutEvery`-th photo (sorted by path) is held out for queries. */
  readonly holdOutEvery: number;
  readonly queryVariants: number;
  /** Side of the written images (the model's input). */
  readonly size: number;
  readonly seed?: number;
  readonly log?: (line: string) => void;
}

export interface AugmentedSet {
  /** Folder of the database's images. */
  readonly dbImages: string;
  /** Folder of the held-out query images. */
  readonly queryImages: string;
  readonly sourcePhotos: number;
  readonly heldOut: string[];
  readonly dbCount: number;
  readonly queryCount: number;
  /** Cache folder of this set (databases go beside the images). */
  readonly dir: string;
}

async function writeVariant(src: string, dst: string, rng: () => number, flip: boolean, size: number): Promise<void> {
  const img = sharp(src, { failOn: 'truncated' }).autoOrient();
  const meta = await sharp(src).metadata();
  const swap = (meta.orientation ?? 1) >= 5;
  const w = (swap ? meta.height : meta.width) ?? 0;
  const h = (swap ? meta.width : meta.height) ?? 0;
  const short = Math.min(w, h);
  const side = Math.max(16, Math.round(short * (0.45 + 0.55 * rng())));
  const left = Math.floor(rng() * (w - side + 1));
  const top = Math.floor(rng() * (h - side + 1));
  let p = img.extract({ left, top, width: side, height: side }).resize(size, size, { fit: 'fill', kernel: 'lanczos3' });
  if (flip) p = p.flop();
  const tmp = `${dst}.tmp`;
  await p.toColourspace('srgb').removeAlpha().jpeg({ quality: 92 }).toFile(tmp);
  fs.renameSync(tmp, dst);
}

/** Writes (or reuses) the augmented set for a photo folder. */
export async function augmentedSet(opts: AugmentOptions): Promise<AugmentedSet> {
  const log = opts.log ?? (() => {});
  const files = scanDataset(opts.images).files;
  if (files.length < 2) throw new Error(`${opts.images} has ${files.length} images; at least 2 are needed (one is held out for queries)`);
  const id = createHash('sha256')
    .update(JSON.stringify({ files: files.map((f) => [f.rel, f.bytes]), size: opts.size, seed: opts.seed ?? 1, every: opts.holdOutEvery }))
    .digest('hex')
    .slice(0, 10);
  const dir = mkCache('augmented', `${path.basename(opts.images)}-${id}`);
  const dbImages = path.join(dir, 'images');
  const queryImages = path.join(dir, 'queries');
  fs.mkdirSync(dbImages, { recursive: true });
  fs.mkdirSync(queryImages, { recursive: true });
  const heldOut: string[] = [];
  const jobs: { src: string; dst: string; seed: number; flip: boolean }[] = [];
  files.forEach((f, i) => {
    const query = i % opts.holdOutEvery === opts.holdOutEvery - 1;
    if (query) heldOut.push(f.rel);
    const stem = f.rel.replace(/[\\/]/g, '__').replace(/\.[^.]+$/, '');
    const n = query ? opts.queryVariants : opts.variants;
    for (let v = 0; v < n; v++) {
      jobs.push({
        src: f.abs,
        dst: path.join(query ? queryImages : dbImages, `${stem}-v${String(v).padStart(3, '0')}.jpg`),
        seed: (opts.seed ?? 1) * 1_000_003 + i * 1009 + v,
        flip: v % 2 === 1,
      });
    }
  });
  // Variants from an earlier run with a larger target are not part of this set.
  const expected = new Set(jobs.map((j) => j.dst));
  for (const d of [dbImages, queryImages]) {
    for (const f of fs.readdirSync(d)) if (!expected.has(path.join(d, f))) fs.rmSync(path.join(d, f), { force: true });
  }
  const todo = jobs.filter((j) => !fs.existsSync(j.dst));
  if (todo.length > 0) log(`writing ${todo.length} augmented images (of ${jobs.length}) under ${dir}`);
  const t0 = Date.now();
  for (let i = 0; i < todo.length; i += 16) {
    await Promise.all(todo.slice(i, i + 16).map((j) => writeVariant(j.src, j.dst, seededRng(j.seed), j.flip, opts.size)));
    if (Date.now() - t0 > 10_000 && i % 512 === 0) log(`  ${i}/${todo.length}`);
  }
  const count = (d: string) => fs.readdirSync(d).filter((f) => f.endsWith('.jpg')).length;
  return { dbImages, queryImages, sourcePhotos: files.length, heldOut, dbCount: count(dbImages), queryCount: count(queryImages), dir };
}
