// A Lance patch database opened for reading: a folder or an object-store URI
// holding the tables of lanceStore.ts. The images table (records, small) is
// read into memory at open, as the HNSW database reads its segments; entries
// stay in the store and are searched there: IVF-PQ with re-ranking on the
// full keys by default, flat (exact) on request or while there is no index.

import type * as lancedb from '@lancedb/lancedb';
import type { Table as ArrowTable } from 'apache-arrow';
import { DB_FORMAT, recordBytes, type DbImage, type DbManifest, type LanceSearchParams } from '../core/dbManifest';
import { entryCount, entryRange, keyDimension } from '../core/neighbourhood';
import { prototypePatch } from '../core/prototypes';
import { LANCE_TABLES, type KeyParams } from '../core/vocabulary';
import { DatabaseError, PatchDatabase } from './database';
import { RebuildNeededError } from './databaseError';
import { connectStore, isObjectStoreUri, openTable, shownUri, storeError, viewOf } from './lanceStore';
import type { ImageExclusion, LabelFilter, SearchHit, StoreCodes, StoreIndex } from './patchStore';

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
    let q = this.table.vectorSearch(Float32Array.from(query)).column('key').distanceType('l2').limit(k).select(['image', 'row', 'col', '_distance']);
    const excluded = filter ? (filter as Partial<ImageExclusion>).excluded : undefined;
    if (filter && !excluded) throw new TypeError('a Lance search filters by image: pass a filter made by excludeImages');
    if (excluded?.length) q = q.where(`image NOT IN (${excluded.map((i) => this.idOf(i).toString()).join(', ')})`);
    q = settings === 'flat' ? q.bypassVectorIndex() : q.nprobes(settings.nprobes).refineFactor(settings.refineFactor);
    let rows: { image: bigint; row: number; col: number; _distance: number }[];
    try {
      rows = await q.toArray();
    } catch (err) {
      throw storeError(err, this.where, {}, 'cannot search the Lance database');
    }
    const out: SearchHit[] = [];
    for (const r of rows) {
      const label = this.labelOf(BigInt(r.image), r.row, r.col);
      if (label !== undefined) out.push({ label, distance: r._distance });
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
    records: Uint8Array,
    index: LanceIndex,
    private readonly codesData: StoreCodes,
    private readonly bytesOnStore: number,
    private readonly conn: lancedb.Connection,
    /** Versions of the tables as opened (a change means a builder committed). */
    readonly versions: string,
    private readonly tables: readonly lancedb.Table[],
    private readonly flatOf: (t: LanceIndex) => LanceIndex,
  ) {
    super(uri, manifest, [records], index, 'sizes');
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

    const t = (await images
      .query()
      .select(['id', 'path', 'sha256', 'bytes', 'mtime_ms', 'width', 'height', 'format', 'tokens', 'distances', 'latents'])
      .toArrow()) as ArrowTable;
    const n = t.numRows;
    const order = Array.from({ length: n }, (_, i) => i);
    const pathCol = t.getChild('path')!;
    const paths = order.map((i) => String(pathCol.get(i)));
    order.sort((a, b) => (paths[a] < paths[b] ? -1 : paths[a] > paths[b] ? 1 : 0));
    const records = new Uint8Array(n * rb);
    const ids: bigint[] = [];
    const list: DbImage[] = [];
    const col = (name: string) => t.getChild(name)!;
    const [id, sha, bytes, mtime, width, height, format, tokens, distances, latents] = [
      'id',
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
    for (let j = 0; j < n; j++) {
      const i = order[j];
      const tk = tokens.get(i) as Uint8Array;
      const ds = distances.get(i) as Uint8Array;
      const lt = latents.get(i) as Uint8Array | null;
      if (tk.byteLength !== cells * 4 || ds.byteLength !== cells * 4 || (lt && lt.byteLength !== cells * dim * 4)) {
        throw new RebuildNeededError(`the Lance database ${where} has a damaged record for ${paths[i]} (wrong size)`, 'Rebuild it (patchlens index --rebuild)');
      }
      const off = j * rb;
      records.set(tk, off);
      records.set(ds, off + cells * 4);
      if (lt) records.set(lt, off + cells * 8);
      ids.push(BigInt(id.get(i) as bigint));
      list.push({
        path: paths[i],
        sha256: String(sha.get(i)),
        bytes: Number(bytes.get(i)),
        mtimeMs: Number(mtime.get(i)),
        width: Number(width.get(i)),
        height: Number(height.get(i)),
        format: String(format.get(i)),
        segment: 0,
        offset: off,
        firstLabel: j * perImage,
        entries: perImage,
      });
    }
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
      records,
      index,
      { patch, sums, counts, codebook: modelMeta.codebook },
      onStore,
      conn,
      versions,
      [meta, images, entries, codesTable],
      flatOf,
    );
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
  }
}
