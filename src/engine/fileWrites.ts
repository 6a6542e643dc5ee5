// Writes that survive a crash or a full disk: a folder made with its parents,
// a file either absent or complete, fsync of what was renamed.

import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Creates a folder and its missing parents; returns whether `dir` itself was
 * created. (Not fs.mkdirSync's recursive mode: Node's loops forever where
 * mkdir fails with ENOENT under an existing parent, e.g. anywhere in /proc.)
 */
export function makeDirs(dir: string): boolean {
  try {
    fs.mkdirSync(dir);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if (fs.statSync(dir).isDirectory()) return false;
      throw Object.assign(new Error(`${dir} is a file, not a folder`), { code: 'ENOTDIR' });
    }
    const parent = path.dirname(dir);
    if (code === 'ENOENT' && parent !== dir && !fs.existsSync(parent)) {
      makeDirs(parent);
      fs.mkdirSync(dir);
      return true;
    }
    throw err;
  }
}

export function fsyncPath(p: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(p, 'r');
    fs.fsyncSync(fd);
  } catch {
    // fsync of a directory is not possible everywhere; the rename is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Writes a file so that it is either absent or complete: temp file, fsync, rename, fsync the folder. */
export function writeFileAtomic(file: string, data: string | Uint8Array, beforeRename?: () => void): void {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  beforeRename?.();
  fs.renameSync(tmp, file);
  fsyncPath(path.dirname(file));
}
