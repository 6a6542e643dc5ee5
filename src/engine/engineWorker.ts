// The engine worker thread: owns open databases, loaded models and running
// builds, so the extension host's thread never decodes, encodes or searches.

import { parentPort } from 'node:worker_threads';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { LRUCache } from 'lru-cache';
import { PatchDatabase, MANIFEST_FILE, DatabaseError, clearDatabase } from './database';
import { LanceDatabase } from './lanceDatabase';
import { isLanceFolder, isObjectStoreUri, lanceUri, storageOptions } from './lanceStore';
import { buildLanceDatabase } from './lanceBuilder';
import type { PatchStore } from './patchStore';
import { buildDatabase, type BuildProgress } from './indexer';
import { PatchRetriever, type TokenGrid } from './retrieval';
import { databaseStats, retrievalPredictability, rolloutStatistic } from './stats';
import { RolloutRecorder, runRollout } from './rollout';
import type { RolloutStep } from '../core/rollout';
import { Tokenizer } from './tokenizer';
import { cropToPng } from './imageDecoder';
import { thumbnailWindow, windowRect } from '../core/geometry';
import { datasetRootOf } from './locations';
import { prototypeOf } from '../core/prototypes';
import { PathReader, archivePage, sourcesDir } from './datasetCatalog';
import { DuplicateSearches } from './duplicateSearches';
import { fidelitySubject, measureFidelity } from './fidelity';
import type { DbSummary, EngineMessage, EngineRequest, EngineRequests, EngineMethod } from './engineProtocol';

const port = parentPort!;

function post(msg: EngineMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

// ---- caches: a database is reopened when its manifest changes on disk
const dbs = new Map<string, { db: PatchStore; mtimeMs: number; size: number; checking: AbortController }>();
/** Storage options of Lance database URIs (from the extension's SecretStorage), in memory only. */
const storage = new Map<string, readonly string[]>();
/** The dataset folder on this machine of a database named by the settings (a shared one records its builder's). */
const roots = new Map<string, string>();

function rootOf(dbDir: string, db: PatchStore): string {
  return roots.get(dbDir) ?? datasetRootOf(dbDir, db.manifest);
}

/** Where member indexes of archives are kept: beside a local database (none for one in object storage). */
function cacheDirOf(dbDir: string): string | undefined {
  return isObjectStoreUri(dbDir) ? undefined : sourcesDir(dbDir);
}

/** Whether a build into dbDir makes a Lance database. */
function buildsLance(dbDir: string | undefined, backend: string | undefined): dbDir is string {
  return dbDir !== undefined && (backend === 'lance' || isObjectStoreUri(dbDir) || isLanceFolder(dbDir));
}
/** How often an open Lance database asks its store whether a builder committed. */
const LANCE_RECHECK_MS = 2000;
const tokenizers = new Map<string, Promise<Tokenizer>>();
/** Cancellable requests running (builds, duplicate searches, rollouts), by request id. */
const running = new Map<number, AbortController>();

/** Runs a cancellable request under its id. */
async function cancellable<T>(id: number, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  running.set(id, controller);
  try {
    return await run(controller.signal);
  } finally {
    running.delete(id);
  }
}

/** Step events at most every 50 ms (and the last one). */
function stepReporter(id: number): (done: number, total: number, phase?: string) => void {
  let last = 0;
  return (done, total, phase) => {
    const now = performance.now();
    if (done < total && now - last < 50) return;
    last = now;
    post({ type: 'steps', id, done, total, ...(phase ? { phase } : {}) });
  };
}
const searches = new DuplicateSearches((dbDir) => requireDb(dbDir));
/** Open catalogs (member indexes, archive readers) by dataset root, shared by every request. */
const paths = new PathReader();

function forget(dbDir: string): void {
  const open = dbs.get(dbDir);
  open?.checking.abort();
  open?.db.close?.();
  dbs.delete(dbDir);
}

/** A Lance database (a URI or a folder of its tables), reopened when a builder has committed since. */
async function openLance(dbDir: string): Promise<PatchStore | undefined> {
  const cached = dbs.get(dbDir);
  if (cached && cached.db instanceof LanceDatabase) {
    if (Date.now() - cached.mtimeMs < LANCE_RECHECK_MS || !(await cached.db.changed())) {
      if (Date.now() - cached.mtimeMs >= LANCE_RECHECK_MS) cached.mtimeMs = Date.now();
      return cached.db;
    }
  }
  forget(dbDir);
  const db = await LanceDatabase.connect(dbDir, { storage: storageOptions(dbDir, storage.get(dbDir) ?? []) });
  if (db) dbs.set(dbDir, { db, mtimeMs: Date.now(), size: 0, checking: new AbortController() });
  return db;
}

/**
 * The open database in dbDir. An open that trusted the record of an earlier
 * full check (see integrity.ts) is followed by the full check in the
 * background; once that finds damage, every request on the database fails with
 * it (the extension offers the rebuild) until the database changes.
 */
async function openDb(dbDir: string): Promise<PatchStore | undefined> {
  if (isObjectStoreUri(dbDir) || isLanceFolder(dbDir)) return openLance(dbDir);
  const st = fs.statSync(path.join(dbDir, MANIFEST_FILE), { throwIfNoEntry: false });
  if (!st) {
    forget(dbDir);
    return undefined;
  }
  const cached = dbs.get(dbDir);
  if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) {
    cached.db.assertIntact();
    return cached.db;
  }
  forget(dbDir);
  const db = PatchDatabase.open(dbDir);
  if (!db) return undefined;
  const checking = new AbortController();
  dbs.set(dbDir, { db, mtimeMs: st.mtimeMs, size: st.size, checking });
  if (db.checked !== 'full') void db.verifyContents(checking.signal);
  return db;
}

