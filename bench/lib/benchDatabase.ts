// The benchmark databases shaped like Janus-Pro's (384 px input, 24x24 grid,
// d = 8, causal h = 1 keys with skipped borders: 506 entries an image, key dim
// 32, HNSW M 16), tokenized by a small real ONNX model from synthetic photos.
// Built once into .cache/bench-inspector/ and reused by every benchmark that
// needs a database of a given size (bench:inspector's 1M one included).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { entryCount } from '../../src/core/neighbourhood';
import { MANIFEST_FILE } from '../../src/core/dbManifest';
import { buildDatabase } from '../../src/engine/indexer';
import { texturedImage } from '../../test/support/fixtures';
import { writeTinyModel } from '../../test/support/tinyModel';

export const ENTRIES_PER_IMAGE = entryCount(24, 24, 'causal', 1, 'skip');

export interface BenchDatabase {
  readonly dir: string;
  readonly root: string;
  readonly dbDir: string;
  readonly model: string;
  readonly images: number;
}

/** Where the database of about `entries` entries lives (whether or not it is built yet). */
export function benchDatabasePaths(repo: string, entries: number, efConstruction = 100, codes = 4096): BenchDatabase {
  const images = Math.ceil(entries / ENTRIES_PER_IMAGE);
  const dir = path.join(repo, '.cache', 'bench-inspector', `n${images}-ef${efConstruction}-k${codes}`);
  const root = path.join(dir, 'photos');
  return { dir, root, dbDir: path.join(root, '.patchlens'), model: path.join(dir, 'model', 'manifest.json'), images };
}

/** Builds (or updates) the database of about `entries` entries unless it is there; returns its paths. */
export async function ensureBenchDatabase(
  repo: string,
  entries: number,
  log: (line: string) => void,
  efConstruction = 100,
  codes = 4096,
): Promise<BenchDatabase> {
  const db = benchDatabasePaths(repo, entries, efConstruction, codes);
  fs.mkdirSync(db.root, { recursive: true });
  if (!fs.existsSync(db.model)) writeTinyModel(path.dirname(db.model), { size: 384, patch: 16, dim: 8, codes, seed: 7 });
  let built = false;
  try {
    const m = JSON.parse(fs.readFileSync(path.join(db.dbDir, MANIFEST_FILE), 'utf8')) as { images?: unknown[] };
    built = (m.images?.length ?? 0) >= db.images;
  } catch {
    built = false;
  }
  if (built) return db;
  const t0 = performance.now();
  for (let i = 0; i < db.images; i++) {
    const f = path.join(db.root, `photo-${String(i).padStart(5, '0')}.png`);
    if (!fs.existsSync(f)) await (await texturedImage(96, 96, 1000 + i)).png().toFile(f);
  }
  log(`dataset: ${db.images} images written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  let last = 0;
  const r = await buildDatabase({
    root: db.root,
    dbDir: db.dbDir,
    model: db.model,
    keys: { shape: 'causal', hops: 1, border: 'skip', source: 'latent' },
    hnsw: { m: 16, efConstruction, ef: 64 },
    onProgress: (p) => {
      if (p.phase === 'encode' && p.done - last >= 200) {
        last = p.done;
        log(`  build: ${p.done}/${p.total} images`);
      }
    },
  });
  log(`database: ${r.entries.toLocaleString('en-US')} entries built in ${(r.elapsedMs / 1000).toFixed(0)} s (HNSW M 16, efConstruction ${efConstruction})`);
  return db;
}
