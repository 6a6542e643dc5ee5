// Synthetic patch keys for the index-only sizes of `npm run bench`: seeded
// latent grids shaped like a VQ encoder's (16 x 16 cells of 8-d unit vectors,
// smooth across neighbouring cells, a few dozen "textures" shared across
// images, plus noise), turned into 32-d causal h=1 keys by the engine's own
// imageKeys. Uniform random vectors would have no meaningful nearest
// neighbours; these have a structure close to real keys, but real keys
// (npm run bench:index) are the figures to quote.

import { imageKeys, entryCount, keyDimension } from '../../src/core/neighbourhood';
import { l2NormalizeRows } from '../../src/core/quantize';
import { seededRng } from '../../src/core/rng';

export const SYN = { rows: 16, cols: 16, dim: 8 } as const;
const KEYS = { shape: 'causal', hops: 1, border: 'skip' } as const;
const TEXTURES = 64;

export const syntheticPerImage = entryCount(SYN.rows, SYN.cols, KEYS.shape, KEYS.hops, KEYS.border);
/** Width of a synthetic key: the causal h = 1 neighbours' vectors. */
export const SYN_KEY_DIM = keyDimension(KEYS.shape, KEYS.hops, SYN.dim);

/** Keys of `images` synthetic images ([images * perImage * 32]), deterministic in `seed`. */
export function syntheticKeys(images: number, seed: number): Float32Array {
  const { rows, cols, dim } = SYN;
  const tex = seededRng(12345); // textures are shared by every set (database and queries)
  const textures = Array.from({ length: TEXTURES }, () => ({
    base: Float32Array.from({ length: dim }, () => tex() * 2 - 1),
    fx: Float32Array.from({ length: dim }, () => (tex() - 0.5) * 1.2),
    fy: Float32Array.from({ length: dim }, () => (tex() - 0.5) * 1.2),
  }));
  const rng = seededRng(seed);
  const grid = new Float32Array(rows * cols * dim);
  const out = new Float32Array(images * syntheticPerImage * SYN_KEY_DIM);
  for (let im = 0; im < images; im++) {
    // Two textures per image, split by a random line; random phases.
    const a = textures[Math.floor(rng() * TEXTURES)];
    const b = textures[Math.floor(rng() * TEXTURES)];
    const px = rng() * 6.28;
    const py = rng() * 6.28;
    const nx = rng() - 0.5;
    const ny = rng() - 0.5;
    const off = (rng() - 0.5) * 8;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const t = nx * (c - 7.5) + ny * (r - 7.5) > off ? a : b;
        const o = (r * cols + c) * dim;
        for (let k = 0; k < dim; k++) grid[o + k] = t.base[k] + Math.sin(t.fx[k] * c + t.fy[k] * r + px + py * k) * 0.6 + (rng() - 0.5) * 0.3;
      }
    }
    l2NormalizeRows(grid, dim);
    out.set(imageKeys(grid, rows, cols, dim, KEYS).keys, im * syntheticPerImage * SYN_KEY_DIM);
  }
  return out;
}
