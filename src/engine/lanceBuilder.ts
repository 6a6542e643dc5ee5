// Builds a Lance patch database, alone or as one of N builders: each builder
// encodes its part of the images (a stable split by image id), appends them
// in commits of a few dozen images and checks after each commit that its rows
// are in the table, so a store that silently drops a write (one that ignores
// conditional puts) cannot lose entries unnoticed. --finalize (or a plain
// build) trains the IVF-PQ index once the parts are in.

import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import type * as lancedb from '@lancedb/lancedb';
import { FixedSizeList, Float32, Field, Int16, Int32, Int64, makeData, RecordBatch, Schema, Struct, Table as ArrowTable, type Data } from 'apache-arrow';
import { sameKeys } from '../core/dbManifest';
import { codeGrid, entryCount, imageKeys, keyDimension } from '../core/neighbourhood';
import { accumulatePrototypes, prototypePatch } from '../core/prototypes';
import { describeKeyParams, LANCE_TABLES } from '../core/vocabulary';
import { DatabaseError } from './database';
import { RebuildNeededError } from './databaseError';
import { DatasetCatalog, sourcesDir, type DatasetEntry } from './datasetCatalog';
import type { WorkerImage } from './encodeProtocol';
import type { EncoderPool } from './encoderPool';
import {
  BuildCancelledError,
  dbModel,
  encodeEntries,
  listDataset,
  sameContent,
  resolveKeys,
  type BuildOptions,
  type BuildResult,
  type BuildTimings,
} from './indexer';
import { formatCount, formatDuration } from '../core/format';
import { LANCE_FORMAT, readMeta, type LanceIndexMeta, type LanceModelMeta } from './lanceDatabase';
import {
  CODES_SCHEMA,
  IMAGES_SCHEMA,
  META_SCHEMA,
  bytesOf,
  connectStore,
  lanceModule,
  entriesSchema,
  imageId,
  isObjectStoreUri,
  openTable,
  partOf,
  shownUri,
  storeError,
} from './lanceStore';
import { Tokenizer } from './tokenizer';
import { inProcessHooks, pauseAt } from './testHooks';

export interface LanceBuildOptions extends Omit<BuildOptions, 'dbDir' | 'hnsw' | 'wait'> {
  /** A local folder or an object-store URI. */
  readonly uri: string;
  /** Storage options (credentials, endpoint): used to connect, never stored. */
  readonly storage?: Record<string, string>;
  /** Encode only part `index` (1-based) of `count`, and append it. */
  readonly part?: { readonly index: number; readonly count: number };
  /** Only train and build the vector index over what the parts put in. */
  readonly finalize?: boolean;
  /** Images per commit. */
  readonly commitImages?: number;
  /** Fewest entries for which a vector index is built (below it every search is flat, and exact). */
  readonly minIndexRows?: number;
}

export interface LanceBuildResult extends BuildResult {
  readonly backend: 'lance';
  readonly part?: { index: number; count: number };
  /** The vector index built by this run, if one was. */
  readonly indexed?: LanceIndexMeta;
  /** Commits whose rows the store dropped and that were appended again. */
  readonly reappended: number;
}

/** Below this many entries a flat search is fast and exact: no vector index. */
export const LANCE_MIN_INDEX_ROWS = 50_000;
/** Images appended per commit (each commit is checked). */
export const LANCE_COMMIT_IMAGES = 64;
/** Re-appends of one commit before the builder stops (each after a random pause, so colliding writers drift apart). */
const MAX_REAPPENDS = 6;
/** Ids per IN (...) list. */
const ID_CHUNK = 512;

/**
 * IVF-PQ parameters for n entries of keyDim dimensions: about sqrt(n)
 * partitions, 2-dimensional PQ sub-vectors, 30% of the partitions probed and
 * 10 candidates re-ranked on the full keys per result (measured in
 * bench/lance.ts: recall@10 >= 0.98 on VQ keys; docs/scale.md).
 */
export function lanceIndexParams(n: number, keyDim: number): Omit<LanceIndexMeta, 'builtAt' | 'entries'> {
  const partitions = Math.max(1, Math.min(8192, Math.round(Math.sqrt(n))));
  const subVectors = keyDim % 2 === 0 ? keyDim / 2 : keyDim;
  return { partitions, subVectors, nprobes: Math.max(1, Math.ceil(partitions * 0.3)), refineFactor: 10 };
}

