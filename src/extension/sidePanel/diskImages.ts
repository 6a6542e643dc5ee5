// Lists a dataset's image and archive files for the Datasets tree, asynchronously (the
// extension host's thread is never blocked on a big folder) and by the same
// rules as the indexer's scanner: supported extensions, include/exclude
// globs, hidden entries, node_modules and the database folder skipped,
// symlinks followed only while they stay inside the root.

import * as fs from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';
import { isSupportedImage } from '../../core/imageTypes';
import { archiveKind } from '../../core/datasetLayout';
import type { DiskImage } from './datasetTreeModel';
import { isInside } from '../../core/paths';

export interface ListOptions {
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  readonly skipDirs?: readonly string[];
  /** Stop after this many images (the tree says there are more). */
  readonly limit?: number;
}

/** Image files (up to the limit) and archive files (tar, zip, Parquet, HDF5: folders of members in the tree). */
export async function listDiskImages(root: string, opts: ListOptions = {}): Promise<{ images: DiskImage[]; archives: DiskImage[]; truncated: boolean }> {
  const rootAbs = path.resolve(root);
  const rootReal = await fs.promises.realpath(rootAbs);
  const inc = opts.include?.length ? picomatch(opts.include as string[], { dot: true }) : undefined;
  const exc = opts.exclude?.length ? picomatch(opts.exclude as string[], { dot: true }) : undefined;
  const skip = new Set<string>();
  for (const d of opts.skipDirs ?? []) skip.add(await fs.promises.realpath(d).catch(() => path.resolve(d)));
  const limit = opts.limit ?? Infinity;
  const images: DiskImage[] = [];
  const archives: DiskImage[] = [];
  const visited = new Set<string>();
  let truncated = false;
  const walk = async (dirAbs: string, dirReal: string): Promise<void> => {
    if (visited.has(dirReal) || truncated) return;
    visited.add(dirReal);
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(dirAbs, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (truncated) return;
      if (e.name.startsWith('.')) continue;
      const abs = path.join(dirAbs, e.name);
      let real = path.join(dirReal, e.name);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        try {
          real = await fs.promises.realpath(abs);
          const st = await fs.promises.stat(real);
          isDir = st.isDirectory();
          isFile = st.isFile();
        } catch {
          continue;
        }
        if (!isInside(rootReal, real)) continue;
      }
      if (isDir) {
        if (e.name === 'node_modules' || skip.has(real)) continue;
        await walk(abs, real);
      } else if (isFile && (isSupportedImage(e.name) || archiveKind(e.name))) {
        const rel = path.relative(rootAbs, abs).split(path.sep).join('/');
        const archive = !isSupportedImage(e.name);
        // include globs name images (members included): an archive is kept and its members filtered
        if (!archive && inc && !inc(rel)) continue;
        if (exc && exc(rel)) continue;
        try {
          const st = await fs.promises.stat(abs);
          (archive ? archives : images).push({ rel, bytes: st.size, mtimeMs: Math.floor(st.mtimeMs) });
        } catch {
          continue;
        }
        if (images.length >= limit) truncated = true;
      }
    }
  };
  await walk(rootAbs, rootReal);
  return { images, archives, truncated };
}