async function requireDb(dbDir: string): Promise<PatchStore> {
  const db = await openDb(dbDir);
  if (!db) {
    const err = new Error(`no patch database in ${dbDir}`);
    err.name = 'NoDatabaseError';
    throw err;
  }
  return db;
}

function tokenizer(manifestPath: string): Promise<Tokenizer> {
  let t = tokenizers.get(manifestPath);
  if (!t) {
    t = Tokenizer.load(manifestPath);
    t.catch(() => tokenizers.delete(manifestPath));
    tokenizers.set(manifestPath, t);
  }
  return t;
}

async function retriever(dbDir: string, model?: string): Promise<PatchRetriever> {
  const db = await requireDb(dbDir);
  const root = rootOf(dbDir, db);
  return new PatchRetriever(db, root, () => tokenizer(model ?? db.model.manifestPath), undefined, paths.catalog(root, cacheDirOf(dbDir)));
}

/**
 * Grids of images outside the database, by file version: an inspector asks for
 * such an image's grid, then queries it on every click, and each request would
 * otherwise run the encoder again (seconds with a full-size VQ-16 on a CPU).
 */
const ON_THE_FLY_GRIDS = 16;
const onTheFly = new LRUCache<string, Promise<TokenGrid>>({ max: ON_THE_FLY_GRIDS });

async function tokenGrid(dbDir: string, image: string, model?: string): Promise<{ r: PatchRetriever; grid: TokenGrid }> {
  const r = await retriever(dbDir, model);
  const abs = path.resolve(r.datasetRoot, image);
  // a member's path goes through its archive file: stat says ENOTDIR, and the grid comes from the database
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(abs);
  } catch {
    st = undefined;
  }
  const key = st ? [dbDir, r.db.manifest.generation, abs, st.size, st.mtimeMs, model ?? ''].join('\0') : undefined;
  if (key === undefined) return { r, grid: await r.tokenGrid(image) };
  let pending = onTheFly.get(key);
  if (!pending) {
    // Cached before it resolves, so concurrent requests (grid, then query or reconstruct)
    // share one encoder run; database images and failures are not kept.
    pending = r.tokenGrid(image);
    onTheFly.set(key, pending);
    pending.then(
      (g) => g.inDatabase && onTheFly.delete(key),
      () => onTheFly.delete(key),
    );
  }
  return { r, grid: await pending };
}