interface Tables {
  conn: lancedb.Connection;
  meta: lancedb.Table;
  images: lancedb.Table;
  entries: lancedb.Table;
  codes: lancedb.Table;
}

async function createOrOpen(conn: lancedb.Connection, name: string, schema: Schema, uri: string, storage: Record<string, string>): Promise<lancedb.Table> {
  const t = await openTable(conn, name, uri, storage);
  if (t) return t;
  try {
    return await conn.createEmptyTable(name, schema, { mode: 'create' });
  } catch (err) {
    // another builder created it first
    const again = await openTable(conn, name, uri, storage);
    if (again) return again;
    throw storeError(err, uri, storage, 'cannot create the Lance database');
  }
}

/** Reads that met another writer's half-written file on a store without atomic puts (s3rver): worth another try. */
const TORN = /Range started at|does not have sufficient data|unexpected end of file|Generic S3 error|early eof/i;
/**
 * A commit that met another writer's it cannot be merged with: two builders creating the tables at once both
 * commit a create, the later as an Overwrite, and an append from a handle opened before it is refused. Read the
 * latest version, then commit again (every write here can be repeated).
 */
const CONFLICT = /Incompatible transaction|commit conflict/i;
const RETRYABLE = new RegExp(`${TORN.source}|${CONFLICT.source}`, 'i');

/** Runs a store operation, again after a short random pause when it met a torn file or a conflicting commit. */
async function torn<T>(op: () => Promise<T>, table?: lancedb.Table): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      const message = String((err as Error)?.message);
      if (attempt >= MAX_REAPPENDS || !RETRYABLE.test(message)) throw err;
      if (CONFLICT.test(message)) await table?.checkoutLatest();
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 200 * (attempt + 1)));
    }
  }
}

const idList = (ids: readonly bigint[]) => ids.map((i) => i.toString()).join(', ');
function* chunks<T>(xs: readonly T[], n: number): Generator<T[]> {
  for (let i = 0; i < xs.length; i += n) yield xs.slice(i, i + n);
}

/** Rows of `table` whose `column` is one of ids (chunked IN lists), read from the store's latest version. */
async function countIn(table: lancedb.Table, column: string, ids: readonly bigint[]): Promise<number> {
  return torn(async () => {
    await table.checkoutLatest();
    let n = 0;
    for (const c of chunks(ids, ID_CHUNK)) n += await table.countRows(`${column} IN (${idList(c)})`);
    return n;
  });
}

/** The ids of images lacking their record or some of their entries. */
async function incomplete(t: Tables, ids: readonly bigint[], perImage: number): Promise<Set<bigint>> {
  return torn(() => incompleteOnce(t, ids, perImage));
}

async function incompleteOnce(t: Tables, ids: readonly bigint[], perImage: number): Promise<Set<bigint>> {
  const lost = new Set<bigint>();
  await t.entries.checkoutLatest();
  await t.images.checkoutLatest();
  for (const c of chunks(ids, ID_CHUNK)) {
    const counts = new Map<bigint, number>();
    for (const r of (await t.entries
      .query()
      .where(`image IN (${idList(c)})`)
      .select(['image'])
      .toArray()) as { image: bigint }[])
      counts.set(BigInt(r.image), (counts.get(BigInt(r.image)) ?? 0) + 1);
    const have = new Set(
      (
        (await t.images
          .query()
          .where(`id IN (${idList(c)})`)
          .select(['id'])
          .toArray()) as { id: bigint }[]
      ).map((r) => BigInt(r.id)),
    );
    for (const id of c) if (counts.get(id) !== perImage || !have.has(id)) lost.add(id);
  }
  return lost;
}

async function deleteIn(table: lancedb.Table, column: string, ids: readonly bigint[]): Promise<void> {
  for (const c of chunks(ids, ID_CHUNK)) await torn(() => table.delete(`${column} IN (${idList(c)})`), table);
}

