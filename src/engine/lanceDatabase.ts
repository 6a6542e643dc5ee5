// A Lance patch database opened for reading: a folder or an object-store URI
// holding the tables of lanceStore.ts. The images table is streamed once at
// open: the list of images (paths, sizes) stays in memory, their records
// (tokens, code distances, latents: ~90% of its bytes) go to a private
// temporary file read one image at a time, so resident memory does not grow
// with them; entries stay in the store and are searched there: IVF-PQ with
// re-ranking on the full keys by default, flat (exact) on request or while
// there is no index.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type * as lancedb from '@lancedb/lancedb';
import type { RecordBatch } from 'apache-arrow';
import { DB_FORMAT, recordBytes, type DbImage, type DbManifest, type LanceSearchParams } from '../core/dbManifest';
import { entryCount, entryRange, keyDimension } from '../core/neighbourhood';
import { prototypePatch } from '../core/prototypes';
import { LANCE_TABLES, type KeyParams } from '../core/vocabulary';
import { DatabaseError, PatchDatabase } from './database';
import { RebuildNeededError } from './databaseError';
import { connectStore, isObjectStoreUri, openTable, shownUri, storeError, viewOf } from './lanceStore';
import type { ImageExclusion, ImageRecord, LabelFilter, SearchHit, StoreCodes, StoreIndex } from './patchStore';

/** Bytes of records kept in memory (the most recently read). */
const RECORD_CACHE_BYTES = 32 * 2 ** 20;
/** How long a closed database's records stay readable (requests that began before a reopen finish). */
const RECORDS_AFTER_CLOSE_MS = 30_000;

/**
 * Where records files go: on Linux the user's cache folder, since /tmp is often
 * a tmpfs (memory, which the file is there to spare); elsewhere the temp folder.
 */
export function recordsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (process.platform !== 'linux') return os.tmpdir();
  const dir = path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'patchlens');
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  } catch {
    return os.tmpdir();
  }
}

/**
 * Fixed-size image records in a temporary file of this process (in recordsDir), unlinked at
 * once where the platform allows (so nothing is left even after kill -9),
 * read synchronously (the store's API is synchronous) with a small LRU cache.
 */
export class RecordFile {
  private fd: number | undefined;
  private readonly file: string;
  private readonly unlinked: boolean;
  private written = 0;
  private readonly cache: LRUCache<number, Uint8Array>;
  private closeTimer?: NodeJS.Timeout;

  constructor(
    readonly recordBytes: number,
    cacheBytes = RECORD_CACHE_BYTES,
  ) {
    this.file = path.join(recordsDir(), `patchlens-records-${process.pid}-${randomUUID()}`);
    this.fd = fs.openSync(this.file, 'wx+', 0o600);
    let unlinked = true;
    try {
      fs.unlinkSync(this.file);
    } catch {
      unlinked = false; // Windows: an open file cannot be removed; removed at close
    }
    this.unlinked = unlinked;
    this.cache = new LRUCache({ max: Math.max(16, Math.floor(cacheBytes / recordBytes)) });
  }

  /** Records written. */
  get count(): number {
    return this.written;
  }

  /** Appends whole records; returns the index of the first. */
  append(bytes: Uint8Array): number {
    if (bytes.byteLength % this.recordBytes !== 0) throw new RangeError('not a whole number of records');
    const first = this.written;
    let off = 0;
    while (off < bytes.byteLength) off += fs.writeSync(this.descriptor(), bytes, off, bytes.byteLength - off, first * this.recordBytes + off);
    this.written += bytes.byteLength / this.recordBytes;
    return first;
  }

  /** Record i (4-byte aligned; shared with the cache: not to be written to). */
  read(i: number): Uint8Array {
    const hit = this.cache.get(i);
    if (hit) return hit;
    if (!(i >= 0 && i < this.written)) throw new RangeError(`no record ${i}`);
    const buf = new Uint8Array(this.recordBytes);
    let off = 0;
    while (off < buf.byteLength) {
      const n = fs.readSync(this.descriptor(), buf, off, buf.byteLength - off, i * this.recordBytes + off);
      if (n === 0) throw new DatabaseError(`the temporary copy of the image records ended early (${this.file})`);
      off += n;
    }
    this.cache.set(i, buf);
    return buf;
  }

