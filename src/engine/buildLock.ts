// The lock file that lets one build at a time write a database folder. It
// records who holds it (pid, host, what, since), so a lock left by a process
// that died on this host is taken over at once, and the error for a live one
// names its holder. Not proper-lockfile: its staleness is an mtime that
// the holder refreshes on a timer (a long synchronous step looks dead) and
// its lock records no holder to name.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LOCK_FILE } from '../core/vocabulary';
import { DatabaseLockedError, storageError } from './databaseError';

interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  what: string;
}

function lockIsStale(info: LockInfo): boolean {
  if (info.host !== os.hostname()) return false; // cannot tell; treat as held
  try {
    process.kill(info.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Takes the database's build lock; a stale lock left by a dead process is recovered. */
export async function acquireLock(dbDir: string, what: string, opts: { wait?: boolean; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<() => void> {
  const file = path.join(dbDir, LOCK_FILE);
  const deadline = Date.now() + (opts.timeoutMs ?? 10 * 60_000);
  for (;;) {
    try {
      const fd = fs.openSync(file, 'wx');
      const info: LockInfo = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), what };
      try {
        fs.writeSync(fd, JSON.stringify(info));
      } catch (err) {
        // an empty lock would block every build for 30 s
        fs.closeSync(fd);
        fs.rmSync(file, { force: true });
        throw storageError(err, dbDir);
      }
      fs.closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        fs.rmSync(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw storageError(err, dbDir, `cannot write to the database folder ${dbDir}`);
    }
    let info: LockInfo | undefined;
    try {
      info = JSON.parse(fs.readFileSync(file, 'utf8')) as LockInfo;
    } catch {
      info = undefined; // being written right now, or garbage
    }
    if (info && lockIsStale(info)) {
      // Rename first so two processes recovering at once cannot both delete a fresh lock.
      const grave = `${file}.stale-${process.pid}`;
      try {
        fs.renameSync(file, grave);
        fs.rmSync(grave, { force: true });
      } catch {
        /* someone else recovered it */
      }
      continue;
    }
    if (!info) {
      const st = fs.statSync(file, { throwIfNoEntry: false });
      if (st && Date.now() - st.mtimeMs > 30_000) {
        fs.rmSync(file, { force: true }); // unreadable for 30 s: left by a crash mid-write
        continue;
      }
    }
    if (!opts.wait || Date.now() > deadline) {
      const who = info ? `process ${info.pid} on ${info.host} (${info.what}, since ${info.startedAt})` : 'another process';
      throw new DatabaseLockedError(
        `the database ${dbDir} is being built by ${who}`,
        opts.wait ? 'Timed out waiting for it' : 'Wait for it to finish, or cancel it',
      );
    }
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
    await new Promise((r) => setTimeout(r, 250));
  }
}
