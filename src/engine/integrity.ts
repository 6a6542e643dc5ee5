// Which checks an open makes of a database's files, and the record that lets
// it skip re-hashing them.
//
// Every file's size and SHA-256 are in the manifest. Hashing them all costs
// time proportional to the database (seconds at a million entries), so after a
// full check passes, the checker records each file's identity in
// `verified.json`: size, inode, device, and mtime and ctime in nanoseconds.
// Later opens compare sizes and identities (one stat a file) and hash only
// when something differs. Any write through the file system changes ctime,
// which cannot be set back (utimes sets mtime and atime and itself moves
// ctime to now), so a file rewritten, even with the same size and its mtime
// restored, is hashed again before it is read. What the record cannot see is
// damage beneath the file system (the medium, a raw block write): sessions
// that stay open (the extension's engine, `patchlens serve`) hash every file
// in the background after opening and stop answering if one differs.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DbFileRef, DbManifest } from '../core/dbManifest';

/** The record of the last full check, next to the manifest. */
export const VERIFIED_FILE = 'verified.json';
const VERIFIED_FORMAT = 'patchlens.verified/v1';

/** What an open checked: every file's SHA-256, or sizes and identities against the record of a full check, or sizes only. */
export type OpenCheck = 'full' | 'identity' | 'sizes';

export interface FileIdentity {
  readonly file: string;
  readonly bytes: number;
  readonly ino: string;
  readonly dev: string;
  readonly mtimeNs: string;
  readonly ctimeNs: string;
}

interface VerifiedRecord {
  readonly format: typeof VERIFIED_FORMAT;
  /** The checksum of the manifest the files were checked against. */
  readonly manifest: string;
  readonly verifiedAt: string;
  readonly files: readonly FileIdentity[];
}

/** The files a manifest names, the ones whose contents it vouches for. */
export function manifestFiles(m: DbManifest): DbFileRef[] {
  return [m.index, ...(m.index.delta ? [m.index.delta] : []), m.prototypes, ...m.segments];
}

/** A file's identity now; undefined when it is not there. */
export function fileIdentity(dbDir: string, file: string): FileIdentity | undefined {
  const st = fs.statSync(path.join(dbDir, file), { bigint: true, throwIfNoEntry: false });
  if (!st) return undefined;
  return { file, bytes: Number(st.size), ino: String(st.ino), dev: String(st.dev), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs) };
}

const sameIdentity = (a: FileIdentity, b: FileIdentity) =>
  a.file === b.file && a.bytes === b.bytes && a.ino === b.ino && a.dev === b.dev && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;

/** Whether the record says these files, exactly as they are now, passed a full check against this manifest. */
export function recordMatches(dbDir: string, manifestChecksum: string, now: readonly FileIdentity[]): boolean {
  let rec: VerifiedRecord;
  try {
    rec = JSON.parse(fs.readFileSync(path.join(dbDir, VERIFIED_FILE), 'utf8')) as VerifiedRecord;
  } catch {
    return false;
  }
  if (rec?.format !== VERIFIED_FORMAT || rec.manifest !== manifestChecksum || !Array.isArray(rec.files)) return false;
  const byFile = new Map(rec.files.map((f) => [f?.file, f]));
  return (
    now.length > 0 &&
    now.every((f) => {
      const r = byFile.get(f.file);
      return r !== undefined && sameIdentity(r, f);
    })
  );
}

/** The record's text for files that just passed a full check. */
export function verifiedRecordText(manifestChecksum: string, files: readonly FileIdentity[]): string {
  const rec: VerifiedRecord = { format: VERIFIED_FORMAT, manifest: manifestChecksum, verifiedAt: new Date().toISOString(), files };
  return JSON.stringify(rec);
}

/** Removes the record (after damage was found: the next open hashes everything again). */
export function forgetVerified(dbDir: string): void {
  try {
    fs.rmSync(path.join(dbDir, VERIFIED_FILE), { force: true });
  } catch {
    /* a read-only database keeps its record; the damage is reported all the same */
  }
}