  private descriptor(): number {
    if (this.fd === undefined) throw new DatabaseError('the Lance database was closed (reopened after a builder committed)', 'Try again');
    return this.fd;
  }

  /** Closes the file now, or after `afterMs` (reads may come until then). */
  close(afterMs = 0): void {
    const now = () => {
      if (this.fd === undefined) return;
      fs.closeSync(this.fd);
      this.fd = undefined;
      this.cache.clear();
      if (!this.unlinked) fs.rmSync(this.file, { force: true });
    };
    if (afterMs <= 0) return now();
    clearTimeout(this.closeTimer);
    this.closeTimer = setTimeout(now, afterMs);
    this.closeTimer.unref();
  }
}

/** The model row of the meta table (written once, by the first builder). */
export interface LanceModelMeta {
  readonly format: 'patchlens.lance/v1';
  readonly createdAt: string;
  readonly root: string;
  readonly model: DbManifest['model'];
  readonly keys: KeyParams;
  readonly keyDim: number;
}

/** The index row of the meta table (written by --finalize or a plain build). */
export interface LanceIndexMeta extends LanceSearchParams {
  readonly builtAt: string;
  readonly entries: number;
}

export const LANCE_FORMAT = 'patchlens.lance/v1';

/** Search settings for one query: IVF-PQ with these probes and refine factor, or flat (exact). */
export type LanceSearch = { readonly nprobes: number; readonly refineFactor: number } | 'flat';

export interface LanceOpenOptions {
  /** Storage options (credentials, endpoint); never stored. */
  readonly storage?: Record<string, string>;
  /** Overrides of the database's search settings. */
  readonly search?: LanceSearch;
}

/** Reads the latest row of each kind of the meta table. */
export async function readMeta(meta: lancedb.Table): Promise<{ model?: { doc: LanceModelMeta; codebook: Float32Array }; index?: LanceIndexMeta }> {
  const rows = (await meta.query().select(['kind', 'at', 'json', 'blob']).toArray()) as { kind: string; at: number; json: string; blob: Uint8Array | null }[];
  const latest = (kind: string) =>
    rows
      .filter((r) => r.kind === kind)
      .sort((a, b) => a.at - b.at)
      .pop();
  const m = latest('model');
  const i = latest('index');
  return {
    model: m ? { doc: JSON.parse(m.json) as LanceModelMeta, codebook: viewOf(Float32Array, m.blob!) } : undefined,
    index: i ? (JSON.parse(i.json) as LanceIndexMeta) : undefined,
  };
}

/** The nearest entries of a key in the entries table, as labels of the in-memory image list. */
export class LanceIndex implements StoreIndex {
  constructor(
    private readonly table: lancedb.Table,
    readonly dim: number,
    readonly size: number,
    /** Default settings: the database's, or flat when it has no vector index. */
    readonly settings: LanceSearch,
    private readonly labelOf: (image: bigint, row: number, col: number) => number | undefined,
    private readonly idOf: (image: number) => bigint,
    private readonly where: string,
  ) {}

  search(query: Readonly<Float32Array>, k: number, filter?: LabelFilter): Promise<SearchHit[]> {
    return this.searchWith(query, k, this.settings, filter);
  }