/** An Arrow table of entries: keys [n x keyDim], tokens, image ids, rows, cols. */
function entriesBatch(keyDim: number, keys: Float32Array, token: Int32Array, image: BigInt64Array, row: Int16Array, col: Int16Array): ArrowTable {
  const schema = entriesSchema(keyDim);
  const n = token.length;
  const item = makeData({ type: new Float32(), length: n * keyDim, data: keys });
  const keyData = makeData({ type: new FixedSizeList(keyDim, new Field('item', new Float32(), true)), length: n, nullCount: 0, child: item });
  const children: Data[] = [
    keyData,
    makeData({ type: new Int32(), length: n, data: token }),
    makeData({ type: new Int64(), length: n, data: image }),
    makeData({ type: new Int16(), length: n, data: row }),
    makeData({ type: new Int16(), length: n, data: col }),
  ];
  const struct = makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children });
  return new ArrowTable(new RecordBatch(schema, struct));
}

export async function buildLanceDatabase(opts: LanceBuildOptions): Promise<LanceBuildResult> {
  const started = Date.now();
  const root = path.resolve(opts.root);
  const uri = opts.uri;
  const where = shownUri(uri);
  const storage = opts.storage ?? {};
  const keys = resolveKeys(opts.keys);
  const log = opts.log ?? (() => {});
  const progress = (phase: 'load' | 'scan' | 'encode' | 'write', done: number, total: number, message: string) =>
    opts.onProgress?.({ phase, done, total, message });
  const timings: BuildTimings = { loadMs: 0, openMs: 0, startMs: 0, scanMs: 0, decodeMs: 0, encodeMs: 0, keysMs: 0, insertMs: 0, writeMs: 0, pipelineMs: 0 };
  const checkAbort = () => {
    if (opts.signal?.aborted) throw new BuildCancelledError();
  };
  const part = opts.part;
  if (part && !(Number.isInteger(part.count) && part.count >= 1 && Number.isInteger(part.index) && part.index >= 1 && part.index <= part.count))
    throw new RangeError(`--part must be i/N with 1 <= i <= N, got ${part.index}/${part.count}`);
  if (part && opts.rebuild) throw new RangeError('--rebuild replaces the whole database: run it without --part (then the parts)');
  if (part && opts.finalize) throw new RangeError('--finalize runs once the parts are in, without --part');

  progress('load', 0, 1, 'Loading model');
  const tl = performance.now();
  const tok = await Tokenizer.load(opts.model);
  const info = tok.info;
  await tok.release();
  timings.loadMs = performance.now() - tl;
  const { rows, cols, dim, codebookSize } = info;
  const perImage = entryCount(rows, cols, keys.shape, keys.hops, keys.border);
  const keyDim = keyDimension(keys.shape, keys.hops, dim);
  const patch = prototypePatch(info.manifest.input.width, cols);

  const to = performance.now();
  const conn = await connectStore(uri, storage);
  let pool: EncoderPool | undefined;
  const catalog = new DatasetCatalog(root, {
    cacheDir: isObjectStoreUri(uri) ? undefined : sourcesDir(uri),
    maxMemberBytes: opts.maxMemberBytes,
    imageColumn: opts.imageColumn,
  });
  try {
    if (opts.rebuild) for (const name of Object.values(LANCE_TABLES)) if (await openTable(conn, name, uri, storage)) await conn.dropTable(name);
    const t: Tables = {
      conn,
      meta: await createOrOpen(conn, LANCE_TABLES.meta, META_SCHEMA, uri, storage),
      images: await createOrOpen(conn, LANCE_TABLES.images, IMAGES_SCHEMA, uri, storage),
      entries: await createOrOpen(conn, LANCE_TABLES.entries, entriesSchema(keyDim), uri, storage),
      codes: await createOrOpen(conn, LANCE_TABLES.codes, CODES_SCHEMA, uri, storage),
    };
    const existing = (await readMeta(t.meta)).model;
    if (existing) {
      const d = existing.doc;
      if (d.model.fingerprint !== info.fingerprint)
        throw new RebuildNeededError(
          `the Lance database ${where} cannot be updated: it was built with model ${d.model.name} (${d.model.fingerprint}), not ${info.manifest.name} (${info.fingerprint})`,
          'Rebuild it explicitly (patchlens index --rebuild) or choose another --db',
        );
      if (!sameKeys(d.keys, keys))
        throw new RebuildNeededError(
          `the Lance database ${where} cannot be updated: it was built with keys ${describeKeyParams(d.keys)}, not ${describeKeyParams(keys)}`,
          'Rebuild it explicitly (patchlens index --rebuild) or choose another --db',
        );
    } else {
      const doc: LanceModelMeta = {
        format: LANCE_FORMAT,
        createdAt: new Date().toISOString(),
        root,
        model: dbModel(info),
        keys,
        keyDim,
      };
      await torn(() => t.meta.add([{ kind: 'model', at: Date.now(), json: JSON.stringify(doc), blob: bytesOf(info.codebook) }]), t.meta);
    }
    timings.openMs = performance.now() - to;

    let added = 0;
    let updated = 0;
    let removed = 0;
    let unchanged = 0;
    let reappended = 0;
    const skipped: { path: string; error: string }[] = [];
    if (!opts.finalize) {
      progress('scan', 0, 1, 'Scanning dataset');
      const t0 = performance.now();
      const listed = await listDataset(root, isObjectStoreUri(uri) ? undefined : path.resolve(uri), catalog, info, opts, progress);
      skipped.push(...listed.skipped);
      const mine = (rel: string) => !part || partOf(imageId(rel), part.count) === part.index;
      const entries = listed.entries.filter((e) => mine(e.rel));
      await t.images.checkoutLatest();
      const have = (await t.images.query().select(['id', 'path', 'sha256', 'bytes', 'mtime_ms']).toArray()) as {
        id: bigint;
        path: string;
        sha256: string;
        bytes: number;
        mtime_ms: number;
      }[];
      const prev = new Map(have.filter((h) => mine(h.path)).map((h) => [h.path, h]));
      const toEncode: DatasetEntry[] = [];
      const leaving: bigint[] = [];
      for (const f of entries) {
        const p = prev.get(f.rel);
        prev.delete(f.rel);
        // another builder's copy of the dataset has other file times: the content decides
        if (p && p.bytes === f.bytes && (p.mtime_ms === f.mtimeMs || (await sameContent(f, p.sha256, catalog)))) {
          unchanged++;
          continue;
        }
        if (p) {
          leaving.push(BigInt(p.id));
          updated++;
        }
        toEncode.push(f);
      }
      for (const p of prev.values()) leaving.push(BigInt(p.id));
      removed = prev.size;
      timings.scanMs = performance.now() - t0;
      log(
        `scan${part ? ` (part ${part.index}/${part.count})` : ''}: ${entries.length} images, ${toEncode.length - updated} new, ${updated} changed, ${removed} removed, ${unchanged} unchanged`,
      );
      if (leaving.length) {
        await deleteIn(t.entries, 'image', leaving);
        await deleteIn(t.images, 'id', leaving);
        await torn(
          () => t.codes.add([{ commit: randomUUID(), ids: Buffer.alloc(0), sums: Buffer.alloc(0), counts: Buffer.alloc(0), stale: leaving.length }]),
          t.codes,
        );
      }

      // ---- encode and commit in batches
      const byRel = new Map(toEncode.map((f) => [f.rel, f]));
      const commitImages = Math.max(1, opts.commitImages ?? LANCE_COMMIT_IMAGES);
      let pending: { f: DatasetEntry; img: Extract<WorkerImage, { ok: true }> }[] = [];
      let writing: Promise<void> = Promise.resolve();
      let failure: unknown;
      let encoded = 0;
      const committedIds: bigint[] = [];
      const commit = async (batch: typeof pending): Promise<void> => {
        const tw = performance.now();
        const n = batch.length;
        const ids = batch.map((b) => imageId(b.f.rel));
        const keysAll = new Float32Array(n * perImage * keyDim);
        const token = new Int32Array(n * perImage);
        const image = new BigInt64Array(n * perImage);
        const row = new Int16Array(n * perImage);
        const col = new Int16Array(n * perImage);
        const sums = new Float32Array(codebookSize * patch * patch * 3);
        const counts = new Uint32Array(codebookSize);
        batch.forEach(({ img }, b) => {
          const grid = keys.source === 'latent' ? img.latents : codeGrid(img.tokens, info.codebook, dim);
          const k = imageKeys(grid, rows, cols, dim, keys);
          keysAll.set(k.keys, b * perImage * keyDim);
          for (let e = 0; e < perImage; e++) {
            const o = b * perImage + e;
            token[o] = img.tokens[k.rows[e] * cols + k.cols[e]];
            image[o] = ids[b];
            row[o] = k.rows[e];
            col[o] = k.cols[e];
          }
          if (img.pools.length > 0) accumulatePrototypes(img.tokens, img.pools, patch, sums, counts);
        });
        const imageRows = batch.map(({ f, img }, b) => ({
          id: ids[b],
          path: f.rel,
          sha256: img.sha256,
          bytes: f.bytes,
          mtime_ms: f.mtimeMs,
          width: img.width,
          height: img.height,
          format: img.format,
          rows,
          cols,
          tokens: bytesOf(img.tokens),
          distances: bytesOf(img.distances),
          latents: bytesOf(img.latents),
          metadata: null,
        }));
        const used = [...counts.keys()].filter((c) => counts[c] > 0);
        const p3 = patch * patch * 3;
        const sparseSums = new Float32Array(used.length * p3);
        used.forEach((c, q) => sparseSums.set(sums.subarray(c * p3, (c + 1) * p3), q * p3));
        const codesRow = {
          commit: randomUUID(),
          ids: bytesOf(Int32Array.from(used)),
          sums: bytesOf(sparseSums),
          counts: bytesOf(Uint32Array.from(used, (c) => counts[c])),
          stale: 0,
        };
        const batchTable = entriesBatch(keyDim, keysAll, token, image, row, col);
        for (let attempt = 0; ; attempt++) {
          let gotEntries = -1;
          let gotImages = -1;
          try {
            // entries of these images left by a builder killed between its two appends are replaced, never doubled
            if ((await countIn(t.entries, 'image', ids)) > 0) await deleteIn(t.entries, 'image', ids);
            if ((await countIn(t.images, 'id', ids)) > 0) await deleteIn(t.images, 'id', ids);
            await inProcessHooks.beforeLanceAppend?.(attempt);
            await t.entries.add(batchTable);
            pauseAt('lance-entries');
            await t.images.add(imageRows, { mode: 'append' });
            gotEntries = await countIn(t.entries, 'image', ids);
            gotImages = await countIn(t.images, 'id', ids);
          } catch (err) {
            // a store without atomic puts shows another writer's half-written manifest, or another builder's create
            // came in after this one's (CONFLICT): read again (countIn above reads the latest version), then append
            if (attempt >= MAX_REAPPENDS || !RETRYABLE.test(String((err as Error)?.message))) throw err;
          }
          if (gotEntries === n * perImage && gotImages === n) break;
          if (attempt >= MAX_REAPPENDS) {
            throw new DatabaseError(
              `the store at ${where} dropped committed rows: ${n * perImage - gotEntries} of ${n * perImage} entries and ${n - gotImages} of ${n} images were missing after ${MAX_REAPPENDS + 1} appends`,
              'It does not honour conditional writes (If-None-Match) with several builders at once: run one builder at a time there, or use a store that does (S3, GCS, Azure, MinIO, a local folder)',
            );
          }
          await new Promise((r) => setTimeout(r, 100 + Math.random() * 400 * (attempt + 1)));
          if (gotEntries < 0) {
            log(`the store at ${where} refused a commit that met another writer's (a conflicting commit or a half-written file): appending again`);
            continue;
          }
          reappended++;
          log(`the store at ${where} dropped a commit (${gotEntries}/${n * perImage} entries, ${gotImages}/${n} images): appending again`);
        }
        await torn(() => t.codes.add([codesRow]), t.codes);
        committedIds.push(...ids);
        timings.writeMs += performance.now() - tw;
      };
      const flush = () => {
        const batch = pending;
        pending = [];
        writing = writing
          .then(() => (failure ? undefined : commit(batch)))
          .catch((err) => {
            failure ??= err;
          });
      };
      const onImage = (img: WorkerImage) => {
        const f = byRel.get(img.rel)!;
        encoded++;
        if (!img.ok) {
          skipped.push({ path: f.rel, error: img.error });
          log(`skipped ${f.rel}: ${img.error}`);
        } else {
          pending.push({ f, img });
          if (pending.length >= commitImages) flush();
        }
        progress('encode', encoded, toEncode.length, img.ok ? img.rel : `skipped ${img.rel}`);
      };
      if (toEncode.length) progress('encode', 0, toEncode.length, `Encoding ${toEncode.length} images`);
      let todo = toEncode;
      for (let pass = 0; todo.length; pass++) {
        await encodeEntries(todo, { info, catalog, opts, timings, patch, onImage, setPool: (p) => (pool = p) });
        if (pending.length) flush();
        await writing;
        if (failure) throw failure;
        checkAbort();
        // a later commit of another writer may still have overwritten one of ours (a store without
        // conditional writes): every committed image must have its record and all its entries
        const lost = await incomplete(t, committedIds, perImage);
        if (!lost.size) break;
        if (pass >= MAX_REAPPENDS)
          throw new DatabaseError(
            `the store at ${where} lost the rows of ${lost.size} of the ${committedIds.length} images this builder committed`,
            'Run the same command again to append them (the store does not honour conditional writes: one builder at a time there)',
          );
        await deleteIn(t.entries, 'image', [...lost]);
        await deleteIn(t.images, 'id', [...lost]);
        reappended += lost.size;
        log(`the store at ${where} lost the rows of ${lost.size} images after their commits: encoding them again`);
        todo = todo.filter((f) => lost.has(imageId(f.rel)));
        for (let i = committedIds.length - 1; i >= 0; i--) if (lost.has(committedIds[i])) committedIds.splice(i, 1);
      }
      const ok = committedIds.length;
      added = ok - Math.min(ok, updated);
      updated = Math.min(ok, updated);
    }

    // ---- the vector index: trained once the parts are in
    let indexed: LanceIndexMeta | undefined;
    if (!part) {
      progress('write', 0, 1, 'Building the vector index');
      indexed = await ensureVectorIndex(t, keyDim, opts.minIndexRows ?? LANCE_MIN_INDEX_ROWS, opts.finalize === true, log);
    }
    progress('write', 1, 1, 'Done');
    await t.images.checkoutLatest();
    await t.entries.checkoutLatest();
    const images = await t.images.countRows();
    return {
      backend: 'lance',
      images,
      entries: await t.entries.countRows(),
      skipped,
      db: uri,
      model: info.manifest.name,
      elapsedMs: Date.now() - started,
      added,
      updated,
      removed,
      unchanged,
      upToDate: added + updated + removed === 0 && !indexed,
      generation: await t.entries.version(),
      timings,
      ...(part ? { part: { ...part } } : {}),
      ...(indexed ? { indexed } : {}),
      reappended,
    };
  } catch (err) {
    if (err instanceof BuildCancelledError || err instanceof RangeError) throw err;
    throw storeError(err, uri, storage, 'cannot build the Lance database');
  } finally {
    if (pool) await pool.close();
    await catalog.close();
    conn.close();
  }
}

