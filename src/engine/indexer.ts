// The indexing pipeline: scan a dataset, encode new or changed images in
// worker threads, build their entries' keys, update the HNSW index, and commit
// a new database generation atomically. Later runs only encode what changed.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatCount, formatGrid, formatPercent } from '../core/format';
import {
  DB_FORMAT,
  DB_FORMAT_DELTA,
  recordBytes,
  sameKeys,
  type DbFailure,
  type DbImage,
  type DbManifest,
  type DbModel,
  type DbSegment,
} from '../core/dbManifest';
import { assertHops, codeGrid, entryCount, imageKeys, keyDimension } from '../core/neighbourhood';
import { BORDERS, DEFAULT_KEYS, GENERATION_FILES, KEY_SHAPES, KEY_SOURCES, describeKeyParams, type KeyParams } from '../core/vocabulary';
import { accumulatePrototypes, prototypePatch } from '../core/prototypes';
import { DEFAULT_MAX_PIXELS } from './imageDecoder';
import { scanDataset } from './datasetScanner';
import { DatasetCatalog, codeRowHash, expandArchives, sourcesDir, type ArchiveIndex, type DatasetEntry } from './datasetCatalog';
import type { EncodeFile, WorkerImage } from './encodeProtocol';
import { EncoderPool, encoderLayout } from './encoderPool';
import { DEFAULT_HNSW, HnswPatchIndex, type HnswParams } from './patchIndex';
import { RebuildNeededError } from './databaseError';
import { LayeredPatchIndex } from './layeredPatchIndex';
import { Tokenizer, type ModelInfo } from './tokenizer';
import { pauseAt } from './testHooks';
import {
  DatabaseError,
  MANIFEST_FILE,
  PatchDatabase,
  collectGarbage,
  ensureGitignore,
  defaultDbDir,
  fileRef,
  manifestChecksum,
  readDbManifest,
  recordVerified,
  removeGeneration,
  serializeDbManifest,
  storageError,
} from './database';
import { fsyncPath, makeDirs, writeFileAtomic } from './fileWrites';
import { acquireLock } from './buildLock';
import { sha256File } from './sha256';

export { DEFAULT_KEYS };

export interface BuildOptions {
  readonly root: string;
  /** Database folder; <root>/.patchlens by default. */
  readonly dbDir?: string;
  /** Model manifest path. */
  readonly model: string;
  readonly keys?: Partial<KeyParams>;
  readonly hnsw?: Partial<HnswParams>;
  /** Replace an existing database instead of updating it. */
  readonly rebuild?: boolean;
  /** Hash every file of the database being updated first, not only the ones the update copies bytes from. */
  readonly verify?: boolean;
  /** Encode workers (default: one per core, at most 4; see encoderLayout). */
  readonly workers?: number;
  /** Encoder threads per worker (default: the cores but one shared out among the workers, at least 1). */
  readonly threads?: number;
  readonly batchSize?: number;
  readonly maxPixels?: number;
  /** Largest archive member read (bytes). */
  readonly maxMemberBytes?: number;
  /** Parquet: the image column, overriding the detection. */
  readonly imageColumn?: string;
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  /** Wait for another build of the same database instead of failing. */
  readonly wait?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: BuildProgress) => void;
  readonly log?: (line: string) => void;
}

export type BuildPhase = 'load' | 'scan' | 'encode' | 'write';

export interface BuildProgress {
  readonly phase: BuildPhase;
  readonly done: number;
  readonly total: number;
  readonly message: string;
}

export interface BuildTimings {
  /** Reading and checking the model (its encoder is run here only when the database has no record of its grid). */
  loadMs: number;
  /** Opening (and verifying) the previous database. */
  openMs: number;
  /** Starting the encode workers (each loads the model), overlapping the new generation's setup. */
  startMs: number;
  scanMs: number;
  /** Summed over workers (decode of a batch runs concurrently with other work). */
  decodeMs: number;
  encodeMs: number;
  keysMs: number;
  insertMs: number;
  writeMs: number;
  /** Wall time from the first image sent to the last one indexed. */
  pipelineMs: number;
}

export interface BuildResult {
  readonly images: number;
  readonly entries: number;
  readonly skipped: { path: string; error: string }[];
  readonly db: string;
  readonly model: string;
  readonly elapsedMs: number;
  readonly added: number;
  readonly updated: number;
  readonly removed: number;
  readonly unchanged: number;
  /** Nothing changed, nothing was written. */
  readonly upToDate: boolean;
  readonly generation: number;
  readonly timings: BuildTimings;
}

export class BuildCancelledError extends Error {
  override name = 'BuildCancelledError';
  constructor() {
    super('build cancelled; the previous database is unchanged');
  }
}

export function resolveKeys(k: Partial<KeyParams> | undefined): KeyParams {
  const keys = { ...DEFAULT_KEYS, ...Object.fromEntries(Object.entries(k ?? {}).filter(([, v]) => v !== undefined)) } as KeyParams;
  assertHops(keys.hops);
  for (const [name, v, allowed] of [
    ['shape', keys.shape, KEY_SHAPES],
    ['border', keys.border, BORDERS],
    ['keys', keys.source, KEY_SOURCES],
  ] as const) {
    if (!(allowed as readonly string[]).includes(v)) throw new RangeError(`${name} must be ${allowed.join(' or ')}, got ${v}`);
  }
  return keys;
}

