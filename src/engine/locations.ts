// Where things are: the bundled model, a dataset's database, a database's dataset.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DbManifest } from '../core/dbManifest';
import { DATABASE_FOLDER, LANCE_TABLES, MANIFEST_FILE } from '../core/vocabulary';

export const BUNDLED_MODEL = 'patchlens-vq16';

/** The package root: the folder above this file (src/engine or dist) holding package.json. */
export function packageRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 4; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'media'))) return dir;
    dir = path.dirname(dir);
  }
  return path.resolve(__dirname, '..');
}

export function bundledModelsDir(): string {
  return path.join(packageRoot(), 'media', 'models');
}

export function bundledModelPath(name = BUNDLED_MODEL): string {
  return path.join(bundledModelsDir(), name, 'manifest.json');
}

/** The nearest `.patchlens` database at or above `start`. */
export function findDatabase(start: string): string | undefined {
  let dir = path.resolve(start);
  for (;;) {
    const candidate = path.join(dir, DATABASE_FOLDER);
    if (fs.existsSync(path.join(candidate, MANIFEST_FILE)) || fs.existsSync(path.join(candidate, `${LANCE_TABLES.meta}.lance`))) return candidate;
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** Whether a local folder holds a Lance patch database (its meta table). */
export function isLanceFolder(dir: string): boolean {
  return fs.existsSync(path.join(dir, `${LANCE_TABLES.meta}.lance`));
}

/** The dataset a database describes: its parent for <root>/.patchlens, else the root it recorded. */
export function datasetRootOf(dbDir: string, manifest: DbManifest): string {
  if (path.basename(dbDir) === DATABASE_FOLDER) return path.dirname(path.resolve(dbDir));
  return manifest.root;
}
