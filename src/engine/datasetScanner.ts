// Lists the images of a dataset folder: supported extensions, include/exclude
// globs, hidden folders and the database folder skipped, symlinks followed only
// while they stay inside the root (loops detected).

import * as fs from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';
import { isSupportedImage } from '../core/imageTypes';
import { archiveKind } from '../core/datasetLayout';
import { isInside } from '../core/paths';

export interface DatasetFile {
  /** Relative to the root, '/'-separated. */
  readonly rel: string;
  readonly abs: string;
  readonly bytes: number;
  readonly mtimeMs: number;
}

export interface ScanOptions {
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  /** Folders never entered (e.g. the database folder). */
  readonly skipDirs?: readonly string[];
}

export interface ScanResult {
  readonly files: DatasetFile[];
  /** Archives (tar, zip, Parquet, HDF5: see datasetLayout), listed as folders by the catalog; not filtered by include/exclude (their members are). */
  readonly archives: DatasetFile[];
  readonly skipped: { path: string; error: string }[];
}

export function toRel(root: string, abs: string): string {
  return path.relative(root, abs).split(path.sep).join('/');
}

export function scanDataset(root: string, opts: ScanOptions = {}): ScanResult {
  const rootAbs = path.resolve(root);
  let rootReal: string;
  try {
    rootReal = fs.realpathSync(rootAbs);
  } catch (err) {
    throw new Error(`cannot read the dataset folder ${rootAbs}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  if (!fs.statSync(rootReal).isDirectory()) throw new Error(`${rootAbs} is not a folder`);
  const inc = opts.include?.length ? picomatch(opts.include as string[], { dot: true }) : undefined;
  const exc = opts.exclude?.length ? picomatch(opts.exclude as string[], { dot: true }) : undefined;
  const skipReal = new Set(
    (opts.skipDirs ?? []).map((d) => {
      try {
        return fs.realpathSync(d);
      } catch {
        return path.resolve(d);
      }
    }),
  );
  const files: DatasetFile[] = [];
  const archives: DatasetFile[] = [];
  const skipped: { path: string; error: string }[] = [];
  const visited = new Set<string>();

  const walk = (dirAbs: string, dirReal: string) => {
    if (visited.has(dirReal)) return; // a symlink loop, or the same folder reached twice
    visited.add(dirReal);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dirAbs, { withFileTypes: true });
    } catch (err) {
      skipped.push({ path: toRel(rootAbs, dirAbs) || '.', error: `cannot read folder: ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const abs = path.join(dirAbs, e.name);
      const rel = toRel(rootAbs, abs);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      let real = path.join(dirReal, e.name);
      if (e.isSymbolicLink()) {
        try {
          real = fs.realpathSync(abs);
          const st = fs.statSync(real);
          isDir = st.isDirectory();
          isFile = st.isFile();
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (isSupportedImage(e.name) || code === 'ELOOP') skipped.push({ path: rel, error: code === 'ELOOP' ? 'symlink loop' : 'broken symlink' });
          continue;
        }
        if (!isInside(rootReal, real)) {
          if (isDir || isSupportedImage(e.name)) skipped.push({ path: rel, error: 'symlink points outside the dataset root' });
          continue;
        }
      }
      if (isDir) {
        if (e.name === 'node_modules' || skipReal.has(real)) continue;
        walk(abs, real);
      } else if (isFile && (isSupportedImage(e.name) || archiveKind(e.name))) {
        const archive = !isSupportedImage(e.name);
        if (!archive && inc && !inc(rel)) continue;
        if (exc && exc(rel)) continue;
        try {
          const st = fs.statSync(abs);
          (archive ? archives : files).push({ rel, abs, bytes: st.size, mtimeMs: Math.floor(st.mtimeMs) });
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          // readdir gave U+FFFD for bytes that are not UTF-8: that name cannot be opened from JavaScript
          const why =
            code === 'ENOENT' && e.name.includes('\ufffd') ? 'file name is not valid UTF-8; rename the file' : `cannot read file: ${code ?? String(err)}`;
          skipped.push({ path: rel, error: why });
        }
      }
    }
  };
  walk(rootAbs, rootReal);
  files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  archives.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return { files, archives, skipped };
}
