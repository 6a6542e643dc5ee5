// Temporary folders and generated images for engine tests.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { seededRng } from '../../src/core/rng';

/** A fresh temporary folder, removed when the test process exits. */
export function tempDir(prefix = 'patchlens-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A textured RGB image: smooth gradients plus seeded blobs, so nearby patches
 * differ and tokens vary (a flat colour would give one token everywhere).
 */
export async function texturedImage(width: number, height: number, seed: number): Promise<sharp.Sharp> {
  const rng = seededRng(seed);
  const data = new Uint8Array(width * height * 3);
  const blobs = Array.from({ length: 6 }, () => ({
    x: rng() * width,
    y: rng() * height,
    r: 5 + rng() * Math.min(width, height) * 0.3,
    c: [rng() * 255, rng() * 255, rng() * 255],
  }));
  const f = 0.02 + rng() * 0.1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 128 + 100 * Math.sin(x * f + seed);
      let g = 128 + 100 * Math.cos(y * f * 1.3);
      let b = (x * 255) / width;
      for (const bl of blobs) {
        if ((x - bl.x) ** 2 + (y - bl.y) ** 2 < bl.r ** 2) [r, g, b] = bl.c;
      }
      const i = (y * width + x) * 3;
      data[i] = r;
      data[i + 1] = g;
      data[i + 2] = b;
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } });
}

/** Writes n textured PNGs (img-00.png ...) into dir; returns their names. */
export async function writeDataset(dir: string, n: number, opts: { width?: number; height?: number; seed?: number; prefix?: string } = {}): Promise<string[]> {
  fs.mkdirSync(dir, { recursive: true });
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = `${opts.prefix ?? 'img'}-${String(i).padStart(2, '0')}.png`;
    const img = await texturedImage(opts.width ?? 96 + (i % 3) * 16, opts.height ?? 80 + (i % 2) * 24, (opts.seed ?? 1) * 1000 + i);
    await img.png().toFile(path.join(dir, name));
    names.push(name);
  }
  return names;
}