  /** A search at explicit settings (the fidelity sweep, --exact). */
  async searchWith(query: Readonly<Float32Array>, k: number, settings: LanceSearch, filter?: LabelFilter): Promise<SearchHit[]> {
    if (query.length !== this.dim) throw new RangeError(`expected a query of ${this.dim} values, got ${query.length}`);
    if (k <= 0 || this.size === 0) return [];
    let q = this.table.vectorSearch(Float32Array.from(query)).column('key').distanceType('l2').limit(k).select(['image', 'row', 'col', 'token', '_distance']);
    const excluded = filter ? (filter as Partial<ImageExclusion>).excluded : undefined;
    if (filter && !excluded) throw new TypeError('a Lance search filters by image: pass a filter made by excludeImages');
    if (excluded?.length) q = q.where(`image NOT IN (${excluded.map((i) => this.idOf(i).toString()).join(', ')})`);
    q = settings === 'flat' ? q.bypassVectorIndex() : q.nprobes(settings.nprobes).refineFactor(settings.refineFactor);
    let rows: { image: bigint; row: number; col: number; token: number; _distance: number }[];
    try {
      rows = await q.toArray();
    } catch (err) {
      throw storeError(err, this.where, {}, 'cannot search the Lance database');
    }
    const out: SearchHit[] = [];
    for (const r of rows) {
      const label = this.labelOf(BigInt(r.image), r.row, r.col);
      if (label !== undefined) out.push({ label, distance: r._distance, token: r.token });
    }
    return out;
  }
}

export class LanceDatabase extends PatchDatabase<LanceIndex> {
  override readonly backend = 'lance';
  private flat?: LanceIndex;

  private constructor(
    uri: string,
    manifest: DbManifest,
    private readonly records: RecordFile,
    index: LanceIndex,
    private readonly codesData: StoreCodes,
    private readonly bytesOnStore: number,
    private readonly conn: lancedb.Connection,
    /** Versions of the tables as opened (a change means a builder committed). */
    readonly versions: string,
    private readonly tables: readonly lancedb.Table[],
    private readonly flatOf: (t: LanceIndex) => LanceIndex,
  ) {
    super(uri, manifest, [], index, 'sizes');
  }

  /** The stored token grid, code distances and latents of image i (views of a copy read from the records file). */
  override record(i: number): ImageRecord {
    const { rows, cols, dim } = this.manifest.model;
    const cells = rows * cols;
    const buf = this.recordBytes(i);
    return {
      tokens: new Int32Array(buf.buffer, buf.byteOffset, cells),
      distances: new Float32Array(buf.buffer, buf.byteOffset + cells * 4, cells),
      latents: new Float32Array(buf.buffer, buf.byteOffset + cells * 8, cells * dim),
    };
  }

  override recordBytes(i: number): Uint8Array {
    return this.records.read(this.manifest.images[i].offset / this.records.recordBytes);
  }

  /** Opens the Lance database at uri; undefined when there is none there. */
  static async connect(uri: string, opts: LanceOpenOptions = {}): Promise<LanceDatabase | undefined> {
    const storage = opts.storage ?? {};
    const conn = await connectStore(uri, storage);
    const meta = await openTable(conn, LANCE_TABLES.meta, uri, storage);
    if (!meta) {
      conn.close();
      return undefined;
    }
    try {
      return await LanceDatabase.fromTables(uri, conn, meta, storage, opts);
    } catch (err) {
      conn.close();
      throw storeError(err, uri, storage, 'cannot open the Lance database');
    }
  }