async function summary(dbDir: string): Promise<DbSummary | null> {
  const db = await openDb(dbDir);
  if (!db) return null;
  const m = db.manifest;
  return {
    dbDir,
    root: rootOf(dbDir, db),
    generation: m.generation,
    updatedAt: m.updatedAt,
    model: {
      name: m.model.name,
      fingerprint: m.model.fingerprint,
      manifestPath: m.model.manifestPath,
      rows: m.model.rows,
      cols: m.model.cols,
      dim: m.model.dim,
      codebookSize: m.model.codebookSize,
      hasDecoder: hasDecoder(m.model.manifestPath),
    },
    keys: m.keys,
    backend: db.backend,
    index: {
      m: m.index.m,
      efConstruction: m.index.efConstruction,
      ef: m.index.ef,
      keyDim: m.index.keyDim,
      ...(m.index.lance ? { lance: { ...m.index.lance } } : {}),
    },
    images: m.images.length,
    entries: db.entryCount,
    diskBytes: db.diskBytes(),
    failed: m.failed.map((f) => ({ path: f.path, error: f.error })),
    lastBuild: {
      finishedAt: m.lastBuild.finishedAt,
      elapsedMs: m.lastBuild.elapsedMs,
      added: m.lastBuild.added,
      updated: m.lastBuild.updated,
      removed: m.lastBuild.removed,
    },
  };
}

function hasDecoder(manifestPath: string): boolean {
  try {
    const j = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as { decoder?: unknown };
    return j.decoder !== undefined && j.decoder !== null;
  } catch {
    return false;
  }
}

type Handler<M extends EngineMethod> = (params: EngineRequests[M]['params'], id: number) => Promise<EngineRequests[M]['result']> | EngineRequests[M]['result'];

