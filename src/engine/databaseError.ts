// The errors a database's reading and writing report: one line naming the
// folder or file and the reason, with a hint of what to do.

export class DatabaseError extends Error {
  constructor(
    message: string,
    /** A short suggestion for the user (e.g. rebuild). */
    readonly hint?: string,
  ) {
    super(hint ? `${message}. ${hint}` : message);
    this.name = 'DatabaseError';
  }
}

/**
 * A database that only a rebuild mends: its files are missing, truncated or
 * damaged, or it cannot be updated with this model or these keys. The extension
 * offers Rebuild on this class alone (its name crosses the engine worker).
 */
export class RebuildNeededError extends DatabaseError {
  override name = 'RebuildNeededError';
  constructor(message: string, hint = 'Rebuild the database (patchlens index --rebuild)') {
    super(message, hint);
  }
}

export class DatabaseLockedError extends DatabaseError {
  override name = 'DatabaseLockedError';
}

const STORAGE_REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for the file system',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'input/output error',
  ENOTDIR: 'a file is where a folder should be',
  ENOENT: 'no such file or folder',
};

const SPACE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'EIO']);

/**
 * A file-system failure while writing a database, as a DatabaseError naming the
 * folder and the reason; anything else is returned as it is.
 */
export function storageError(err: unknown, dbDir: string, what = `cannot write the database in ${dbDir}`): unknown {
  if (err instanceof DatabaseError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || !(code in STORAGE_REASONS)) return err;
  const msg = (err as Error).message ?? '';
  const reason = /not written completely/.test(msg) ? msg.replace(/^the index file \S+ /, 'the index file ') : STORAGE_REASONS[code];
  const hint = `The previous database, if any, is unchanged; ${SPACE_CODES.has(code) ? 'free some space or choose another location' : 'choose a writable location'} with --db`;
  return new DatabaseError(`${what}: ${reason} (${code})`, hint);
}
