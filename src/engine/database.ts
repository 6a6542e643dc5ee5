// The on-disk patch database, read side, and the files' life cycle.
//
// A database is a folder (default <dataset>/.patchlens/) holding
//   manifest.json       what is in it; replaced atomically (write, fsync, rename)
//   seg-<gen>.bin       image records: tokens, code distances, latents
//   index-<gen>.hnsw    the HNSW index over all entries' keys
//   codes-<gen>.bin     per-code pixel sums and counts (prototypes), the codebook
//   lock                held by the one build running
//   verified.json       identities of the files when they last passed a full check (integrity.ts)
// A build writes new files under a new generation number and commits by
// replacing manifest.json; files no manifest names are removed afterwards. A
// killed build therefore leaves the previous database readable.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { DbFormatError, recordBytes, validateDbManifest, type DbFileRef, type DbImage, type DbManifest } from '../core/dbManifest';
import { codeGrid, entryRange, imageKeys, keyDimension, neighbourOffsets, writeKey, type KeySource } from '../core/neighbourhood';
import { ExactPatchIndex, HnswPatchIndex } from './patchIndex';
import { VERIFIED_FILE, fileIdentity, forgetVerified, manifestFiles, recordMatches, verifiedRecordText, type FileIdentity, type OpenCheck } from './integrity';
import { LayeredPatchIndex } from './layeredPatchIndex';
import type { ImageRecord, PatchStore, StoreBackend, StoreCodes, StoreIndex } from './patchStore';
import { sha256, sha256File, sha256Gently } from './sha256';
import { writeFileAtomic } from './fileWrites';
import { acquireLock } from './buildLock';
import { RebuildNeededError, DatabaseError } from './databaseError';

import { DATABASE_FOLDER, GENERATION_FILES, GENERATION_FILE_PATTERN, GITIGNORE_FILE, LOCK_FILE, MANIFEST_FILE } from '../core/vocabulary';

export { LOCK_FILE, MANIFEST_FILE };
export { DatabaseError, DatabaseLockedError, storageError } from './databaseError';

export function defaultDbDir(datasetRoot: string): string {
  return path.join(datasetRoot, DATABASE_FOLDER);
}

export function fileRef(dir: string, file: string): DbFileRef {
  const p = path.join(dir, file);
  return { file, bytes: fs.statSync(p).size, sha256: sha256File(p) };
}

export function readDbManifest(dbDir: string): DbManifest | undefined {
  return readManifestAndChecksum(dbDir)?.manifest;
}