function resolveHnsw(h: Partial<HnswParams> | undefined): HnswParams {
  const p = { ...DEFAULT_HNSW, ...Object.fromEntries(Object.entries(h ?? {}).filter(([, v]) => v !== undefined)) } as HnswParams;
  for (const [k, v, min] of [
    ['m', p.m, 2],
    ['efConstruction', p.efConstruction, 1],
    ['ef', p.ef, 1],
  ] as const) {
    if (!Number.isInteger(v) || v < min || v > 10_000) throw new RangeError(`${k} must be an integer from ${min} to 10000, got ${v}`);
  }
  return p;
}

/** Explains why an existing database cannot be updated with these settings, or undefined. */
export function incompatibility(m: DbManifest, info: ModelInfo, keys: KeyParams, hnsw: HnswParams): string | undefined {
  if (m.model.fingerprint !== info.fingerprint) {
    return `it was built with model ${m.model.name} (${m.model.fingerprint}), not ${info.manifest.name} (${info.fingerprint})`;
  }
  if (!sameKeys(m.keys, keys)) {
    return `it was built with keys ${describeKeyParams(m.keys)}, not ${describeKeyParams(keys)}`;
  }
  if (m.index.m !== hnsw.m || m.index.efConstruction !== hnsw.efConstruction) {
    return `its index was built with M=${m.index.m} efConstruction=${m.index.efConstruction}, not M=${hnsw.m} efConstruction=${hnsw.efConstruction}`;
  }
  return undefined;
}

/** How many code-shard rows are read and added at a time. */
const CODE_ROWS_PER_READ = 256;

/** Whether an image whose size or time differs from its record still holds the recorded content (a touched or copied file). */
export async function sameContent(f: DatasetEntry, sha256: string, catalog: DatasetCatalog): Promise<boolean> {
  try {
    return (f.source ? await catalog.entryHash(f) : sha256File(f.abs)) === sha256;
  } catch {
    return false;
  }
}

/**
 * Builds or updates the database of a dataset, in stages: load the model, lock
 * the folder, open the previous database, scan and diff, start a generation,
 * encode what is new, write and commit. Whatever fails, the previous database
 * stays as it was and this run's files are removed.
 */
export async function buildDatabase(opts: BuildOptions): Promise<BuildResult> {
  const b = resolveBuild(opts);
  if (!fs.existsSync(b.root) || !fs.statSync(b.root).isDirectory()) throw new Error(`the dataset folder ${b.root} does not exist`);
  const info = await loadModel(b);
  const { createdDir, release } = await lockFolder(b);
  const run: RunState = {};
  const catalog = new DatasetCatalog(b.root, { cacheDir: sourcesDir(b.dbDir), maxMemberBytes: opts.maxMemberBytes, imageColumn: opts.imageColumn });
  try {
    b.checkAbort();
    const { prev, prevManifest } = openPrevious(b, info);
    const diff = await scanAndDiff(b, info, catalog, prev);
    if (prev && diff.toEncode.length === 0 && diff.removed === 0 && diff.touched === 0 && !diff.failedChanged) return upToDateResult(b, info, prev, diff);
    // The workers load the model while the generation is set up (at 1M entries the base index's labels are read then).
    run.starting = startEncoders(
      diff.toEncode,
      info,
      { ...opts, batchSize: b.batchSize, maxPixels: b.maxPixels },
      prototypePatch(info.manifest.input.width, info.cols),
    );
    const gen = startGeneration(b, info, prev, prevManifest, diff, run);
    const added = await encodeNew(b, info, catalog, prev, diff, gen, run);
    return commitGeneration(b, info, prev, diff, gen, added, run);
  } catch (err) {
    throw storageError(err, b.dbDir);
  } finally {
    await cleanUp(b, run, catalog, createdDir, release);
  }
}

/** The settings of one build, resolved, and its shared instruments (log, progress, timings, cancellation). */
interface Build {
  readonly opts: BuildOptions;
  readonly started: number;
  readonly startedAt: string;
  readonly root: string;
  readonly dbDir: string;
  readonly keys: KeyParams;
  readonly hnsw: HnswParams;
  readonly maxPixels: number;
  readonly batchSize: number;
  readonly timings: BuildTimings;
  readonly log: (line: string) => void;
  readonly progress: (phase: BuildPhase, done: number, total: number, message: string) => void;
  readonly checkAbort: () => void;
}

/** What the clean-up after a build must know: what is open, and whether the run committed. */
interface RunState {
  /** Encode workers started for this run (closed by the clean-up whatever became of them). */
  starting?: StartingPool;
  pool?: EncoderPool;
  segment?: SegmentWriter;
  generation?: number;
  committed?: DbManifest;
}

/** The dataset compared with the previous database: what is kept, what must be encoded, what left. */
interface Diff {
  readonly entryCount: number;
  readonly skipped: { path: string; error: string }[];
  readonly failed: DbFailure[];
  readonly kept: { img: DbImage; i: number }[];
  readonly toEncode: DatasetEntry[];
  readonly updated: number;
  /** Kept images whose mtime changed but whose bytes did not. */
  readonly touched: number;
  readonly removedImages: { img: DbImage; i: number }[];
  readonly removed: number;
  /** The previous records of images that are encoded again. */
  readonly changedOld: DbImage[];
  readonly failedChanged: boolean;
}

