// A dataset with known copies made from the sample photos with sharp:
// byte-identical copies, re-encoded JPEGs, resizes, and a region of one photo
// pasted onto another on the token grid. Returns what a duplicate finder
// should report.

import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { decodeForModel } from '../../src/engine/imageDecoder';
import type { ModelInput } from '../../src/core/modelManifest';
import { repoRoot } from './chromium';

export const SAMPLE_DIR = path.join(repoRoot, 'media', 'sample');

export interface KnownPair {
  readonly a: string;
  readonly b: string;
  /** pasted: b holds a region of a; background: b is a with another photo's region pasted on it. */
  readonly kind: 'exact' | 'reencoded' | 'resized' | 'pasted' | 'background';
}

export interface PastedRegion {
  /** The photo the region was taken from, and the image it was pasted into. */
  readonly source: string;
  readonly target: string;
  /** Top-left cells and size, in cells of the model's grid. */
  readonly from: readonly [number, number];
  readonly to: readonly [number, number];
  readonly size: number;
}

export interface KnownCopies {
  readonly originals: string[];
  readonly copies: string[];
  readonly pairs: KnownPair[];
  readonly pasted: PastedRegion;
}

export function samplePhotos(): string[] {
  return fs
    .readdirSync(SAMPLE_DIR)
    .filter((f) => /\.jpe?g$/i.test(f))
    .sort();
}

/**
 * Writes `originals` sample photos into `originalsDir` and their copies into
 * `copiesDir` (the same folder for one dataset, two folders for a test set
 * against a training set). `input` is the model's input, so that the pasted
 * region lands on the token grid (cell = `patch` pixels).
 */
export async function writeKnownCopies(originalsDir: string, copiesDir: string, input: ModelInput, patch: number, originals = 12): Promise<KnownCopies> {
  fs.mkdirSync(originalsDir, { recursive: true });
  fs.mkdirSync(copiesDir, { recursive: true });
  const photos = samplePhotos().slice(0, originals);
  for (const p of photos) fs.copyFileSync(path.join(SAMPLE_DIR, p), path.join(originalsDir, p));
  const src = (i: number) => path.join(SAMPLE_DIR, photos[i]);
  const pairs: KnownPair[] = [];
  const out = (name: string) => path.join(copiesDir, name);
  const add = (i: number, name: string, kind: KnownPair['kind']) => pairs.push({ a: photos[i], b: name, kind });

  fs.copyFileSync(src(0), out('copy-exact.jpg'));
  add(0, 'copy-exact.jpg', 'exact');
  await sharp(src(1)).jpeg({ quality: 60 }).toFile(out('copy-q60.jpg'));
  add(1, 'copy-q60.jpg', 'reencoded');
  await sharp(src(2)).jpeg({ quality: 35 }).toFile(out('copy-q35.jpg'));
  add(2, 'copy-q35.jpg', 'reencoded');
  const half = await sharp(src(3)).metadata();
  await sharp(src(3))
    .resize(Math.round((half.width ?? 512) / 2))
    .jpeg({ quality: 90 })
    .toFile(out('copy-half.jpg'));
  add(3, 'copy-half.jpg', 'resized');
  const more = await sharp(src(4)).metadata();
  await sharp(src(4))
    .resize(Math.round((more.width ?? 512) * 0.7))
    .png()
    .toFile(out('copy-70pc.png'));
  add(4, 'copy-70pc.png', 'resized');

  // A size x size cell region of photo 5, as the model sees it, pasted onto
  // photo 6 as the model sees it, both aligned to the grid.
  const size = 10;
  const from = [2, 3] as const;
  const to = [5, 5] as const;
  const a = await decodeForModel(fs.readFileSync(src(5)), input);
  const b = await decodeForModel(fs.readFileSync(src(6)), input);
  const W = input.width;
  const px = Buffer.from(b.rgb);
  for (let y = 0; y < size * patch; y++) {
    const sy = from[0] * patch + y;
    const dy = to[0] * patch + y;
    const s0 = (sy * W + from[1] * patch) * 3;
    px.set(a.rgb.subarray(s0, s0 + size * patch * 3), (dy * W + to[1] * patch) * 3);
  }
  await sharp(px, { raw: { width: W, height: input.height, channels: 3 } })
    .png()
    .toFile(out('pasted.png'));
  add(5, 'pasted.png', 'pasted');
  add(6, 'pasted.png', 'background');
  return {
    originals: photos,
    copies: [...new Set(pairs.map((p) => p.b))],
    pairs,
    pasted: { source: photos[5], target: 'pasted.png', from, to, size },
  };
}