/** The manifest and its checksum (the key of the verified record). */
function readManifestAndChecksum(dbDir: string): { manifest: DbManifest; checksum: string } | undefined {
  const p = path.join(dbDir, MANIFEST_FILE);
  let text: string;
  try {
    text = fs.readFileSync(p, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DatabaseError(`cannot read ${p}: ${(err as Error).message}`);
  }
  try {
    const raw = JSON.parse(text) as { checksum?: unknown };
    const checksum = typeof raw === 'object' && raw !== null ? raw.checksum : undefined;
    return { manifest: validateDbManifest(checkManifestChecksum(raw)), checksum: String(checksum) };
  } catch (err) {
    const why = err instanceof DbFormatError ? err.message : `not valid JSON (${(err as Error).message})`;
    throw new RebuildNeededError(`the database manifest ${p} is damaged: ${why}`);
  }
}

/**
 * The manifest as written to disk: its JSON plus `checksum`, the SHA-256 of the
 * JSON without it, so that a bit flip anywhere in the manifest (not only in the
 * files it names) is detected when the database is opened.
 */
export function serializeDbManifest(m: DbManifest): string {
  const { checksum: _, ...rest } = m as DbManifest & { checksum?: unknown };
  return JSON.stringify({ ...rest, checksum: sha256(JSON.stringify(rest)) });
}

/** Checks and strips the checksum of a parsed manifest (JSON.stringify of what JSON.parse gave is the text that was hashed). */
function checkManifestChecksum(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const { checksum, ...rest } = raw as Record<string, unknown>;
  if (typeof checksum !== 'string') throw new DbFormatError('it has no checksum (written by an older version, or edited)');
  if (sha256(JSON.stringify(rest)) !== checksum) throw new DbFormatError('checksum mismatch (the file was changed after it was written)');
  return rest;
}

// ---------------------------------------------------------------- reading

/** The parts of a database an update may copy bytes from (verifyCarried). */
export type CarriedPart = 'segments' | 'codes' | 'base' | 'delta';

export interface OpenOptions {
  /**
   * true: check every file's SHA-256 against the manifest; false: sizes only;
   * by default sizes and file identities against the record of the last full
   * check (verified.json), and every SHA-256 when the record does not match.
   */
  readonly verify?: boolean;
  /** Search beam width override. */
  readonly ef?: number;
}

export type { ImageRecord };

function damaged(dbDir: string, file: string): DatabaseError {
  return new RebuildNeededError(`the database file ${path.join(dbDir, file)} is damaged (checksum mismatch)`);
}

/** Each file's identity, checking that it is there and has the size the manifest says. */
function identities(dbDir: string, refs: readonly DbFileRef[]): FileIdentity[] {
  return refs.map((ref) => {
    const p = path.join(dbDir, ref.file);
    let id: FileIdentity | undefined;
    try {
      id = fileIdentity(dbDir, ref.file);
    } catch (err) {
      throw new RebuildNeededError(`the database file ${p} cannot be read (${(err as NodeJS.ErrnoException).code})`);
    }
    if (!id) throw new RebuildNeededError(`the database file ${p} is missing (ENOENT)`);
    if (id.bytes !== ref.bytes)
      throw new RebuildNeededError(`the database file ${p} has ${id.bytes} bytes, the manifest says ${ref.bytes} (truncated or replaced)`);
    return id;
  });
}

function readChecked(dbDir: string, ref: DbFileRef, verify: boolean): Buffer {
  const p = path.join(dbDir, ref.file);
  let buf: Buffer;
  try {
    buf = fs.readFileSync(p);
  } catch (err) {
    throw new RebuildNeededError(`the database file ${p} is missing (${(err as NodeJS.ErrnoException).code})`);
  }
  if (buf.length !== ref.bytes)
    throw new RebuildNeededError(`the database file ${p} has ${buf.length} bytes, the manifest says ${ref.bytes} (truncated or replaced)`);
  if (verify && sha256(buf) !== ref.sha256) {
    throw new RebuildNeededError(`the database file ${p} is damaged (checksum mismatch)`);
  }
  return buf;
}

/** An 4-byte aligned copy when the buffer is not aligned (typed-array views need it). */
function aligned(buf: Buffer): Uint8Array {
  return buf.byteOffset % 4 === 0 ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : new Uint8Array(buf);
}

/** A database opened for reading: the manifest, the image records and the index, in memory. */
export class PatchDatabase<I extends StoreIndex = LayeredPatchIndex> implements PatchStore {
  readonly backend: StoreBackend = 'hnsw';
  readonly imageIndex = new Map<string, number>();
  private readonly labelStarts: Float64Array;
  private readonly labelOrder: Int32Array;
  private exact?: ExactPatchIndex;
  private codesCache?: StoreCodes;
  private found?: DatabaseError;
  private background?: Promise<DatabaseError | undefined>;
  /** The parts verifyCarried has hashed. */
  private readonly carriedChecked = new Set<CarriedPart>();

  protected constructor(
    readonly dir: string,
    readonly manifest: DbManifest,
    private readonly segments: Uint8Array[],
    readonly index: I,
    /** What the open checked of the files' contents. */
    readonly checked: OpenCheck,
    /** The identities at open of the files answered from in place (the index files, mapped: see assertIntact). */
    private readonly mapped: readonly FileIdentity[] = [],
  ) {
    manifest.images.forEach((img, i) => this.imageIndex.set(img.path, i));
    this.labelOrder = Int32Array.from(manifest.images.map((_, i) => i)).sort((a, b) => manifest.images[a].firstLabel - manifest.images[b].firstLabel);
    this.labelStarts = Float64Array.from(this.labelOrder, (i) => manifest.images[i].firstLabel);
  }

  /** Opens the database in dbDir; undefined when there is none. */
  static open(dbDir: string, opts: OpenOptions = {}): PatchDatabase | undefined {
    for (let attempt = 0; ; attempt++) {
      const read = readManifestAndChecksum(dbDir);
      if (!read) return undefined;
      const { manifest } = read;
      try {
        return PatchDatabase.load(dbDir, manifest, read.checksum, opts);
      } catch (err) {
        // A build may have committed and removed the old files between our reads: retry once.
        const again = readDbManifest(dbDir);
        if (attempt === 0 && again && again.generation !== manifest.generation) continue;
        throw err;
      }
    }
  }

  private static load(dbDir: string, manifest: DbManifest, checksum: string, opts: OpenOptions): PatchDatabase {
    const refs = manifestFiles(manifest);
    const before = identities(dbDir, refs);
    const recorded = opts.verify !== false && recordMatches(dbDir, checksum, before);
    const checked: OpenCheck = opts.verify === false ? 'sizes' : opts.verify !== true && recorded ? 'identity' : 'full';
    const full = checked === 'full';
    const segments = manifest.segments.map((s) => aligned(readChecked(dbDir, s, full)));
    const mi = manifest.index;
    const delta = mi.delta;
    if (full) {
      // hnswlib reads the index files itself: hashed here first, in steps, without holding them
      for (const ref of [manifest.prototypes, mi, ...(delta ? [delta] : [])])
        if (sha256File(path.join(dbDir, ref.file)) !== ref.sha256) throw damaged(dbDir, ref.file);
      // Recorded only if no file changed while it was hashed.
      if (!recorded && JSON.stringify(identities(dbDir, refs)) === JSON.stringify(before)) recordVerified(dbDir, manifest, checksum);
    }
    let index: LayeredPatchIndex;
    let file = mi.file;
    try {
      const ef = opts.ef ?? mi.ef;
      const base = HnswPatchIndex.load(path.join(dbDir, mi.file), mi.keyDim, ef, delta ? delta.baseEntries : mi.entries);
      file = delta?.file ?? file;
      const deltaIndex = delta ? HnswPatchIndex.load(path.join(dbDir, delta.file), mi.keyDim, ef, delta.entries) : undefined;
      const params = { m: mi.m, efConstruction: mi.efConstruction, ef: mi.ef };
      index = new LayeredPatchIndex(base, deltaIndex, delta?.firstLabel ?? manifest.nextLabel, [], params);
      // Base entries removed since the base was written are marked in memory only.
      for (const [first, count] of delta?.baseRemoved ?? []) index.remove(Array.from({ length: count }, (_, i) => first + i));
    } catch (err) {
      throw new RebuildNeededError(`the index ${file} cannot be read: ${(err as Error).message}`);
    }
    const indexFiles = new Set([mi.file, ...(delta ? [delta.file] : [])]);
    return new PatchDatabase(
      dbDir,
      manifest,
      segments,
      index,
      checked,
      before.filter((id) => indexFiles.has(id.file)),
    );
  }

  /** Damage found by verifyContents (undefined until then, or when none was). */
  get damage(): DatabaseError | undefined {
    return this.found;
  }

  /**
   * Throws the damage verifyContents found: a session stops answering from a
   * damaged database. Also checks, one stat each, that the index files are as
   * they were at open: hnswlib answers from them in place (level 0 is mapped
   * from the file), so a write to one through the file system while the
   * session is open (it moves ctime) is damage from then on. A file gone is
   * not: a build that committed a new generation removed it, the mapping
   * still holds the old contents, and the session reopens on the new manifest.
   */
  assertIntact(): void {
    if (this.found) throw this.found;
    for (const id of this.mapped) {
      const now = fileIdentity(this.dir, id.file);
      if (now && JSON.stringify(now) !== JSON.stringify(id)) {
        this.found = new RebuildNeededError(`the database file ${path.join(this.dir, id.file)} was changed while open (it is never rewritten in place)`);
        forgetVerified(this.dir);
        throw this.found;
      }
    }
  }

  /**
   * Hashes now, against the manifest, the files whose bytes an update copies into new files (unless the open hashed
   * everything): a copy gets a fresh checksum, which would hide damage in what it copied. Files an update only
   * refers to keep their checksums in the new manifest, so any later full check still finds damage in them.
   * Throws the damaged file's RebuildNeededError and removes the verified record.
   */
  verifyCarried(wanted: readonly CarriedPart[]): void {
    if (this.checked === 'full') return;
    // a fold that also compacts asks for the segments twice: each part is hashed once
    const parts = wanted.filter((p) => !this.carriedChecked.has(p));
    const m = this.manifest;
    const sources: [DbFileRef, Uint8Array | string][] = [];
    if (parts.includes('segments')) sources.push(...m.segments.map((s, i): [DbFileRef, Uint8Array] => [s, this.segments[i]]));
    if (parts.includes('codes')) sources.push([m.prototypes, path.join(this.dir, m.prototypes.file)]);
    if (parts.includes('base')) sources.push([m.index, path.join(this.dir, m.index.file)]);
    if (parts.includes('delta') && m.index.delta) sources.push([m.index.delta, path.join(this.dir, m.index.delta.file)]);
    for (const [ref, source] of sources) {
      if ((typeof source === 'string' ? sha256File(source) : sha256(source)) === ref.sha256) continue;
      forgetVerified(this.dir);
      throw damaged(this.dir, ref.file);
    }
    for (const p of parts) this.carriedChecked.add(p);
  }

  /**
   * Hashes every file the database answers from against the manifest, in steps
   * that let queries run in between: the records as they are in memory, the
   * index and codes files on disk. Damage is kept (see damage, assertIntact) and
   * the verified record removed, so the next open hashes everything too. Runs
   * once per database; later calls return the same promise.
   */
  verifyContents(signal?: AbortSignal): Promise<DatabaseError | undefined> {
    this.background ??= (async () => {
      const m = this.manifest;
      const sources: [DbFileRef, Uint8Array | string][] = [
        ...m.segments.map((s, i): [DbFileRef, Uint8Array] => [s, this.segments[i]]),
        [m.prototypes, path.join(this.dir, m.prototypes.file)],
        [m.index, path.join(this.dir, m.index.file)],
        ...(m.index.delta ? [[m.index.delta, path.join(this.dir, m.index.delta.file)] as [DbFileRef, string]] : []),
      ];
      for (const [ref, source] of sources) {
        let digest: string | undefined;
        try {
          digest = await sha256Gently(source, signal);
        } catch (err) {
          // a file the manifest names is gone or unreadable: only a damaged database loses one
          if (!stillCurrent(this.dir, m.generation)) return undefined;
          digest = `unreadable: ${(err as NodeJS.ErrnoException).code}`;
        }
        if (digest === undefined) return undefined; // aborted
        if (digest !== ref.sha256) {
          this.found = damaged(this.dir, ref.file);
          forgetVerified(this.dir);
          return this.found;
        }
      }
      return undefined;
    })();
    return this.background;
  }

  get model() {
    return this.manifest.model;
  }

  get keys() {
    return this.manifest.keys;
  }

  get entryCount(): number {
    return this.manifest.index.entries;
  }

  get keyDim(): number {
    return this.manifest.index.keyDim;
  }

  image(i: number): DbImage {
    return this.manifest.images[i];
  }

  /** The stored token grid, code distances and latents of image i (views, not copies). */
  record(i: number): ImageRecord {
    const img = this.manifest.images[i];
    const { rows, cols, dim } = this.manifest.model;
    const cells = rows * cols;
    const seg = this.segments[img.segment];
    const base = seg.byteOffset + img.offset;
    return {
      tokens: new Int32Array(seg.buffer, base, cells),
      distances: new Float32Array(seg.buffer, base + cells * 4, cells),
      latents: new Float32Array(seg.buffer, base + cells * 8, cells * dim),
    };
  }

  /** Raw bytes of image i's record (for copying into a new segment). */
  recordBytes(i: number): Uint8Array {
    const img = this.manifest.images[i];
    const { rows, cols, dim } = this.manifest.model;
    return this.segments[img.segment].subarray(img.offset, img.offset + recordBytes(rows, cols, dim));
  }

  /** Which image and grid position a label is. */
  locate(label: number): { image: number; row: number; col: number } | undefined {
    let lo = 0;
    let hi = this.labelStarts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.labelStarts[mid] <= label) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi < 0) return undefined;
    const image = this.labelOrder[hi];
    const img = this.manifest.images[image];
    const e = label - img.firstLabel;
    if (e >= img.entries) return undefined;
    const { row, col } = entryPosition(this.manifest, e);
    return { image, row, col };
  }

  /** The vectors keys are built from for image i: its latents or its tokens' codebook vectors. */
  sourceGrid(i: number, source: KeySource): Float32Array {
    const rec = this.record(i);
    if (source === 'latent') return rec.latents;
    return codeGrid(rec.tokens, this.codebook, this.manifest.model.dim);
  }

  /** The brute-force index over the same keys (built on first use from the stored records). */
  exactIndex(): StoreIndex {
    if (this.exact) return this.exact;
    const { rows, cols, dim } = this.manifest.model;
    const ex = new ExactPatchIndex(this.keyDim, this.entryCount);
    this.manifest.images.forEach((img, i) => {
      const grid = this.sourceGrid(i, this.manifest.keys.source);
      const k = imageKeys(grid, rows, cols, dim, this.manifest.keys);
      const labels = new Float64Array(img.entries);
      for (let e = 0; e < img.entries; e++) labels[e] = img.firstLabel + e;
      ex.add(k.keys, labels);
    });
    this.exact = ex;
    return ex;
  }

  /** Key of one grid position of image i built from `grid` (any in-grid position; off-grid neighbours are zeros). */
  keyAt(grid: Readonly<Float32Array>, row: number, col: number): Float32Array {
    const { rows, cols, dim } = this.manifest.model;
    const offsets = neighbourOffsets(this.manifest.keys.shape, this.manifest.keys.hops);
    const out = new Float32Array(keyDimension(this.manifest.keys.shape, this.manifest.keys.hops, dim));
    writeKey(grid, rows, cols, dim, offsets, row, col, out);
    return out;
  }

  /** The codes file: per-code pixel sums and counts (prototypes) and the codebook as used for keys. */
  codes(): StoreCodes {
    if (this.codesCache) return this.codesCache;
    const buf = aligned(readChecked(this.dir, this.manifest.prototypes, false));
    const { codebookSize: K, dim } = this.manifest.model;
    const p = this.manifest.prototypes.patch;
    const n = K * p * p * 3;
    if (buf.byteLength !== (n + K + K * dim) * 4) throw new RebuildNeededError(`the codes file ${this.manifest.prototypes.file} has the wrong size`);
    this.codesCache = {
      patch: p,
      sums: new Float32Array(buf.buffer, buf.byteOffset, n),
      counts: new Uint32Array(buf.buffer, buf.byteOffset + n * 4, K),
      codebook: new Float32Array(buf.buffer, buf.byteOffset + (n + K) * 4, K * dim),
    };
    return this.codesCache;
  }

  get codebook(): Float32Array {
    return this.codes().codebook;
  }

  /** Total bytes of the database's files on disk. */
  diskBytes(): number {
    const m = this.manifest;
    return (
      m.index.bytes + (m.index.delta?.bytes ?? 0) + m.prototypes.bytes + m.segments.reduce((a, s) => a + s.bytes, 0) + Buffer.byteLength(JSON.stringify(m))
    );
  }
}