/**
 * Builds (or rebuilds) the IVF-PQ index when there are enough entries and the
 * index is missing, or covers less than 90% of the entries (or `force`).
 * Returns what it built, undefined when nothing was needed.
 */
async function ensureVectorIndex(t: Tables, keyDim: number, minRows: number, force: boolean, log: (line: string) => void): Promise<LanceIndexMeta | undefined> {
  await t.entries.checkoutLatest();
  const n = await t.entries.countRows();
  if (n < minRows) {
    if (force) log(`${n} entries: fewer than ${minRows}, searched flat (exact) without a vector index`);
    return undefined;
  }
  const existing = (await t.entries.listIndices()).find((ix) => ix.columns.includes('key'));
  if (existing && !force) {
    const st = await t.entries.indexStats(existing.name);
    if (st && st.numUnindexedRows <= 0.1 * n) return undefined;
  }
  const params = lanceIndexParams(n, keyDim);
  const ti = performance.now();
  const { Index } = await lanceModule();
  await t.entries.createIndex('key', {
    config: Index.ivfPq({ numPartitions: params.partitions, numSubVectors: params.subVectors, distanceType: 'l2' }),
    replace: true,
  });
  await t.entries.createIndex('image', { config: Index.btree(), replace: true });
  const doc: LanceIndexMeta = { ...params, builtAt: new Date().toISOString(), entries: n };
  await torn(() => t.meta.add([{ kind: 'index', at: Date.now(), json: JSON.stringify(doc), blob: null }]), t.meta);
  log(
    `vector index: IVF-PQ, ${params.partitions} partitions, ${params.subVectors} sub-vectors over ${formatCount(n)} entries in ${formatDuration(performance.now() - ti)}; searched with nprobes ${params.nprobes}, refine ${params.refineFactor}`,
  );
  return doc;
}