const handlers: { [M in EngineMethod]: Handler<M> } = {
  summary: ({ dbDir }) => summary(dbDir),
  images: async ({ dbDir }) =>
    (await requireDb(dbDir)).manifest.images.map((i) => ({ path: i.path, width: i.width, height: i.height, bytes: i.bytes, mtimeMs: i.mtimeMs })),
  grid: async ({ dbDir, image, model }) => {
    const { grid: g } = await tokenGrid(dbDir, image, model);
    // Copies: the stored records are views into a segment that must not be transferred.
    return {
      image: g.image,
      inDatabase: g.inDatabase,
      width: g.width,
      height: g.height,
      rows: g.rows,
      cols: g.cols,
      tokens: g.tokens.slice(),
      distances: g.distances.slice(),
      cells: g.cells,
    };
  },
  query: async ({ dbDir, image, row, col, options, model }) => {
    const { r, grid } = await tokenGrid(dbDir, image, model);
    const res = await r.query(grid, row, col, options);
    return { ...res, results: await r.withCaptions(res.results) };
  },
  stats: async ({ dbDir, predictability, rollout }, id) => {
    const db = await requireDb(dbDir);
    const stats = databaseStats(db);
    const steps = stepReporter(id);
    const pred = predictability ? await cancellable(id, (signal) => retrievalPredictability(db, { ...predictability, signal, onProgress: steps })) : undefined;
    const roll = rollout ? await cancellable(id, (signal) => rolloutStatistic(db, { ...rollout, signal, onProgress: steps })) : undefined;
    return { ...stats, ...(pred ? { predictability: pred } : {}), ...(roll ? { rollout: roll } : {}) };
  },
  rollout: async ({ dbDir, image, options, model, decode }, id) => {
    const recorder = new RolloutRecorder();
    const steps = stepReporter(id);
    // Cancellable from the start: a cancel that comes while the grid loads is not lost.
    const { r, run } = await cancellable(id, async (signal) => {
      const { r, grid } = await tokenGrid(dbDir, image, model);
      const onStep = (step: RolloutStep, done: number, total: number) => {
        recorder.onStep(step);
        steps(done, total);
      };
      return { r, run: await runRollout(r, grid, options, { signal, onStep }) };
    });
    const payload = recorder.payload(run);
    const manifest = model ?? r.db.model.manifestPath;
    if (!decode || !hasDecoder(manifest)) return payload;
    const tok = await tokenizer(manifest);
    const rgb = await tok.reconstruct(run.tokens);
    const { width, height } = tok.info.manifest.input;
    return {
      ...payload,
      png: new Uint8Array(
        await sharp(rgb, { raw: { width, height, channels: 3 } })
          .png()
          .toBuffer(),
      ),
    };
  },
  tokenUses: async ({ dbDir, token, limit }) => {
    const db = await requireDb(dbDir);
    const { cols, codebookSize } = db.model;
    if (!Number.isInteger(token) || token < 0 || token >= codebookSize) throw new RangeError(`token must be an integer from 0 to ${codebookSize - 1}`);
    const out: { image: string; positions: { row: number; col: number }[] }[] = [];
    for (let i = 0; i < db.manifest.images.length && out.length < (limit ?? Infinity); i++) {
      const t = db.record(i).tokens;
      const positions: { row: number; col: number }[] = [];
      for (let p = 0; p < t.length; p++) if (t[p] === token) positions.push({ row: Math.floor(p / cols), col: p % cols });
      if (positions.length) out.push({ image: db.image(i).path, positions });
    }
    return out.sort((a, b) => b.positions.length - a.positions.length || (a.image < b.image ? -1 : 1));
  },
  codebook: async ({ dbDir }) => {
    const db = await requireDb(dbDir);
    const { patch, sums, counts: protoCounts } = db.codes();
    const K = db.model.codebookSize;
    const counts = new Uint32Array(K);
    for (let i = 0; i < db.manifest.images.length; i++) for (const t of db.record(i).tokens) counts[t]++;
    const n = patch * patch * 3;
    const prototypes = new Uint8Array(K * n);
    for (let k = 0; k < K; k++) {
      const p = prototypeOf(k, patch, sums, protoCounts);
      if (p) prototypes.set(p, k * n);
    }
    return { codebookSize: K, patch, counts, prototypes, staleImages: db.manifest.prototypes.staleImages };
  },
  clearDatabase: async ({ dbDir }) => {
    const db = dbs.get(dbDir)?.db;
    if (db) paths.forget(rootOf(dbDir, db));
    forget(dbDir);
    for (const k of [...onTheFly.keys()]) if (k.startsWith(`${dbDir}\0`)) onTheFly.delete(k);
    return clearDatabase(dbDir);
  },
  readImage: async ({ file }) => {
    const b = await paths.read(file);
    return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : b.slice();
  },
  statArchivePath: async ({ file }) => (await paths.stat(file)) ?? null,
  readArchiveDir: ({ file }) => paths.entries(file),
  archivePage: async ({ root, dbDir, archive, prefix, offset, limit, include, exclude }) => {
    // the member indexes a build kept are used; none are written before there is a database folder
    const cacheDir = fs.existsSync(dbDir) ? cacheDirOf(dbDir) : undefined;
    return archivePage(paths.catalog(root, cacheDir), archive, prefix, { offset, limit, include, exclude });
  },
  metadata: async ({ dbDir, images }) => {
    const r = await retriever(dbDir);
    return Promise.all(images.slice(0, 1000).map(async (i) => (await r.metadata(i).catch(() => undefined)) ?? null));
  },
  thumbnail: async ({ dbDir, image, cell, reach, size, model }) => {
    const { r, grid } = await tokenGrid(dbDir, image, model);
    let window = { row: 0, col: 0, rows: grid.rows, cols: grid.cols };
    if (cell) {
      const { row, col } = cell;
      if (!(Number.isInteger(row) && Number.isInteger(col) && row >= 0 && col >= 0 && row < grid.rows && col < grid.cols))
        throw new RangeError(`patch (${row}, ${col}) is outside the ${grid.rows}x${grid.cols} grid of ${image}`);
      if (reach !== undefined && !(Number.isInteger(reach) && reach >= 1 && reach <= Math.max(grid.rows, grid.cols)))
        throw new RangeError(`a thumbnail cannot reach ${reach} cells around a patch`);
      window = thumbnailWindow(grid.rows, grid.cols, row, col, reach);
    }
    const png = new Uint8Array(await cropToPng(await r.imageBytes(image), windowRect(grid.cells, grid.cols, window), size));
    return { png, window };
  },
  crop: async ({ file, rect, size, imageSize }) => new Uint8Array(await cropToPng(await paths.read(file, imageSize), rect, size)),
  reconstruct: async ({ dbDir, image, model }) => {
    const { r, grid: g } = await tokenGrid(dbDir, image, model);
    const tok = await tokenizer(model ?? r.db.model.manifestPath);
    const rgb = await tok.reconstruct(g.tokens);
    const { width, height } = tok.info.manifest.input;
    return new Uint8Array(
      await sharp(rgb, { raw: { width, height, channels: 3 } })
        .png()
        .toBuffer(),
    );
  },
  build: ({ backend, ...params }, id) =>
    cancellable(id, (signal) => {
      const run = {
        signal,
        onProgress: (progress: BuildProgress) => post({ type: 'progress', id, progress }),
        log: (line: string) => post({ type: 'log', id, line }),
      };
      if (!buildsLance(params.dbDir, backend)) return buildDatabase({ ...params, ...run });
      const { dbDir, hnsw: _hnsw, wait: _wait, ...common } = params;
      if (!isObjectStoreUri(dbDir) && fs.existsSync(path.join(dbDir, MANIFEST_FILE))) {
        throw new DatabaseError(
          `${dbDir} holds an HNSW database`,
          'Clear it (Patch Lens: Clear Database) or name another folder for the Lance database in patchlens.databases',
        );
      }
      return buildLanceDatabase({ ...common, ...run, uri: lanceUri(dbDir), storage: storageOptions(dbDir, storage.get(dbDir) ?? []) });
    }),
  duplicates: (params, id) =>
    cancellable(id, (signal) => searches.run(params, { signal, onProgress: (progress) => post({ type: 'searchProgress', id, progress }) })),
  duplicateSearch: ({ searchId }) => searches.search(searchId),
  duplicatePage: ({ searchId, offset, count }) => searches.page(searchId, offset, count),
  duplicateCells: ({ searchId, rank }) => searches.cells(searchId, rank),
  overlaps: ({ dbDir, image, limit }, id) =>
    cancellable(id, (signal) =>
      searches.overlaps(dbDir, image, limit ?? 10, { signal, onProgress: (progress) => post({ type: 'searchProgress', id, progress }) }),
    ),
  storageOptions: ({ dbDir, options, root }) => {
    storage.set(dbDir, [...options]);
    if (root) roots.set(dbDir, root);
    else roots.delete(dbDir);
    forget(dbDir); // reopened with them
    for (const k of onTheFly.keys()) if (k.startsWith(`${dbDir}\0`)) onTheFly.delete(k);
    return true;
  },
  fidelity: async ({ dbDir, queries, k }, id) => {
    const steps = stepReporter(id);
    const db = await requireDb(dbDir);
    return cancellable(id, (signal) =>
      measureFidelity(fidelitySubject(db), { queries, k, signal, onProgress: (phase, done, total) => steps(done, total, phase) }),
    );
  },
  cancel: ({ buildId }) => {
    const c = running.get(buildId);
    c?.abort();
    return c !== undefined;
  },
  ping: () => {
    const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
    const hnsw = require('hnswlib-node') as typeof import('hnswlib-node');
    new hnsw.HierarchicalNSW('l2', 2).initIndex(1);
    return { onnxruntime: ort.env.versions.node ?? 'unknown', sharp: sharp.versions.sharp ?? 'unknown', hnswlib: true };
  },
};

/** Typed arrays in a result travel as transferables (their own buffers only). */
function transferables(result: unknown): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  if (result && typeof result === 'object') {
    if (ArrayBuffer.isView(result)) {
      if (result.byteOffset === 0 && result.byteLength === result.buffer.byteLength && result.buffer instanceof ArrayBuffer) out.push(result.buffer);
    } else {
      for (const v of Object.values(result)) {
        if (ArrayBuffer.isView(v) && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength && v.buffer instanceof ArrayBuffer) out.push(v.buffer);
      }
    }
  }
  return [...new Set(out)];
}

port.on('message', async (req: EngineRequest) => {
  try {
    const handler = handlers[req.method] as Handler<EngineMethod> | undefined;
    if (!handler) throw new Error(`unknown engine method ${String(req.method)}`);
    const result = await handler(req.params as never, req.id);
    post({ type: 'response', id: req.id, result }, transferables(result));
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    post({ type: 'error', id: req.id, name: e.name, message: e.message });
  }
});