/**
 * Records that the files the manifest names passed a full check as they are
 * now (a build calls it right after its commit: it has just hashed what it
 * wrote). Best effort: a reader without write access records nothing, and the
 * next open checks everything again.
 */
export function recordVerified(dbDir: string, manifest: DbManifest, checksum: string): void {
  try {
    writeFileAtomic(path.join(dbDir, VERIFIED_FILE), verifiedRecordText(checksum, identities(dbDir, manifestFiles(manifest))));
  } catch {
    /* see above */
  }
}

/** The checksum a manifest's text carries (what the verified record is keyed by). */
export function manifestChecksum(text: string): string {
  return String((JSON.parse(text) as { checksum?: unknown }).checksum);
}

/** Whether the manifest in dbDir is still of this generation (a rebuild removes the old files: not damage). */
function stillCurrent(dbDir: string, generation: number): boolean {
  try {
    return readDbManifest(dbDir)?.generation === generation;
  } catch {
    return true;
  }
}

/** Grid position of the e-th entry of an image (entries are row-major over the entry range). */
export function entryPosition(manifest: DbManifest, e: number): { row: number; col: number } {
  const { rows, cols } = manifest.model;
  const r = entryRange(rows, cols, manifest.keys.shape, manifest.keys.hops, manifest.keys.border);
  const width = r.colEnd - r.colStart;
  return { row: r.rowStart + Math.floor(e / width), col: r.colStart + (e % width) };
}