/** A new generation being written: its index, prototypes, segment and image records so far. */
interface Generation {
  readonly generation: number;
  readonly rows: number;
  readonly cols: number;
  readonly dim: number;
  readonly codebookSize: number;
  readonly cells: number;
  readonly perImage: number;
  readonly keyDim: number;
  readonly patch: number;
  readonly index: LayeredPatchIndex | HnswPatchIndex;
  readonly sums: Float32Array;
  readonly counts: Uint32Array;
  readonly staleImages: number;
  readonly segFile: string;
  readonly segment: SegmentWriter;
  readonly segments: DbSegment[];
  readonly newSegIndex: number;
  readonly images: DbImage[];
}

/** What the encode stage added. */
interface Added {
  readonly addedOk: number;
  readonly updatedOk: number;
  readonly nextLabel: number;
}

/** The new generation's segment file, appended to record by record. */
class SegmentWriter {
  bytes = 0;
  private fd: number | undefined;
  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'w');
  }
  /** Appends the chunks; returns the offset they start at. */
  write(chunks: readonly Uint8Array[]): number {
    const off = this.bytes;
    for (const c of chunks) {
      // write(2) may write less than asked (a disk filling up): go on until all is written or it fails
      for (let done = 0; done < c.byteLength;) done += fs.writeSync(this.fd!, c, done, c.byteLength - done);
      this.bytes += c.byteLength;
    }
    return off;
  }
  /** Makes what was written durable and closes the file. */
  finish(): void {
    fs.fsyncSync(this.fd!);
    this.close();
  }
  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    fs.closeSync(fd);
  }
}

function resolveBuild(opts: BuildOptions): Build {
  const started = Date.now();
  const root = path.resolve(opts.root);
  return {
    opts,
    started,
    startedAt: new Date(started).toISOString(),
    root,
    dbDir: path.resolve(opts.dbDir ?? defaultDbDir(root)),
    keys: resolveKeys(opts.keys),
    hnsw: resolveHnsw(opts.hnsw),
    maxPixels: opts.maxPixels ?? DEFAULT_MAX_PIXELS,
    batchSize: Math.max(1, opts.batchSize ?? 8),
    timings: { loadMs: 0, openMs: 0, startMs: 0, scanMs: 0, decodeMs: 0, encodeMs: 0, keysMs: 0, insertMs: 0, writeMs: 0, pipelineMs: 0 },
    log: opts.log ?? (() => {}),
    progress: (phase, done, total, message) => opts.onProgress?.({ phase, done, total, message }),
    checkAbort: () => {
      if (opts.signal?.aborted) throw new BuildCancelledError();
    },
  };
}

/** Loads and checks the model before anything is written. */
async function loadModel(b: Build): Promise<ModelInfo> {
  b.progress('load', 0, 1, 'Loading model');
  const tl = performance.now();
  // The database built with this model recorded its grid: then the encoder need not be started here
  // (the encode workers load and check it before they encode, and an update with nothing to encode loads it nowhere).
  let known: DbModel | undefined;
  try {
    known = readDbManifest(b.dbDir)?.model;
  } catch {
    /* damaged: the open reports it (or --rebuild replaces it) */
  }
  const info = await Tokenizer.describe(b.opts.model, known);
  b.timings.loadMs = performance.now() - tl;
  b.log(`model ${info.manifest.name} (${info.fingerprint}): ${formatGrid(info.rows, info.cols)} grid, d=${info.dim}, K=${formatCount(info.codebookSize)}`);
  return info;
}

