// Images whose tokens are known: a tokenizer whose latent is the mean colour of
// each 8x8 patch and whose codebook is 16 colours, and images painted cell by
// cell in those colours. Indexed by the real indexer, they make a database
// built from hand-chosen token grids.

import * as path from 'node:path';
import sharp from 'sharp';
import { seededRng } from '../../src/core/rng';
import { writeTinyModel } from './tinyModel';

export const PAINTED = { size: 64, patch: 8, side: 8, codes: 16, dim: 3 } as const;

/** Pixel levels and the model inputs they become ((p / 255 - 0.5) / 0.5). */
const LEVELS = [0, 85, 170, 255];
const level = (p: number) => (p / 255 - 0.5) / 0.5;

/** The 8-bit RGB colour of code t: 16 distinct colours. */
function colour(t: number): [number, number, number] {
  return [LEVELS[t % 4], LEVELS[Math.floor(t / 4) % 4], LEVELS[(t + Math.floor(t / 4)) % 4]];
}

/** Writes the painted-colour tokenizer (manifest.json and friends) into dir; returns the manifest path. */
export function writePaintedModel(dir: string, opts: { decoder?: boolean; name?: string } = {}): string {
  const { patch, dim, codes } = PAINTED;
  const w = new Float32Array(dim * 3 * patch * patch);
  for (let d = 0; d < dim; d++) w.fill(1 / (patch * patch), (d * 3 + d) * patch * patch, (d * 3 + d + 1) * patch * patch);
  const codebook = new Float32Array(codes * dim);
  for (let t = 0; t < codes; t++) colour(t).forEach((p, c) => (codebook[t * dim + c] = level(p)));
  return writeTinyModel(dir, {
    size: PAINTED.size,
    patch,
    dim,
    codes,
    encoderWeights: w,
    codebook,
    normalize: false,
    decoder: opts.decoder,
    name: opts.name ?? 'painted',
  });
}

/** Seeded random tokens for a side x side grid. */
export function randomTokens(seed: number): Int32Array {
  const rng = seededRng(seed);
  return Int32Array.from({ length: PAINTED.side * PAINTED.side }, () => Math.floor(rng() * PAINTED.codes));
}

/** Writes a PNG whose cell (r, c) is painted in the colour of tokens[r * side + c]. */
export async function paintTokens(tokens: Readonly<Int32Array>, file: string): Promise<string> {
  const { size, patch, side } = PAINTED;
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const rgb = colour(tokens[Math.floor(y / patch) * side + Math.floor(x / patch)]);
      data.set(rgb, (y * size + x) * 3);
    }
  }
  await sharp(data, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toFile(file);
  return path.basename(file);
}