  private static async fromTables(
    uri: string,
    conn: lancedb.Connection,
    meta: lancedb.Table,
    storage: Record<string, string>,
    opts: LanceOpenOptions,
  ): Promise<LanceDatabase> {
    const { model: modelMeta, index: indexMeta } = await readMeta(meta);
    const where = shownUri(uri);
    if (!modelMeta) throw new DatabaseError(`the Lance database ${where} has no model record (a first build was interrupted)`, 'Run patchlens index again');
    const doc = modelMeta.doc;
    if (doc.format !== LANCE_FORMAT)
      throw new DatabaseError(`the Lance database ${where} has format ${JSON.stringify(doc.format)}; this version reads ${LANCE_FORMAT}`);
    const images = await openTable(conn, LANCE_TABLES.images, uri, storage);
    const entries = await openTable(conn, LANCE_TABLES.entries, uri, storage);
    const codesTable = await openTable(conn, LANCE_TABLES.codes, uri, storage);
    if (!images || !entries || !codesTable)
      throw new DatabaseError(`the Lance database ${where} is incomplete (a table is missing)`, 'Run patchlens index again');
    const { rows, cols, dim, codebookSize } = doc.model;
    const keys = doc.keys;
    const perImage = entryCount(rows, cols, keys.shape, keys.hops, keys.border);
    const cells = rows * cols;
    const rb = recordBytes(rows, cols, dim);

    // Streamed in batches: the records go to the file as they come, so only a batch is in memory at once.
    const file = new RecordFile(rb);
    const arrival: { path: string; id: bigint; img: Omit<DbImage, 'firstLabel'> }[] = [];
    try {
      const stream = images
        .query()
        .select(['id', 'path', 'sha256', 'bytes', 'mtime_ms', 'width', 'height', 'format', 'tokens', 'distances', 'latents']) as AsyncIterable<RecordBatch>;
      for await (const batch of stream) {
        const col = (name: string) => batch.getChild(name)!;
        const [id, pathCol, sha, bytes, mtime, width, height, format, tokens, distances, latents] = [
          'id',
          'path',
          'sha256',
          'bytes',
          'mtime_ms',
          'width',
          'height',
          'format',
          'tokens',
          'distances',
          'latents',
        ].map(col);
        const out = new Uint8Array(batch.numRows * rb);
        const first = file.count;
        for (let i = 0; i < batch.numRows; i++) {
          const p = String(pathCol.get(i));
          const tk = tokens.get(i) as Uint8Array;
          const ds = distances.get(i) as Uint8Array;
          const lt = latents.get(i) as Uint8Array | null;
          if (tk.byteLength !== cells * 4 || ds.byteLength !== cells * 4 || (lt && lt.byteLength !== cells * dim * 4)) {
            throw new RebuildNeededError(`the Lance database ${where} has a damaged record for ${p} (wrong size)`, 'Rebuild it (patchlens index --rebuild)');
          }
          const off = i * rb;
          out.set(tk, off);
          out.set(ds, off + cells * 4);
          if (lt) out.set(lt, off + cells * 8);
          arrival.push({
            path: p,
            id: BigInt(id.get(i) as bigint),
            img: {
              path: p,
              sha256: String(sha.get(i)),
              bytes: Number(bytes.get(i)),
              mtimeMs: Number(mtime.get(i)),
              width: Number(width.get(i)),
              height: Number(height.get(i)),
              format: String(format.get(i)),
              segment: 0,
              // the record's index in the file, in bytes as a segment's offset is
              offset: (first + i) * rb,
              entries: perImage,
            },
          });
        }
        file.append(out);
      }
    } catch (err) {
      file.close();
      throw err;
    }
    // Sorted by path, as the HNSW database lists its images; labels follow that order.
    arrival.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    try {
      const n = arrival.length;
      const ids = arrival.map((a) => a.id);
      const list: DbImage[] = arrival.map((a, j) => ({ ...a.img, firstLabel: j * perImage }));
      arrival.length = 0;
      const byId = new Map(ids.map((v, j) => [v, j]));
      const range = entryRange(rows, cols, keys.shape, keys.hops, keys.border);
      const width_ = range.colEnd - range.colStart;
      const labelOf = (image: bigint, row: number, c: number) => {
        const j = byId.get(image);
        if (j === undefined || row < range.rowStart || row >= range.rowEnd || c < range.colStart || c >= range.colEnd) return undefined;
        return j * perImage + (row - range.rowStart) * width_ + (c - range.colStart);
      };

      // prototypes: the sum of every commit's sparse sums
      const patch = prototypePatch(doc.model.inputWidth, cols);
      const p3 = patch * patch * 3;
      const sums = new Float32Array(codebookSize * p3);
      const counts = new Uint32Array(codebookSize);
      let stale = 0;
      for (const r of (await codesTable.query().select(['ids', 'sums', 'counts', 'stale']).toArray()) as {
        ids: Uint8Array;
        sums: Uint8Array;
        counts: Uint8Array;
        stale: number;
      }[]) {
        const cid = viewOf(Int32Array, r.ids);
        const cs = viewOf(Float32Array, r.sums);
        const cc = viewOf(Uint32Array, r.counts);
        stale += r.stale;
        for (let q = 0; q < cid.length; q++) {
          const k = cid[q];
          if (k < 0 || k >= codebookSize) continue;
          counts[k] += cc[q];
          for (let z = 0; z < p3; z++) sums[k * p3 + z] += cs[q * p3 + z];
        }
      }

      const entryRows = await entries.countRows();
      const keyDim = keyDimension(keys.shape, keys.hops, dim);
      const lance: LanceSearchParams =
        indexMeta && (await entries.listIndices()).some((ix) => ix.columns.includes('key'))
          ? { partitions: indexMeta.partitions, subVectors: indexMeta.subVectors, nprobes: indexMeta.nprobes, refineFactor: indexMeta.refineFactor }
          : { partitions: 0, subVectors: 0, nprobes: 0, refineFactor: 0 };
      const settings: LanceSearch = opts.search ?? (lance.partitions > 0 ? { nprobes: lance.nprobes, refineFactor: lance.refineFactor } : 'flat');
      const idOf = (j: number) => ids[j];
      const index = new LanceIndex(entries, keyDim, entryRows, settings, labelOf, idOf, where);
      const flatOf = (ix: LanceIndex) => new LanceIndex(entries, keyDim, ix.size, 'flat', labelOf, idOf, where);
      let onStore = 0;
      for (const tb of [meta, images, entries, codesTable]) onStore += (await tb.stats()).totalBytes;
      const versions = (await Promise.all([images, entries, codesTable, meta].map((tb) => tb.version()))).join('.');
      const now = new Date().toISOString();
      const manifest: DbManifest = {
        format: DB_FORMAT,
        generation: Number((await entries.version()) + (await images.version())),
        createdAt: doc.createdAt,
        updatedAt: indexMeta?.builtAt ?? now,
        root: doc.root,
        model: doc.model,
        keys,
        index: { kind: 'lance', file: LANCE_TABLES.entries, bytes: 0, sha256: '', m: 0, efConstruction: 0, ef: 0, keyDim, entries: n * perImage, lance },
        prototypes: { file: LANCE_TABLES.codes, bytes: 0, sha256: '', patch, staleImages: stale },
        segments: [],
        nextLabel: n * perImage,
        images: list,
        failed: [],
        lastBuild: { startedAt: now, finishedAt: indexMeta?.builtAt ?? now, elapsedMs: 0, added: 0, updated: 0, removed: 0, unchanged: n, failed: 0 },
      };
      // Entries of an image whose record is not in (a builder killed between its two appends) are
      // never answered (labelOf knows no such image); re-running that builder replaces them.
      return new LanceDatabase(
        uri,
        manifest,
        file,
        index,
        { patch, sums, counts, codebook: modelMeta.codebook },
        onStore,
        conn,
        versions,
        [meta, images, entries, codesTable],
        flatOf,
      );
    } catch (err) {
      file.close();
      throw err;
    }
  }

  /** Whether a builder committed since this database was opened (the tables' latest versions differ). */
  async changed(): Promise<boolean> {
    const [meta, images, entries, codes] = this.tables;
    const now: number[] = [];
    for (const tb of [images, entries, codes, meta]) {
      await tb.checkoutLatest();
      now.push(await tb.version());
    }
    return now.join('.') !== this.versions;
  }

  override exactIndex(): LanceIndex {
    return (this.flat ??= this.flatOf(this.index));
  }

  override codes(): StoreCodes {
    return this.codesData;
  }

  override diskBytes(): number {
    return this.bytesOnStore;
  }

  override verifyContents(): Promise<DatabaseError | undefined> {
    // Lance checks its own files as it reads them; there is no manifest of hashes to compare.
    return Promise.resolve(undefined);
  }

  /** Whether the database is on object storage (else a local folder). */
  get remote(): boolean {
    return isObjectStoreUri(this.dir);
  }

  close(): void {
    for (const t of this.tables) t.close();
    this.conn.close();
    // a request that began before a reopen may still read records: the file goes a little later
    this.records.close(RECORDS_AFTER_CLOSE_MS);
  }
}