/** Creates the database folder if need be and takes its build lock; a folder this call made is removed again if the lock is refused. */
async function lockFolder(b: Build): Promise<{ createdDir: boolean; release: () => void }> {
  const { dbDir } = b;
  let createdDir: boolean;
  try {
    createdDir = makeDirs(dbDir);
  } catch (err) {
    const e = storageError(err, dbDir, `cannot create the database folder ${dbDir}`);
    throw e instanceof DatabaseError
      ? e
      : new DatabaseError(
          `cannot create the database folder ${dbDir} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
          'Choose a writable location with --db',
        );
  }
  try {
    return { createdDir, release: await acquireLock(dbDir, `index ${b.root}`, { wait: b.opts.wait, signal: b.opts.signal }) };
  } catch (err) {
    if (createdDir) {
      try {
        fs.rmdirSync(dbDir);
      } catch {
        /* someone else's lock is in it */
      }
    }
    throw err;
  }
}

/** The model as a database records it (manifest and Lance meta alike). */
export function dbModel(info: ModelInfo): DbModel {
  const { rows, cols, dim, codebookSize, manifest } = info;
  const { width, height, resize } = manifest.input;
  return {
    name: manifest.name,
    fingerprint: info.fingerprint,
    manifestPath: manifest.manifestPath,
    rows,
    cols,
    dim,
    codebookSize,
    inputWidth: width,
    inputHeight: height,
    resize,
  };
}

/**
 * The database to update (compatible with these settings), or for a rebuild only its manifest. It is opened as
 * queries open it (identities against the record of the last full check, every file hashed when they differ); the
 * files whose bytes every update copies (the codes, the delta) are hashed here, the others only if they are copied
 * (startGeneration): an update of a big database does not hash its whole index, yet never copies damage.
 */
function openPrevious(b: Build, info: ModelInfo): { prev?: PatchDatabase; prevManifest?: DbManifest } {
  if (b.opts.rebuild) {
    try {
      return { prevManifest: readDbManifest(b.dbDir) };
    } catch {
      return {}; // replacing a damaged database is what --rebuild is for
    }
  }
  const to = performance.now();
  const prev = PatchDatabase.open(b.dbDir, { verify: b.opts.verify === true ? true : undefined });
  if (prev) {
    const why = incompatibility(prev.manifest, info, b.keys, b.hnsw);
    if (why)
      throw new RebuildNeededError(
        `the database ${b.dbDir} cannot be updated: ${why}`,
        'Rebuild it explicitly (patchlens index --rebuild) or choose another --db',
      );
    prev.verifyCarried(['codes', 'delta']);
  }
  b.timings.openMs = performance.now() - to;
  return { prev, prevManifest: prev?.manifest };
}

/** Lists the dataset (archives as folders) and sorts each entry into kept, to encode, failed before, or removed. */
async function scanAndDiff(b: Build, info: ModelInfo, catalog: DatasetCatalog, prev: PatchDatabase | undefined): Promise<Diff> {
  const { opts } = b;
  b.progress('scan', 0, 1, 'Scanning dataset');
  const t0 = performance.now();
  const { entries, skipped, archiveFailures } = await listDataset(b.root, b.dbDir, catalog, info, opts, b.progress);
  b.checkAbort();
  const prevImages = new Map(prev?.manifest.images.map((img, i) => [img.path, { img, i }]) ?? []);
  const prevFailed = new Map(prev?.manifest.failed.map((f) => [f.path, f]) ?? []);
  const kept: { img: DbImage; i: number }[] = [];
  const failed: DbFailure[] = [...archiveFailures];
  const toEncode: DatasetEntry[] = [];
  let updated = 0;
  let touched = 0;
  for (const f of entries) {
    const p = prevImages.get(f.rel);
    if (p) {
      prevImages.delete(f.rel);
      if (p.img.bytes === f.bytes && p.img.mtimeMs === f.mtimeMs) {
        kept.push(p);
        continue;
      }
      if (await sameContent(f, p.img.sha256, catalog)) {
        kept.push({ img: { ...p.img, mtimeMs: f.mtimeMs, bytes: f.bytes }, i: p.i });
        touched++;
        continue;
      }
      updated++;
      toEncode.push(f);
      continue;
    }
    const pf = prevFailed.get(f.rel);
    if (pf && pf.bytes === f.bytes && pf.mtimeMs === f.mtimeMs) {
      failed.push(pf); // same bytes failed before: report again, do not retry
      skipped.push({ path: f.rel, error: pf.error });
      continue;
    }
    toEncode.push(f);
  }
  const removedImages = [...prevImages.values()];
  const removed = removedImages.length;
  const encodeSet = new Set(toEncode.map((f) => f.rel));
  const changedOld = (prev?.manifest.images ?? []).filter((img) => encodeSet.has(img.path));
  b.timings.scanMs = performance.now() - t0;
  b.log(`scan: ${entries.length} images, ${toEncode.length - updated} new, ${updated} changed, ${removed} removed, ${kept.length} unchanged`);
  const failureKey = (list: readonly DbFailure[]) =>
    list
      .map((f) => `${f.path}\0${f.error}`)
      .sort()
      .join('\n');
  const failedChanged = failureKey(failed) !== failureKey(prev?.manifest.failed ?? []);
  return { entryCount: entries.length, skipped, failed, kept, toEncode, updated, touched, removedImages, removed, changedOld, failedChanged };
}

/** Nothing changed: the previous database answers as it is, nothing is written. */
function upToDateResult(b: Build, info: ModelInfo, prev: PatchDatabase, diff: Diff): BuildResult {
  return {
    images: prev.manifest.images.length,
    entries: prev.entryCount,
    skipped: diff.skipped,
    db: b.dbDir,
    model: info.manifest.name,
    elapsedMs: Date.now() - b.started,
    added: 0,
    updated: 0,
    removed: 0,
    unchanged: diff.kept.length,
    upToDate: true,
    generation: prev.manifest.generation,
    timings: b.timings,
  };
}

/**
 * Opens a new generation: its number, the index to add to (the previous delta,
 * the previous base with the delta folded in, or a new index), the prototypes
 * to add to, and a segment file holding the kept records when the old segments
 * are mostly garbage.
 */
function startGeneration(
  b: Build,
  info: ModelInfo,
  prev: PatchDatabase | undefined,
  prevManifest: DbManifest | undefined,
  diff: Diff,
  run: RunState,
): Generation {
  const { dbDir, keys, hnsw } = b;
  const { kept, toEncode, removedImages, changedOld, removed } = diff;
  // Above every generation in the folder, so no file a manifest may name is overwritten.
  const onDisk = fs.readdirSync(dbDir).map((f) => Number(/^(?:seg|index|codes|delta)-(\d+)\./.exec(f)?.[1] ?? 0));
  const generation = Math.max(prevManifest?.generation ?? 0, ...onDisk) + 1;
  run.generation = generation;
  const { rows, cols, dim, codebookSize } = info;
  const cells = rows * cols;
  const rb = recordBytes(rows, cols, dim);
  const perImage = entryCount(rows, cols, keys.shape, keys.hops, keys.border);
  const keyDim = keyDimension(keys.shape, keys.hops, dim);
  const patch = prototypePatch(info.manifest.input.width, cols);

  // The index: a small update goes to the delta beside the base (only the delta's file is written);
  // a larger one, a first build or a rebuild writes a whole new index.
  const imageLabels = (img: DbImage) => Array.from({ length: img.entries }, (_, e) => img.firstLabel + e);
  const leaving = [...removedImages.map((r) => r.img), ...changedOld];
  const leavingEntries = leaving.reduce((a, img) => a + img.entries, 0);
  const layered = prev && prev.index.fitsDelta(toEncode.length * perImage + leavingEntries) ? prev.index : undefined;
  let index: LayeredPatchIndex | HnswPatchIndex;
  if (layered) {
    index = layered;
    for (const img of leaving) layered.remove(imageLabels(img));
  } else if (prev) {
    // Fold the delta into the base: the base's removals are applied already; the delta's live entries are added again.
    prev.verifyCarried(['base', 'segments']); // both are copied into the new index
    const base = prev.index.base;
    const deltaFrom = prev.index.deltaFirstLabel;
    for (const img of leaving) if (img.firstLabel < deltaFrom) base.remove(imageLabels(img));
    const leavingSet = new Set(leaving.map((img) => img.path));
    for (const { img, i } of kept) {
      if (img.firstLabel < deltaFrom || leavingSet.has(img.path)) continue;
      base.add(imageKeys(prev.sourceGrid(i, keys.source), rows, cols, dim, keys).keys, Float64Array.from(imageLabels(img)));
    }
    index = base;
  } else {
    index = HnswPatchIndex.create(keyDim, Math.max(1024, (kept.length + toEncode.length) * perImage), hnsw);
  }
  const protoSize = codebookSize * patch * patch * 3;
  let sums = new Float32Array(protoSize);
  let counts = new Uint32Array(codebookSize);
  let staleImages = 0;
  if (prev) {
    const p = prev.codes();
    sums = new Float32Array(p.sums);
    counts = new Uint32Array(p.counts);
    staleImages = prev.manifest.prototypes.staleImages + removed + changedOld.length;
  }

  // Old segments stay where they are unless mostly garbage; then live records move into the new one.
  const segFile = GENERATION_FILES.segment(generation);
  const segment = new SegmentWriter(path.join(dbDir, segFile));
  run.segment = segment;
  const oldSegs = prev?.manifest.segments ?? [];
  const liveBySeg = new Array<number>(oldSegs.length).fill(0);
  for (const k of kept) liveBySeg[k.img.segment] += rb;
  const totalOld = oldSegs.reduce((a, s) => a + s.bytes, 0);
  const liveOld = liveBySeg.reduce((a, x) => a + x, 0);
  const compact = prev !== undefined && totalOld > 0 && liveOld < totalOld / 2;
  if (compact) prev.verifyCarried(['segments']); // the live records are copied into the new segment
  const segments: DbSegment[] = [];
  const segMap = new Map<number, number>();
  if (!compact) {
    oldSegs.forEach((s, i) => {
      if (liveBySeg[i] > 0) {
        segMap.set(i, segments.length);
        segments.push({ ...s, liveBytes: liveBySeg[i] });
      }
    });
  }
  const newSegIndex = segments.length;
  const images: DbImage[] = [];
  for (const k of kept) {
    if (compact) {
      const offset = segment.write([prev!.recordBytes(k.i)]);
      images.push({ ...k.img, segment: newSegIndex, offset });
    } else {
      images.push({ ...k.img, segment: segMap.get(k.img.segment)! });
    }
  }
  if (compact) b.log(`compacting: ${formatPercent(liveOld / totalOld)} of the old segments is live`);
  return {
    generation,
    rows,
    cols,
    dim,
    codebookSize,
    cells,
    perImage,
    keyDim,
    patch,
    index,
    sums,
    counts,
    staleImages,
    segFile,
    segment,
    segments,
    newSegIndex,
    images,
  };
}

/** Encodes the new and changed images (pixels in the worker pool, AR-RAG code rows as read), adding each one's keys, record and prototypes. */
async function encodeNew(
  b: Build,
  info: ModelInfo,
  catalog: DatasetCatalog,
  prev: PatchDatabase | undefined,
  diff: Diff,
  gen: Generation,
  run: RunState,
): Promise<Added> {
  const { opts, keys, timings } = b;
  const { toEncode, failed, skipped } = diff;
  const { rows, cols, dim, cells, perImage, patch, index, sums, counts, segment, newSegIndex, images } = gen;
  let nextLabel = prev?.manifest.nextLabel ?? 0;
  let encodedCount = 0;
  let addedOk = 0;
  let updatedOk = 0;
  const wasIndexed = new Set(diff.changedOld.map((c) => c.path));
  const total = toEncode.length;
  const byRel = new Map(toEncode.map((f) => [f.rel, f]));
  const addImage = (img: WorkerImage) => {
    const f = byRel.get(img.rel)!;
    encodedCount++;
    if (!img.ok) {
      failed.push({ path: f.rel, bytes: f.bytes, mtimeMs: f.mtimeMs, error: img.error });
      skipped.push({ path: f.rel, error: img.error });
      b.log(`skipped ${f.rel}: ${img.error}`);
    } else {
      const tk = performance.now();
      const grid = keys.source === 'latent' ? img.latents : codeGrid(img.tokens, info.codebook, dim);
      const k = imageKeys(grid, rows, cols, dim, keys);
      const labels = new Float64Array(perImage);
      for (let e = 0; e < perImage; e++) labels[e] = nextLabel + e;
      const ti = performance.now();
      index.add(k.keys, labels);
      const tw = performance.now();
      const offset = segment.write([
        new Uint8Array(img.tokens.buffer, img.tokens.byteOffset, cells * 4),
        new Uint8Array(img.distances.buffer, img.distances.byteOffset, cells * 4),
        new Uint8Array(img.latents.buffer, img.latents.byteOffset, cells * dim * 4),
      ]);
      // code rows have no pixels to add to the prototypes
      if (img.pools.length > 0) accumulatePrototypes(img.tokens, img.pools, patch, sums, counts);
      images.push({
        path: f.rel,
        sha256: img.sha256,
        bytes: f.bytes,
        mtimeMs: f.mtimeMs,
        width: img.width,
        height: img.height,
        format: img.format,
        segment: newSegIndex,
        offset,
        firstLabel: nextLabel,
        entries: perImage,
      });
      nextLabel += perImage;
      if (wasIndexed.has(f.rel)) updatedOk++;
      else addedOk++;
      if (addedOk + updatedOk === 1) pauseAt('encode');
      const te = performance.now();
      timings.keysMs += ti - tk;
      timings.insertMs += tw - ti;
      timings.writeMs += te - tw;
    }
    b.progress('encode', encodedCount, total, img.ok ? img.rel : `skipped ${img.rel}`);
  };
  if (total > 0) b.progress('encode', 0, total, `Encoding ${total} images`);
  await encodeEntries(toEncode, {
    info,
    catalog,
    opts: { ...opts, batchSize: b.batchSize, maxPixels: b.maxPixels },
    timings,
    patch,
    onImage: addImage,
    setPool: (p) => (run.pool = p),
    starting: run.starting,
  });
  b.checkAbort();
  return { addedOk, updatedOk, nextLabel };
}

/** Writes the segment, index and codes files, then commits by replacing the manifest; files no manifest names are removed after. */
function commitGeneration(b: Build, info: ModelInfo, prev: PatchDatabase | undefined, diff: Diff, gen: Generation, added: Added, run: RunState): BuildResult {
  const { dbDir, hnsw, keys } = b;
  const { generation, keyDim, patch, index, sums, counts, staleImages, segFile, segment, segments, images } = gen;
  const { failed, kept, removed } = diff;
  b.progress('write', 0, 1, 'Writing database');
  const tw0 = performance.now();
  segment.finish();
  if (segment.bytes > 0) segments.push({ ...fileRef(dbDir, segFile), liveBytes: segment.bytes });
  else fs.rmSync(path.join(dbDir, segFile), { force: true });
  let indexInfo: DbManifest['index'];
  const indexCommon = { kind: 'hnsw' as const, m: hnsw.m, efConstruction: hnsw.efConstruction, ef: hnsw.ef, keyDim, entries: index.size };
  if (index instanceof LayeredPatchIndex) {
    const deltaFile = GENERATION_FILES.delta(generation);
    index.deltaForSave().save(path.join(dbDir, deltaFile));
    const was = prev!.manifest.index;
    indexInfo = {
      ...indexCommon,
      file: was.file,
      bytes: was.bytes,
      sha256: was.sha256,
      delta: {
        ...fileRef(dbDir, deltaFile),
        firstLabel: index.deltaFirstLabel,
        entries: index.delta!.size,
        baseEntries: was.delta?.baseEntries ?? was.entries,
        baseRemoved: index.baseRemovals,
      },
    };
  } else {
    const indexFile = GENERATION_FILES.index(generation);
    index.save(path.join(dbDir, indexFile));
    indexInfo = { ...indexCommon, ...fileRef(dbDir, indexFile) };
  }
  pauseAt('index');
  const protoFile = GENERATION_FILES.codes(generation);
  const protoBuf = Buffer.concat([sums, counts, info.codebook].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
  writeFileAtomic(path.join(dbDir, protoFile), protoBuf);
  b.checkAbort();
  images.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  failed.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  const now = new Date().toISOString();
  const manifest: DbManifest = {
    format: indexInfo.delta ? DB_FORMAT_DELTA : DB_FORMAT,
    generation,
    createdAt: prev?.manifest.createdAt ?? now,
    updatedAt: now,
    root: b.root,
    model: dbModel(info),
    keys,
    index: indexInfo,
    prototypes: { ...fileRef(dbDir, protoFile), patch, staleImages },
    segments,
    nextLabel: added.nextLabel,
    images,
    failed,
    lastBuild: {
      startedAt: b.startedAt,
      finishedAt: now,
      elapsedMs: Date.now() - b.started,
      added: added.addedOk,
      updated: added.updatedOk,
      removed,
      unchanged: kept.length,
      failed: failed.length,
    },
  };
  ensureGitignore(dbDir);
  const manifestText = serializeDbManifest(manifest);
  writeFileAtomic(path.join(dbDir, MANIFEST_FILE), manifestText, () => pauseAt('manifest'));
  run.committed = manifest;
  fsyncPath(dbDir);
  pauseAt('commit');
  recordVerified(dbDir, manifest, manifestChecksum(manifestText));
  b.timings.writeMs += performance.now() - tw0;
  try {
    collectGarbage(dbDir, manifest);
  } catch {
    /* committed; the next build removes what is left */
  }
  b.progress('write', 1, 1, 'Done');
  return {
    images: images.length,
    entries: index.size,
    skipped: diff.skipped,
    db: dbDir,
    model: info.manifest.name,
    elapsedMs: Date.now() - b.started,
    added: added.addedOk,
    updated: added.updatedOk,
    removed,
    unchanged: kept.length,
    upToDate: false,
    generation,
    timings: b.timings,
  };
}

/** After any run: closes what is open, and unless it committed leaves exactly the previous database (and no folder a failed first build made). */
async function cleanUp(b: Build, run: RunState, catalog: DatasetCatalog, createdDir: boolean, release: () => void): Promise<void> {
  const { dbDir } = b;
  run.segment?.close();
  if (run.pool) await run.pool.close();
  if (run.starting) await (await run.starting.pool.catch(() => undefined))?.close(); // terminating twice is harmless
  await catalog.close();
  if (!run.committed) {
    // Leave exactly the previous database: drop this run's files.
    try {
      collectGarbage(dbDir, readDbManifest(dbDir));
    } catch {
      // a damaged manifest is reported by the next open; drop at least this generation
      try {
        if (run.generation !== undefined) removeGeneration(dbDir, run.generation);
      } catch {
        /* nothing more to do */
      }
    }
  }
  release();
  if (!run.committed && createdDir) {
    try {
      fs.rmSync(sourcesDir(dbDir), { recursive: true, force: true });
      fs.rmdirSync(dbDir); // only if empty: a first build that failed leaves no folder behind
    } catch {
      /* not empty, or gone */
    }
  }
}

/** The images of a dataset (files and archive members, by id), and what could not be listed. */
export async function listDataset(
  root: string,
  dbDir: string | undefined,
  catalog: DatasetCatalog,
  info: ModelInfo,
  opts: Pick<BuildOptions, 'include' | 'exclude' | 'signal'>,
  progress: (phase: BuildPhase, done: number, total: number, message: string) => void,
): Promise<{ entries: DatasetEntry[]; skipped: { path: string; error: string }[]; archiveFailures: DbFailure[] }> {
  const scan = scanDataset(root, { include: opts.include, exclude: opts.exclude, skipDirs: dbDir ? [dbDir] : [] });
  const skipped = [...scan.skipped];
  // archives are listed as folders: their member indexes are built once and kept in the database folder
  const inArchives = await expandArchives(catalog, scan.archives, {
    include: opts.include,
    exclude: opts.exclude,
    cells: info.rows * info.cols,
    dim: info.dim,
    modelName: info.manifest.name,
    signal: opts.signal,
    onArchive: (rel, done, total) => progress('scan', done, total, `Listing ${rel}`),
  });
  if (opts.signal?.aborted) throw new BuildCancelledError();
  const archiveFailures: DbFailure[] = inArchives.problems;
  for (const p of archiveFailures) skipped.push({ path: p.path, error: p.error });
  const entries: DatasetEntry[] = [...scan.files, ...inArchives.entries].sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return { entries, skipped, archiveFailures };
}

/** Encode workers starting (each loads the model), and when they were asked for. */
export interface StartingPool {
  readonly pool: Promise<EncoderPool>;
  readonly startedAt: number;
}

/** Whether an entry is pixels to encode (an image file or archive member), not a row of an AR-RAG code shard. */
function isPixels(f: DatasetEntry): boolean {
  return !(f.source && 'row' in f.source);
}

/**
 * Starts the encode workers for the entries' pixel images (undefined when there are none), so the
 * model loads in them while the caller does other work. The caller hands the result to
 * encodeEntries, or on failure closes the pool it resolves to.
 */
export function startEncoders(
  entries: readonly DatasetEntry[],
  info: ModelInfo,
  opts: Pick<BuildOptions, 'workers' | 'threads' | 'batchSize' | 'maxPixels'>,
  patch: number,
): StartingPool | undefined {
  const pixels = entries.filter(isPixels).length;
  if (pixels === 0) return undefined;
  const batchSize = Math.max(1, opts.batchSize ?? 8);
  // No more workers than batches: each loads the model, which is most of a small update's cost.
  const layout = encoderLayout(opts.workers, opts.threads);
  const workers = Math.min(layout.workers, Math.ceil(pixels / batchSize));
  const startedAt = performance.now();
  const pool = EncoderPool.start({
    manifestPath: info.manifest.manifestPath,
    workers,
    threads: opts.threads ?? (workers < layout.workers ? encoderLayout(workers).threads : layout.threads),
    maxPixels: opts.maxPixels ?? DEFAULT_MAX_PIXELS,
    protoPatch: patch,
    expect: { fingerprint: info.fingerprint, rows: info.rows, cols: info.cols },
  });
  pool.catch(() => {}); // awaited later, by encodeEntries or the clean-up: not an unhandled rejection meanwhile
  return { pool, startedAt };
}

/**
 * Encodes dataset entries: image files and archive members in the encoder
 * workers, AR-RAG code shard rows read as they are; each result (or failure)
 * goes to onImage in completion order.
 */
export async function encodeEntries(
  toEncode: readonly DatasetEntry[],
  ctx: {
    readonly info: ModelInfo;
    readonly catalog: DatasetCatalog;
    readonly opts: Pick<BuildOptions, 'workers' | 'threads' | 'batchSize' | 'maxPixels' | 'signal'>;
    readonly timings: BuildTimings;
    readonly patch: number;
    readonly onImage: (img: WorkerImage) => void;
    /** The pool while it runs (closed by the caller on failure). */
    readonly setPool: (pool: EncoderPool | undefined) => void;
    /** Workers the caller started already for these entries (startEncoders); else they are started here. */
    readonly starting?: StartingPool;
  },
): Promise<void> {
  const { info, catalog, opts, timings, patch } = ctx;
  const addImage = ctx.onImage;
  const checkAbort = () => {
    if (opts.signal?.aborted) throw new BuildCancelledError();
  };
  const batchSize = Math.max(1, opts.batchSize ?? 8);
  const { rows, cols, dim, codebookSize } = info;
  const cells = rows * cols;
  const byRel = new Map(toEncode.map((f) => [f.rel, f]));
  let pool: EncoderPool | undefined;
  const pixels = toEncode.filter(isPixels);
  const codeRows = toEncode.filter((f) => !isPixels(f));
  if (pixels.length > 0) {
    checkAbort();
    const starting = ctx.starting ?? startEncoders(pixels, info, opts, patch)!;
    pool = await starting.pool;
    ctx.setPool(pool);
    const tp = performance.now();
    timings.startMs = tp - starting.startedAt;
    // archive members are read here, a batch at a time in id order, and handed to the workers as bytes
    const prepare = async (batch: readonly EncodeFile[]): Promise<EncodeFile[]> =>
      Promise.all(
        batch.map(async (b) => {
          const f = byRel.get(b.rel)!;
          if (!f.source) return b;
          try {
            return { ...b, bytes: await catalog.entryBytes(f) };
          } catch (err) {
            return { ...b, error: `cannot read the member: ${(err as Error).message}` };
          }
        }),
      );
    await pool
      .encodeAll(
        pixels.map((f) => ({ abs: f.abs, rel: f.rel })),
        batchSize,
        addImage,
        (t) => {
          timings.decodeMs += t.decodeMs;
          timings.encodeMs += t.encodeMs;
        },
        opts.signal,
        pixels.some((f) => f.source) ? prepare : undefined,
      )
      .catch((err) => {
        if (opts.signal?.aborted) throw new BuildCancelledError();
        throw err;
      });
    timings.pipelineMs = performance.now() - tp;
    ctx.setPool(undefined);
    await pool.close();
    pool = undefined;
  }
  // AR-RAG code shards: tokens and latents as the file has them, no encoder
  for (let i = 0; i < codeRows.length;) {
    checkAbort();
    const first = codeRows[i].source as { index: ArchiveIndex; row: number };
    let n = 1;
    while (n < CODE_ROWS_PER_READ && i + n < codeRows.length) {
      const s = codeRows[i + n].source as { index: ArchiveIndex; row: number };
      if (s.index !== first.index || s.row !== first.row + n) break;
      n++;
    }
    let read: { tokens: Int32Array; latents: Float32Array } | undefined;
    let readError = '';
    try {
      read = await catalog.readCodes(first.index, first.row, n);
    } catch (err) {
      readError = `cannot read the code shard: ${(err as Error).message}`;
    }
    for (let j = 0; j < n; j++) {
      const f = codeRows[i + j];
      if (!read) {
        addImage({ rel: f.rel, ok: false, error: readError });
        continue;
      }
      const tokens = read.tokens.slice(j * cells, (j + 1) * cells);
      const latents = read.latents.slice(j * cells * dim, (j + 1) * cells * dim);
      const bad = tokens.findIndex((t) => !(t >= 0 && t < codebookSize));
      if (bad >= 0) {
        addImage({
          rel: f.rel,
          ok: false,
          error: `token ${tokens[bad]} at cell ${bad} is outside the model's codebook (K=${codebookSize}): the shard was written with another model`,
        });
        continue;
      }
      const distances = new Float32Array(cells);
      for (let c = 0; c < cells; c++) {
        let d2 = 0;
        for (let k = 0; k < dim; k++) {
          const diff = latents[c * dim + k] - info.codebook[tokens[c] * dim + k];
          d2 += diff * diff;
        }
        distances[c] = d2;
      }
      const { inputWidth, inputHeight } = { inputWidth: info.manifest.input.width, inputHeight: info.manifest.input.height };
      addImage({
        rel: f.rel,
        ok: true,
        sha256: codeRowHash(tokens, latents),
        width: inputWidth,
        height: inputHeight,
        format: 'codes',
        tokens,
        distances,
        latents,
        pools: new Uint8Array(0),
      });
    }
    i += n;
  }
}