/** Writes `<dbDir>/.gitignore` (`*`) unless one is there: a database is build output, never source. */
export function ensureGitignore(dbDir: string): void {
  const file = path.join(dbDir, GITIGNORE_FILE);
  if (fs.existsSync(file)) return;
  writeFileAtomic(file, '# Patch Lens database: build output, rebuilt from the dataset.\n*\n');
}

/** Removes one generation's files and this process's temp files (a failed build whose folder has no readable manifest). */
export function removeGeneration(dbDir: string, generation: number): void {
  const tmp = new RegExp(`\\.tmp-${process.pid}-\\d+$`);
  for (const f of fs.readdirSync(dbDir)) {
    if (Object.values(GENERATION_FILES).some((name) => f === name(generation)) || tmp.test(f)) fs.rmSync(path.join(dbDir, f), { force: true });
  }
}

/**
 * Deletes a database under its lock (refused with DatabaseLockedError while a build holds it):
 * the manifest first, so readers see no database, then every file a database writes; the
 * folder goes too when nothing else is left in it. Returns the bytes freed.
 */
export async function clearDatabase(dbDir: string): Promise<number> {
  if (!fs.existsSync(dbDir)) return 0;
  const release = await acquireLock(dbDir, 'clearing the database');
  let bytes = 0;
  try {
    const sizeOf = (f: string) => fs.statSync(path.join(dbDir, f), { throwIfNoEntry: false })?.size ?? 0;
    bytes += sizeOf(MANIFEST_FILE);
    fs.rmSync(path.join(dbDir, MANIFEST_FILE), { force: true });
    bytes += sizeOf(VERIFIED_FILE);
    fs.rmSync(path.join(dbDir, VERIFIED_FILE), { force: true });
    fs.rmSync(path.join(dbDir, GITIGNORE_FILE), { force: true });
    const sizes = new Map(fs.readdirSync(dbDir).map((f) => [f, sizeOf(f)]));
    for (const f of collectGarbage(dbDir, undefined)) bytes += sizes.get(f) ?? 0;
    // archive member indexes (datasetCatalog) live beside the database's files
    const sources = path.join(dbDir, 'sources');
    if (fs.existsSync(sources))
      for (const f of fs.readdirSync(sources, { withFileTypes: true }).filter((e) => e.isFile())) bytes += sizeOf(path.join('sources', f.name));
    fs.rmSync(sources, { recursive: true, force: true });
  } finally {
    release();
  }
  if (fs.readdirSync(dbDir).length === 0) fs.rmdirSync(dbDir);
  return bytes;
}

/** Removes files of the folder that the manifest does not name (left by killed builds or superseded). */
export function collectGarbage(dbDir: string, manifest: DbManifest | undefined): string[] {
  const keep = new Set<string>([MANIFEST_FILE, LOCK_FILE, VERIFIED_FILE, GITIGNORE_FILE]);
  if (manifest) {
    keep.add(manifest.index.file);
    if (manifest.index.delta) keep.add(manifest.index.delta.file);
    keep.add(manifest.prototypes.file);
    for (const s of manifest.segments) keep.add(s.file);
  }
  const removed: string[] = [];
  for (const f of fs.readdirSync(dbDir)) {
    if (keep.has(f)) continue;
    if (GENERATION_FILE_PATTERN.test(f) || /\.tmp-\d+-\d+$/.test(f) || f.startsWith(`${LOCK_FILE}.stale-`)) {
      fs.rmSync(path.join(dbDir, f), { force: true });
      removed.push(f);
    }
  }
  return removed;
}
