// `patchlens`: the headless command line over the engine. `--json` prints one
// JSON document on stdout; logs and progress go to stderr.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isProbabilityVector, mergeDistributions, softmax, topK } from '../core/daid';
import { formatBytes, formatCell, formatCount, formatDistance, formatDuration, formatGrid, formatMean, formatPercent, formatPerplexity } from '../core/format';
import { ManifestError } from '../core/modelManifest';
import { parseNpy } from '../core/npy';
import { DatabaseError, PatchDatabase } from '../engine/database';
import { LanceDatabase } from '../engine/lanceDatabase';
import { buildLanceDatabase, type LanceBuildResult } from '../engine/lanceBuilder';
import { isLanceFolder, isObjectStoreUri, lanceUri, shownUri, storageOptions } from '../engine/lanceStore';
import type { PatchStore } from '../engine/patchStore';
import { BuildCancelledError, buildDatabase, type BuildProgress } from '../engine/indexer';
import { PatchRetriever } from '../engine/retrieval';
import { databaseStats, retrievalPredictability, rolloutStatistic } from '../engine/stats';
import { DEFAULT_ROLLOUT_K, RolloutCancelledError, rolloutJson, runRollout } from '../engine/rollout';
import { RolloutError } from '../core/rollout';
import { Tokenizer } from '../engine/tokenizer';
import { decodeForModel, DEFAULT_MAX_PIXELS } from '../engine/imageDecoder';
import { cellRects } from '../core/geometry';
import sharp from 'sharp';
import { bundledModelPath, findDatabase, datasetRootOf, packageRoot } from '../engine/locations';
import { DEFAULT_HNSW } from '../engine/patchIndex';
import { MAX_DEFAULT_WORKERS } from '../engine/encoderPool';
import { MAX_REQUEST_BYTES, SERVED_COMMANDS, requestFromServer, startServer, type CommandContext } from './serve';
import { PathReader, archiveOfPath } from '../engine/datasetCatalog';
import { SourceError } from '../engine/datasetSource';
import { DEFAULT_MAX_MEMBER_BYTES } from '../core/datasetLayout';
import { BORDERS, DATABASE_BACKENDS, DATABASE_FOLDER, KEY_SHAPES, KEY_SOURCES, MANIFEST_FILE, MAX_HOPS, MIN_HOPS } from '../core/vocabulary';
import { DEFAULT_MAX_BUCKET, DEFAULT_PAIR_LIMIT, DEFAULT_WINDOW, DuplicatesCancelledError, pairJson } from '../core/duplicates';
import { databaseDuplicates } from '../engine/duplicates';
import { DEFAULT_FIDELITY_K, DEFAULT_FIDELITY_QUERIES, FidelityCancelledError, fidelitySubject, fidelityText, measureFidelity } from '../engine/fidelity';

const VERSION: string = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')).version;

class UsageError extends Error {}

/**
 * A file name (or any text that may hold one) made safe for a terminal:
 * control characters (ESC sequences, newlines, ...) and bidirectional
 * overrides are shown as escapes instead of being acted on. JSON output needs
 * no such care (JSON.stringify escapes control characters).
 */
export function shown(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (ch) => {
    const c = ch.charCodeAt(0);
    return c < 0x100 ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
  });
}

const USAGE = `patchlens ${VERSION} — AR-RAG patch databases of image datasets

Usage:
  patchlens index <dir> [--db D] [--model M] [--hops N] [--shape ${KEY_SHAPES.join('|')}]
                  [--border ${BORDERS.join('|')}] [--keys ${KEY_SOURCES.join('|')}] [--m ${DEFAULT_HNSW.m}]
                  [--ef-construction ${DEFAULT_HNSW.efConstruction}] [--ef ${DEFAULT_HNSW.ef}] [--rebuild] [--workers N]
                  [--batch 8] [--max-pixels N] [--max-member-bytes N]
                  [--image-column NAME] [--include GLOB]... [--exclude GLOB]...
                  [--wait] [--json] [--quiet]
                  [--backend ${DATABASE_BACKENDS.join('|')}] [--part I/N | --finalize] [--storage-option K=V]...
  patchlens query <image> --at <row>,<col> [--db D] [--model M] [--k 10] [--exact]
                  [--exclude-self] [--query-keys ${KEY_SOURCES.join('|')}] [--temperature 1]
                  [--model-dist P.npy [--logits] [--lambda 0.5]] [--json]
  patchlens tokens <image> [--db D | --model M] [--latents] [--json]
  patchlens rollout <image> --from <row>,<col> [--db D] [--k ${DEFAULT_ROLLOUT_K}] [--temperature 1]
                  [--greedy | --sample --seed S] [--exact] [--include-self]
                  [--out FILE.png] [--json]
  patchlens stats [--db D] [--predictability FRACTION] [--rollout FRACTION]
                  [--seed 0] [--k 64] [--max-queries 2000] [--exact] [--json]
  patchlens duplicates [--db D] [--against D2] [--window ${DEFAULT_WINDOW}] [--min-shared N]
                  [--near EPS] [--limit ${DEFAULT_PAIR_LIMIT}] [--max-bucket ${DEFAULT_MAX_BUCKET}] [--json] [--quiet]
  patchlens fidelity [--db D] [--queries ${DEFAULT_FIDELITY_QUERIES}] [--k ${DEFAULT_FIDELITY_K}] [--json] [--quiet]
  patchlens serve [--db D] [--socket PATH | --port N] [--json]
  query, tokens and stats take --server PATH (a serve socket, or [127.0.0.1:]PORT)
  to be answered by a running server, and --verify to hash every database file
  before answering (by default only when they changed since the last full check).

A dataset folder may hold .tar/.tar.gz/.tgz (WebDataset), .zip and .parquet
archives and AR-RAG .h5 code shards besides images: an image inside one is
<archive>/<member> (Parquet: <file>/<image.path> or <file>/<row>; HDF5:
<file>/<row>), and <dir>/<that id> is accepted wherever an image is.

The database defaults to <dataset>/.patchlens (query/tokens/stats look for it
in the image's folder and its parents, or the current folder). The model
defaults to the bundled tokenizer. Distances are squared L2. Builds start one
encode worker per CPU core (at most ${MAX_DEFAULT_WORKERS}) unless --workers says otherwise.
--db s3://bucket/prefix (gs://, az://) or --backend lance makes a Lance
database (IVF-PQ with re-ranking; a local folder or object storage; several
builders at once with --part I/N, then --finalize). Credentials come from the
AWS_* environment variables or --storage-option key=value, and are never stored.
serve keeps one database open and answers newline-delimited JSON requests
({"argv": ["query", ...], "cwd": "/abs"}) on a Unix socket (default
<database>/serve.sock, owner only) or TCP on 127.0.0.1; Ctrl-C or SIGTERM stops it.`;

/** One command's lines of USAGE ("Usage: patchlens <cmd> ..."), and its notes when it has some. */
function commandUsage(cmd: string): string {
  const lines = USAGE.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`  patchlens ${cmd} `));
  if (start < 0) return USAGE;
  let end = start + 1;
  while (end < lines.length && lines[end].startsWith('    ') && !lines[end].startsWith('  patchlens ')) end++;
  // "  patchlens" becomes "Usage: patchlens": continuation lines move right with it
  const usage = ['Usage:' + lines[start].slice(1), ...lines.slice(start + 1, end).map((l) => '    ' + l)].join('\n');
  const notes = COMMAND_NOTES[cmd];
  return notes ? `${usage}\n\n${notes}` : usage;
}

const COMMAND_NOTES: Record<string, string> = {
  duplicates: `Pairs of images ranked by how much patch content they share. Every w x w
window of tokens (w = --window) is hashed; two images share a cell when a
window covering it occurs in both. --near EPS also matches entries whose keys
lie within squared L2 distance EPS (through the index). --against D2 compares
the images of --db with those of D2 (a test set against a training set) and
never pairs two images of one database. Windows occurring more than
--max-bucket times (uniform backgrounds) are not counted as evidence.
--min-shared N: fewest shared cells a reported pair has (default w*w).
D and D2 are database folders or dataset folders holding a .patchlens database.

JSON: { pairs: [{ a, b, score, sharedCells, cells: [{ a: [row, col], b: [row, col] }], identical }] },
best first; score is the fraction of the smaller image's cells that are shared;
identical is true for byte-identical files (same content hash).`,
  fidelity: `Recall@k of the database's index at its settings against exact search, on a
seeded sample of the database's own keys (each query leaves its own image
out), the curve over the search knob (HNSW: ef; Lance: nprobes x refine
factor), and AR-RAG's FAISS configuration (OPQ + IVF + PQ8, no re-ranking)
trained and measured on the same keys. D is a database (folder or s3:// URI)
or a dataset folder holding one. --json prints
{ backend, entries, k, queries, current: { params, recall, p50Ms },
  sweep: [{ params, recall, p50Ms }], arrag: { params, recall } }.`,
};

const common = {
  db: { type: 'string' },
  'storage-option': { type: 'string', multiple: true },
  model: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options: { ...common, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function intOpt(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

function numOpt(v: string | undefined, name: string, check: (n: number) => boolean, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || !check(n)) throw new UsageError(`--${name} must be ${what}, got ${JSON.stringify(v)}`);
  return n;
}

function choice<T extends string>(v: string | undefined, name: string, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!allowed.includes(v as T)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

function one(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`expected one ${what}, got ${positionals.length}`);
  return positionals[0];
}

class Progress {
  private last = 0;
  private lastLine = '';
  constructor(private readonly enabled: boolean) {}
  private readonly tty = process.stderr.isTTY === true;
  update(p: BuildProgress): void {
    if (!this.enabled) return;
    const now = Date.now();
    const final = p.done === p.total;
    if (this.tty) {
      if (!final && now - this.last < 100) return;
      this.last = now;
      const width = 30;
      const filled = p.total ? Math.round((p.done / p.total) * width) : 0;
      const msg = shown(p.message);
      const name = msg.length > 40 ? '…' + msg.slice(-39) : msg;
      process.stderr.write(`\r\x1b[K${p.phase.padEnd(6)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} ${name}`);
      if (final && p.phase === 'write') process.stderr.write('\n');
    } else {
      // Plain logs: a line per phase and every 10% of encoding.
      const pct = p.total ? Math.floor((p.done / p.total) * 10) : 0;
      const line = p.phase === 'encode' ? `encode ${pct * 10}%` : p.phase;
      if (line !== this.lastLine) {
        this.lastLine = line;
        process.stderr.write(`${p.phase === 'encode' ? `encoded ${p.done}/${p.total}` : shown(p.message)}\n`);
      }
    }
  }
}

function resolveModel(model: string | undefined): string {
  if (model) return path.resolve(model);
  const bundled = bundledModelPath();
  if (!fs.existsSync(bundled)) throw new ManifestError('(model)', `the bundled model is missing at ${bundled}; pass --model <manifest.json>`);
  return bundled;
}

async function cmdIndex(args: string[]): Promise<unknown> {
  const { values: v, positionals } = parse(args, {
    hops: { type: 'string' },
    shape: { type: 'string' },
    border: { type: 'string' },
    keys: { type: 'string' },
    m: { type: 'string' },
    'ef-construction': { type: 'string' },
    ef: { type: 'string' },
    rebuild: { type: 'boolean' },
    workers: { type: 'string' },
    batch: { type: 'string' },
    'max-pixels': { type: 'string' },
    'max-member-bytes': { type: 'string' },
    'image-column': { type: 'string' },
    include: { type: 'string', multiple: true },
    exclude: { type: 'string', multiple: true },
    wait: { type: 'boolean' },
    backend: { type: 'string' },
    part: { type: 'string' },
    finalize: { type: 'boolean' },
  });
  if (v.help) return commandUsage('index');
  const root = path.resolve(one(positionals, 'dataset folder'));
  const backend = choice(v.backend, 'backend', DATABASE_BACKENDS);
  const lance = backend === 'lance' || (v.db !== undefined && (isObjectStoreUri(v.db) || isLanceFolder(path.resolve(v.db))));
  if (backend === 'hnsw' && lance) throw new UsageError(`--backend hnsw needs a local folder; ${v.db} is a Lance database or an object-store URI`);
  const partMatch = v.part === undefined ? undefined : /^(\d+)\/(\d+)$/.exec(v.part);
  if (v.part !== undefined && !partMatch) throw new UsageError(`--part must be I/N (e.g. 2/8), got ${JSON.stringify(v.part)}`);
  if (!lance && (v.part !== undefined || v.finalize)) throw new UsageError('--part and --finalize build a Lance database: add --backend lance or --db s3://…');
  const progress = new Progress(!v.quiet);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    // Options are checked before the model is touched.
    const keys = {
      hops: intOpt(v.hops, 'hops', MIN_HOPS, MAX_HOPS),
      shape: choice(v.shape, 'shape', KEY_SHAPES),
      border: choice(v.border, 'border', BORDERS),
      source: choice(v.keys, 'keys', KEY_SOURCES),
    };
    const hnsw = { m: intOpt(v.m, 'm', 2, 200), efConstruction: intOpt(v['ef-construction'], 'ef-construction', 1, 10000), ef: intOpt(v.ef, 'ef', 1, 10000) };
    const workers = intOpt(v.workers, 'workers', 1, 64);
    const batchSize = intOpt(v.batch, 'batch', 1, 256);
    const maxPixels = intOpt(v['max-pixels'], 'max-pixels', 1, 2 ** 40) ?? DEFAULT_MAX_PIXELS;
    const maxMemberBytes = intOpt(v['max-member-bytes'], 'max-member-bytes', 1, 2 ** 40) ?? DEFAULT_MAX_MEMBER_BYTES;
    if (v['image-column'] !== undefined && v['image-column'].trim() === '') throw new UsageError('--image-column needs a column name');
    // What both backends' builds take from the command line.
    const build = {
      root,
      model: resolveModel(v.model),
      keys,
      workers,
      batchSize,
      maxPixels,
      maxMemberBytes,
      imageColumn: v['image-column'],
      rebuild: v.rebuild,
      include: v.include,
      exclude: v.exclude,
      signal: controller.signal,
      onProgress: (p: Parameters<typeof progress.update>[0]) => progress.update(p),
      log: v.quiet ? undefined : (line: string) => process.stderr.write(`${shown(line)}\n`),
    };
    if (lance) {
      const part = partMatch ? { index: Number(partMatch[1]), count: Number(partMatch[2]) } : undefined;
      if (part && !(part.count >= 1 && part.index >= 1 && part.index <= part.count)) throw new UsageError(`--part must be I/N with 1 <= I <= N, got ${v.part}`);
      const dbDir = path.join(root, DATABASE_FOLDER);
      const uri = lanceUri(v.db ?? dbDir);
      if (!isObjectStoreUri(uri) && fs.existsSync(path.join(uri, MANIFEST_FILE)))
        throw new UsageError(`${uri} holds an HNSW database; choose another --db for the Lance one`);
      const lres = await buildLanceDatabase({ ...build, uri, storage: storageOptions(uri, v['storage-option'] ?? []), part, finalize: v.finalize });
      return v.json ? lres : lanceSummary(lres);
    }
    const res = await buildDatabase({ ...build, dbDir: v.db ? path.resolve(v.db) : undefined, hnsw, wait: v.wait });
    if (v.json) return res;
    const lines = [
      res.upToDate
        ? `${shown(res.db)}: up to date (${formatCount(res.images)} images, ${formatCount(res.entries)} entries)`
        : `${shown(res.db)}: ${formatCount(res.images)} images, ${formatCount(res.entries)} entries (${formatCount(res.added)} added, ${formatCount(res.updated)} updated, ${formatCount(res.removed)} removed, ${formatCount(res.unchanged)} unchanged) in ${formatDuration(res.elapsedMs)}`,
      ...res.skipped.map((s) => `  skipped ${shown(s.path)}: ${shown(s.error)}`),
    ];
    return lines.join('\n');
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** A Lance database's search settings, in words. */
function lanceIndexText(l: { partitions: number; subVectors: number; nprobes: number; refineFactor: number }): string {
  return l.partitions
    ? `Lance IVF-PQ partitions=${l.partitions} sub-vectors=${l.subVectors} nprobes=${l.nprobes} refine=${l.refineFactor}`
    : 'Lance, flat (exact) search: no vector index yet';
}

/** The text a Lance build prints. */
function lanceSummary(res: LanceBuildResult): string {
  const what = res.part ? `part ${res.part.index}/${res.part.count}: ` : '';
  const idx = res.indexed
    ? `; IVF-PQ index: ${formatCount(res.indexed.partitions)} partitions, nprobes ${res.indexed.nprobes}, refine ${res.indexed.refineFactor}`
    : '';
  return [
    `${shown(shownUri(res.db))}: ${what}${formatCount(res.images)} images, ${formatCount(res.entries)} entries (${formatCount(res.added)} added, ${formatCount(res.updated)} updated, ${formatCount(res.removed)} removed, ${formatCount(res.unchanged)} unchanged) in ${formatDuration(res.elapsedMs)}${idx}`,
    ...(res.reappended ? [`  ${formatCount(res.reappended)} commits dropped by the store were appended again`] : []),
    ...res.skipped.map((s) => `  skipped ${shown(s.path)}: ${shown(s.error)}`),
  ].join('\n');
}

function findDb(dbOpt: string | undefined, near: string, cwd: string): string {
  if (dbOpt && isObjectStoreUri(dbOpt)) return lanceUri(dbOpt);
  const dir = dbOpt ? path.resolve(cwd, dbOpt) : findDatabase(near);
  if (!dir) throw new DatabaseError(`no patch database found in ${near} or its parents`, 'Build one with patchlens index <dir>, or pass --db');
  return dir;
}

/** Opens a database for one command; `verify`: hash every file first (--verify), not only when its record of a full check does not match. */
function openDbOnce(dir: string, verify: boolean): { db: PatchDatabase; root: string } {
  if (isLanceFolder(dir)) throw new UsageError(`${dir} is a Lance database: serve answers from HNSW databases; run the commands without --server`);
  const db = PatchDatabase.open(dir, verify ? { verify: true } : {});
  if (!db) throw new DatabaseError(`no patch database in ${dir}`, 'Build one with patchlens index <dir>');
  return { db, root: datasetRootOf(dir, db.manifest) };
}

/** Opens either backend: a Lance database at an object-store URI or a folder holding its tables, else an HNSW one. */
async function openStore(dir: string, verify: boolean, storage: readonly string[]): Promise<{ db: PatchStore; root: string }> {
  if (!isObjectStoreUri(dir) && !isLanceFolder(dir)) return openDbOnce(dir, verify);
  const db = await LanceDatabase.connect(dir, { storage: storageOptions(dir, storage) });
  if (!db) throw new DatabaseError(`no patch database at ${shownUri(dir)}`, 'Build one with patchlens index <dir> --db <uri>');
  return { db, root: datasetRootOf(dir, db.manifest) };
}

const oneShot: CommandContext = {
  cwd: process.cwd(),
  openDb: async (dbOpt, near, verify, storage = []) => openStore(findDb(dbOpt, near, process.cwd()), verify, storage),
  tokenizer: (manifestPath) => Tokenizer.load(manifestPath),
  keepsModels: false,
};

function tokenizerLoader(ctx: CommandContext, model: string | undefined, db: PatchStore): () => Promise<Tokenizer> {
  let t: Promise<Tokenizer> | undefined;
  return () => (t ??= ctx.tokenizer(model ? path.resolve(ctx.cwd, model) : db.model.manifestPath));
}

export async function cmdQuery(args: string[], ctx: CommandContext = oneShot): Promise<unknown> {
  const { values: v, positionals } = parse(args, {
    verify: { type: 'boolean' },
    at: { type: 'string' },
    k: { type: 'string' },
    exact: { type: 'boolean' },
    'exclude-self': { type: 'boolean' },
    'query-keys': { type: 'string' },
    temperature: { type: 'string' },
    ef: { type: 'string' },
    'model-dist': { type: 'string' },
    logits: { type: 'boolean' },
    lambda: { type: 'string' },
  });
  if (v.help) return commandUsage('query');
  const image = path.resolve(ctx.cwd, one(positionals, 'image'));
  const at = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(v.at ?? '');
  if (!at) throw new UsageError('--at <row>,<col> is required (e.g. --at 5,7)');
  const ef = intOpt(v.ef, 'ef', 1, 10000);
  const options = {
    k: intOpt(v.k, 'k', 1, 10000),
    exact: v.exact,
    excludeSelf: v['exclude-self'],
    queryKeys: choice(v['query-keys'], 'query-keys', KEY_SOURCES),
    temperature: numOpt(v.temperature, 'temperature', (n) => n > 0, 'a positive number'),
  };
  const { db, root } = await ctx.openDb(v.db, path.dirname(image), v.verify === true, v['storage-option']);
  const retriever = new PatchRetriever(db, root, tokenizerLoader(ctx, v.model, db));
  const grid = await retriever.tokenGrid(image);
  // --ef holds for this query only (a server answers others from the same index)
  if (ef !== undefined && !db.index.setEf) throw new UsageError('--ef is the HNSW search width; a Lance database has none');
  const efBefore = db.index.getEf?.();
  if (ef !== undefined) db.index.setEf?.(ef);
  let res: Awaited<ReturnType<PatchRetriever['query']>>;
  try {
    res = await retriever.query(grid, Number(at[1]), Number(at[2]), options);
  } finally {
    if (efBefore !== undefined) db.index.setEf?.(efBefore);
  }
  let merged: { token: number; p: number }[] | undefined;
  let lambda: number | undefined;
  if (v['model-dist']) {
    lambda = numOpt(v.lambda, 'lambda', (n) => n >= 0 && n <= 1, 'in [0, 1]') ?? 0.5;
    const arr = parseNpy(fs.readFileSync(path.resolve(ctx.cwd, v['model-dist'])));
    if (arr.data.length !== db.model.codebookSize)
      throw new UsageError(`--model-dist has ${arr.data.length} values; the codebook has ${db.model.codebookSize} codes`);
    const pModel = v.logits ? softmax(arr.data) : arr.data;
    if (!v.logits && !isProbabilityVector(pModel)) throw new UsageError('--model-dist is not a probability vector (pass --logits for logits)');
    const p = mergeDistributions(pModel, res.distribution, lambda);
    merged = topK(p, 20).map((token) => ({ token, p: p[token] }));
  }
  const { query, distribution } = res;
  // captions of the sources (WebDataset .txt, Parquet text columns, MJHQ-30K's meta_data.json)
  const results = await retriever.withCaptions(res.results);
  if (v.json) return { query: (await retriever.withCaptions([query]))[0], results, distribution, ...(merged ? { merged, lambda } : {}) };
  const lines = [
    `${shown(query.image)} ${formatCell(query.row, query.col)}: token ${query.token}${query.inDatabase ? '' : ' (not in the database; tokenized now)'}`,
    `  ${formatCount(results.length)} nearest (${res.exact ? 'exact' : db.backend === 'lance' ? 'Lance' : 'HNSW'}, ${formatDuration(res.searchMs)}):`,
    ...results.map(
      (r, i) =>
        `  ${String(i + 1).padStart(3)}. ${shown(r.image)} ${formatCell(r.row, r.col)}  token ${r.token}  d=${formatDistance(r.distance)}${r.caption !== undefined ? `  "${shown(r.caption.length > 60 ? r.caption.slice(0, 59) + '…' : r.caption)}"` : ''}`,
    ),
    '  DAiD distribution:',
    ...distribution
      .slice(0, 10)
      .map(
        (d) =>
          `    token ${String(d.token).padStart(6)}  p=${formatPercent(d.p).padStart(6)}  d=${formatDistance(d.distance)}${d.token === query.token ? '  <- true token' : ''}`,
      ),
    ...(merged
      ? [
          `  merged with the model distribution (lambda ${lambda}):`,
          ...merged.slice(0, 10).map((d) => `    token ${String(d.token).padStart(6)}  p=${formatPercent(d.p).padStart(6)}`),
        ]
      : []),
  ];
  return lines.join('\n');
}

/** Aborts on Ctrl-C / SIGTERM while `run` runs. */
async function interruptible<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await run(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function cmdRollout(args: string[]): Promise<unknown> {
  const { values: v, positionals } = parse(args, {
    from: { type: 'string' },
    k: { type: 'string' },
    temperature: { type: 'string' },
    greedy: { type: 'boolean' },
    sample: { type: 'boolean' },
    seed: { type: 'string' },
    exact: { type: 'boolean' },
    'include-self': { type: 'boolean' },
    ef: { type: 'string' },
    out: { type: 'string' },
  });
  if (v.help) return commandUsage('rollout');
  const image = path.resolve(one(positionals, 'image'));
  const from = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(v.from ?? '');
  if (!from) throw new UsageError('--from <row>,<col> is required (e.g. --from 12,0)');
  if (v.greedy && v.sample) throw new UsageError('--greedy and --sample exclude each other');
  if (v.seed !== undefined && !v.sample) throw new UsageError('--seed needs --sample (a greedy rollout has no randomness)');
  const k = intOpt(v.k, 'k', 1, 10000);
  const temperature = numOpt(v.temperature, 'temperature', (n) => n > 0, 'a positive number');
  const seed = intOpt(v.seed, 'seed', 0, 2 ** 32 - 1);
  const ef = intOpt(v.ef, 'ef', 1, 10000);
  const out = v.out ? path.resolve(v.out) : undefined;
  const { db, root } = await oneShot.openDb(v.db, path.dirname(image), false, v['storage-option']);
  if (ef !== undefined && !db.index.setEf) throw new UsageError('--ef is the HNSW search width; a Lance database has none');
  if (ef !== undefined) db.index.setEf?.(ef);
  const loadTokenizer = tokenizerLoader(oneShot, v.model, db);
  const retriever = new PatchRetriever(db, root, loadTokenizer);
  // Refused before any image is read or tokenized.
  if (db.keys.shape !== 'causal')
    throw new RolloutError(
      `this database has ${db.keys.shape} keys, and ring keys need tokens not generated yet: a rollout needs a database built with --shape causal`,
    );
  if (out) {
    const tok = await loadTokenizer();
    if (!tok.hasDecoder) throw new UsageError(`--out needs a model with a decoder; ${tok.info.manifest.name} has none (pass one with --model)`);
  }
  const grid = await retriever.tokenGrid(image);
  const run = await interruptible((signal) =>
    runRollout(
      retriever,
      grid,
      {
        from: { row: Number(from[1]), col: Number(from[2]) },
        k,
        temperature,
        mode: v.sample ? 'sample' : 'greedy',
        seed,
        exact: v.exact,
        includeSelf: v['include-self'],
      },
      { signal },
    ),
  );
  if (out) {
    const tok = await loadTokenizer();
    const rgb = await tok.reconstruct(run.tokens);
    const { width, height } = tok.info.manifest.input;
    await sharp(rgb, { raw: { width, height, channels: 3 } })
      .png()
      .toFile(out);
  }
  const j = rolloutJson(run);
  if (v.json) return j;
  const start = run.from.row * run.cols + run.from.col;
  const w = Math.max(...j.tokens.flat().map((t) => String(t).length));
  // prompt cells plain, generated ones with '*' when they differ from the original, keyless ones in brackets
  const mark = (r: number, c: number) => {
    const cell = r * run.cols + c;
    const t = String(run.tokens[cell]).padStart(w);
    if (cell < start) return ` ${t} `;
    if (!run.sources[cell]) return `[${t}]`;
    return run.tokens[cell] === run.original[cell] ? ` ${t} ` : ` ${t}*`;
  };
  const s = run.summary;
  return [
    `${shown(run.image)}: ${run.mode} rollout from ${formatCell(run.from.row, run.from.col)} (${formatGrid(run.rows, run.cols)}, k=${run.k}, ${run.exact ? 'exact' : db.backend === 'lance' ? 'Lance' : 'HNSW'}, ${formatDuration(run.elapsedMs)})`,
    `  ${formatCount(s.generated)} cells generated; agreement with the original ${formatPercent(s.agreement)}`,
    `  top source ${s.topSource.image === null ? '-' : shown(s.topSource.image)} (${formatPercent(s.topSource.share)} of the generated cells); longest copied run ${formatCount(s.longestCopiedRun.cells)} cells${s.longestCopiedRun.image === null ? '' : ` from ${shown(s.longestCopiedRun.image)}`}`,
    ...s.sourceCounts.slice(1, 5).map((c) => `    also ${shown(c.image)}: ${formatCount(c.cells)} cells`),
    ...(out ? [`  decoded image written to ${shown(out)}`] : []),
    '  tokens (* differs from the original, [ ] kept: no key or nothing retrieved):',
    ...Array.from({ length: run.rows }, (_, r) => '  ' + Array.from({ length: run.cols }, (_, c) => mark(r, c)).join('')),
  ].join('\n');
}

export async function cmdTokens(args: string[], ctx: CommandContext = oneShot): Promise<unknown> {
  const { values: v, positionals } = parse(args, { latents: { type: 'boolean' }, verify: { type: 'boolean' } });
  if (v.help) return commandUsage('tokens');
  const image = path.resolve(ctx.cwd, one(positionals, 'image'));
  let out: { image: string; rows: number; cols: number; tokens: number[][]; latents?: number[][][]; cells: unknown[]; width: number; height: number };
  const toRows = <T>(rows: number, cols: number, per: number, f: (o: number) => T): T[][] =>
    Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => f((r * cols + c) * per)));
  // With --model, or with no database near the image, the tokenizer alone (default: the bundled one).
  const dbDir = v.db ? path.resolve(ctx.cwd, v.db) : v.model ? undefined : findDatabase(path.dirname(image));
  if (!dbDir) {
    const tok = await ctx.tokenizer(resolveModel(v.model === undefined ? undefined : path.resolve(ctx.cwd, v.model)));
    const decoded = await decodeForModel(await readImageOrMember(image), tok.info.manifest.input);
    const [enc] = await tok.encode([decoded.rgb]);
    const { rows, cols, dim } = tok.info;
    out = {
      // no dataset root without a database: a member is named from its archive on (<archive>/<member>)
      image: archiveOfPath(image)?.id ?? path.basename(image),
      width: decoded.width,
      height: decoded.height,
      rows,
      cols,
      tokens: toRows(rows, cols, 1, (o) => enc.tokens[o]),
      ...(v.latents ? { latents: toRows(rows, cols, dim, (o) => Array.from(enc.latents.subarray(o, o + dim))) } : {}),
      cells: cellRects(decoded.plan, rows, cols),
    };
    if (!ctx.keepsModels) await tok.release();
  } else {
    const { db, root } = await ctx.openDb(dbDir, path.dirname(image), v.verify === true, v['storage-option']);
    const retriever = new PatchRetriever(db, root, tokenizerLoader(ctx, v.model, db));
    const g = await retriever.tokenGrid(image);
    const dim = db.model.dim;
    out = {
      image: g.image,
      width: g.width,
      height: g.height,
      rows: g.rows,
      cols: g.cols,
      tokens: toRows(g.rows, g.cols, 1, (o) => g.tokens[o]),
      ...(v.latents ? { latents: toRows(g.rows, g.cols, dim, (o) => Array.from(g.latents.subarray(o, o + dim))) } : {}),
      cells: g.cells,
    };
  }
  if (v.json) return out;
  const w = Math.max(...out.tokens.flat().map((t) => String(t).length));
  return [
    `${shown(out.image)}: ${out.rows}x${out.cols} tokens (${out.width}x${out.height} px)`,
    ...out.tokens.map((r) => r.map((t) => String(t).padStart(w)).join(' ')),
  ].join('\n');
}

/** A file's bytes, or those of an archive member named <archive path>/<member>. */
async function readImageOrMember(image: string): Promise<Uint8Array> {
  const reader = new PathReader();
  try {
    return await reader.read(image);
  } finally {
    await reader.close();
  }
}

export async function cmdStats(args: string[], ctx: CommandContext = oneShot): Promise<unknown> {
  const { values: v } = parse(args, {
    verify: { type: 'boolean' },
    predictability: { type: 'string' },
    seed: { type: 'string' },
    k: { type: 'string' },
    'max-queries': { type: 'string' },
    exact: { type: 'boolean' },
    rollout: { type: 'string' },
  });
  if (v.help) return commandUsage('stats');
  const rolloutFraction = numOpt(v.rollout, 'rollout', (n) => n > 0 && n <= 1, 'a fraction in (0, 1]');
  const { db } = await ctx.openDb(v.db, ctx.cwd, v.verify === true, v['storage-option']);
  const stats = databaseStats(db);
  const fraction = numOpt(v.predictability, 'predictability', (n) => n > 0 && n <= 1, 'a fraction in (0, 1]');
  const pred =
    fraction === undefined
      ? undefined
      : await retrievalPredictability(db, {
          fraction,
          seed: intOpt(v.seed, 'seed', 0, 2 ** 31),
          k: intOpt(v.k, 'k', 1, 10000),
          maxQueries: intOpt(v['max-queries'], 'max-queries', 1, 10_000_000),
          exact: v.exact,
        });
  const rollout =
    rolloutFraction === undefined
      ? undefined
      : await interruptible((signal) =>
          rolloutStatistic(db, { fraction: rolloutFraction, seed: intOpt(v.seed, 'seed', 0, 2 ** 31), k: intOpt(v.k, 'k', 1, 10000), exact: v.exact, signal }),
        );
  if (v.json) return { ...stats, ...(pred ? { predictability: pred } : {}), ...(rollout ? { rollout } : {}) };
  const c = stats.codebook;
  const lines = [
    `${shown(stats.db)} (generation ${stats.generation}, ${stats.updatedAt})`,
    `  model ${stats.model.name} [${stats.model.fingerprint}]: ${formatGrid(stats.model.rows, stats.model.cols)} grid, d=${stats.model.dim}, K=${formatCount(stats.model.codebookSize)}`,
    `  keys ${stats.keys.shape} h=${stats.keys.hops} border=${stats.keys.border} from ${stats.keys.source} (dim ${stats.keys.dim}); ${stats.index.lance ? lanceIndexText(stats.index.lance) : `HNSW M=${stats.index.m} efConstruction=${stats.index.efConstruction} ef=${stats.index.ef}`}`,
    `  ${formatCount(stats.images)} images (${formatCount(stats.failed)} failed), ${formatCount(stats.entries)} entries, ${formatBytes(stats.diskBytes)} on disk`,
    `  codebook: ${formatCount(c.usedCodes)} of ${formatCount(c.codebookSize)} codes used (${formatPercent(c.usageFraction)}), perplexity ${formatPerplexity(c.perplexity)}, ${formatCount(c.deadCodes)} dead, ${formatMean(c.meanDistinctTokensPerImage)} distinct tokens per image`,
    `  most used: ${c.topCodes
      .slice(0, 10)
      .map((t) => `${t.token} (${formatCount(t.count)})`)
      .join(', ')}`,
    ...(rollout
      ? [
          `  rollout from row ${rollout.fromRow} (${formatCount(rollout.images)} sampled images, greedy, k=${rollout.k}, seed ${rollout.seed}): mean agreement ${formatPercent(rollout.meanAgreement)}, mean top-source share ${formatPercent(rollout.meanTopSourceShare)}, mean longest copied run ${formatMean(rollout.meanLongestCopiedRun)} cells`,
          ...rollout.mostCopying
            .slice(0, 5)
            .map(
              (c) =>
                `    ${shown(c.image)}: ${formatCount(c.longestCopiedRun.cells)} cells in a row from ${c.longestCopiedRun.image === null ? '-' : shown(c.longestCopiedRun.image)}, ${formatPercent(c.topSource.share)} from ${c.topSource.image === null ? '-' : shown(c.topSource.image)}`,
            ),
        ]
      : []),
    ...(pred
      ? [
          `  retrieval predictability (${formatCount(pred.heldOutImages)} held-out images, ${formatCount(pred.queries)} queries, k=${pred.k}, seed ${pred.seed}): top-1 ${formatPercent(pred.top1)} (baselines: most frequent token ${pred.mostFrequentToken} ${formatPercent(pred.mostFrequent)}, chance 1/${formatCount(Math.round(1 / pred.chance))} ${formatPercent(pred.chance)}), top-5 ${formatPercent(pred.top5)}, true token retrieved at all (coverage) ${formatPercent(pred.coverage)}`,
        ]
      : []),
  ];
  return lines.join('\n');
}

async function cmdServe(args: string[]): Promise<string | undefined> {
  const { values: v } = parse(args, { socket: { type: 'string' }, port: { type: 'string' } });
  if (v.help) return commandUsage('serve');
  if (v.socket !== undefined && v.port !== undefined) throw new UsageError('give --socket or --port, not both');
  const port = intOpt(v.port, 'port', 0, 65535);
  const dbDir = findDb(v.db, process.cwd(), process.cwd());
  const listen = port !== undefined ? { port } : { socket: path.resolve(v.socket ?? path.join(dbDir, 'serve.sock')) };
  const server = await startServer({
    dbDir,
    listen,
    commands: { query: cmdQuery, tokens: cmdTokens, stats: cmdStats },
    describeError,
    open: openDbOnce,
    log: (line) => process.stderr.write(`${shown(line)}\n`),
  });
  const db = server.db;
  const ready = {
    serving: dbDir,
    address: server.address,
    ...('socket' in listen ? { socket: server.address } : { port: Number(server.address.split(':').pop()) }),
    entries: db.entryCount,
    checked: db.checked,
    maxRequestBytes: MAX_REQUEST_BYTES,
  };
  process.stdout.write(
    (v.json ? JSON.stringify(ready) : `patchlens: serving ${shown(dbDir)} (${db.entryCount} entries) on ${shown(server.address)}; Ctrl-C stops`) + '\n',
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void server.close().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return undefined;
}

/** query, tokens and stats with --server: the same command answered by a running server. */
async function viaServer(argv: string[]): Promise<unknown> {
  const rest: string[] = [];
  let server: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--server') {
      server = argv[++i];
      if (server === undefined) throw new UsageError("option '--server <value>' argument missing");
    } else if (a.startsWith('--server=')) server = a.slice('--server='.length);
    else rest.push(a);
  }
  const reply = await requestFromServer(server!, rest);
  if (reply.error) throw new ServerReplyError(reply.error.message, reply.error.exitCode);
  return reply.result;
}

/** An error a server answered with: printed as the CLI prints its own, with the same exit code. */
class ServerReplyError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The one line (without "patchlens: ") and the exit code the CLI gives for an error. */
function describeError(err: unknown): { message: string; exitCode: number } {
  if (err instanceof ServerReplyError) return { message: err.message, exitCode: err.exitCode };
  const usage = err instanceof UsageError;
  const msg = err instanceof Error ? err.message : String(err);
  const cancelled =
    err instanceof BuildCancelledError ||
    err instanceof RolloutCancelledError ||
    err instanceof DuplicatesCancelledError ||
    err instanceof FidelityCancelledError;
  return { message: `${usage ? 'usage: ' : ''}${shown(msg.split('\n')[0])}`, exitCode: usage ? 2 : cancelled ? 130 : 1 };
}

/** A database folder, or a dataset folder holding one in .patchlens. */
function openDbOrDataset(p: string, flag: string): PatchDatabase {
  const dir = path.resolve(p);
  for (const c of [dir, path.join(dir, DATABASE_FOLDER)]) {
    if (!fs.existsSync(path.join(c, MANIFEST_FILE))) continue;
    const db = PatchDatabase.open(c);
    if (db) return db;
  }
  throw new DatabaseError(`${flag} ${dir} is neither a patch database nor a dataset folder with one`, 'Build one with patchlens index <dir>');
}

async function cmdDuplicates(args: string[]): Promise<unknown> {
  const { values: v, positionals } = parse(args, {
    against: { type: 'string' },
    window: { type: 'string' },
    'min-shared': { type: 'string' },
    near: { type: 'string' },
    limit: { type: 'string' },
    'max-bucket': { type: 'string' },
  });
  if (v.help) return commandUsage('duplicates');
  if (positionals.length) throw new UsageError(`duplicates takes no positional arguments, got ${JSON.stringify(positionals[0])} (use --db and --against)`);
  const window = intOpt(v.window, 'window', 1, 64) ?? DEFAULT_WINDOW;
  const minShared = intOpt(v['min-shared'], 'min-shared', 1, 1 << 24);
  const near = numOpt(v.near, 'near', (n) => n >= 0, 'a non-negative squared distance');
  const limit = intOpt(v.limit, 'limit', 1, 10_000_000) ?? DEFAULT_PAIR_LIMIT;
  const maxBucket = intOpt(v['max-bucket'], 'max-bucket', 2, 65534);
  const db = v.db ? openDbOrDataset(v.db, '--db') : (await oneShot.openDb(undefined, process.cwd(), false)).db;
  const against = v.against ? openDbOrDataset(v.against, '--against') : undefined;
  if (against && path.resolve(against.dir) === path.resolve(db.dir)) throw new UsageError('--against names the same database as --db');
  const controller = new AbortController();
  const onSignal = () => controller.abort(new DuplicatesCancelledError());
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let res;
  try {
    res = await databaseDuplicates(db, against, { window, minShared, near, limit, maxBucket, signal: controller.signal });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const s = res.stats;
  if (!v.quiet) {
    process.stderr.write(
      `${formatCount(s.images)} images, ${formatCount(s.windows)} windows (${formatCount(s.distinctWindows)} distinct, ${formatCount(s.sharedWindows)} shared, ${formatCount(s.commonWindows)} too common to count), ${formatCount(s.candidatePairs)} candidate pairs, ${formatCount(res.totalPairs)} with at least ${formatCount(minShared ?? window * window)} shared cells\n`,
    );
  }
  if (v.json) return { pairs: res.pairs.map((p) => pairJson(p, db.model.cols)) };
  if (!res.pairs.length) return 'no shared content found';
  const cells = db.model.rows * db.model.cols;
  return res.pairs
    .map(
      (p) =>
        `${formatPercent(p.score).padStart(6)}  ${String(p.sharedCells).padStart(String(cells).length)}/${cells} cells  ${shown(p.a)}  ${against ? '<- leaks ->' : '<->'}  ${shown(p.b)}${p.identical ? '  (identical files)' : ''}`,
    )
    .join('\n');
}

/** Recall of the database's index against exact search on its own keys, the ef curve, and AR-RAG's OPQ+IVF+PQ8 on the same keys. */
async function cmdFidelity(args: string[]): Promise<unknown> {
  const { values: v, positionals } = parse(args, { queries: { type: 'string' }, k: { type: 'string' } });
  if (v.help) return commandUsage('fidelity');
  if (positionals.length) throw new UsageError(`fidelity takes no positional arguments, got ${JSON.stringify(positionals[0])} (use --db)`);
  const queries = intOpt(v.queries, 'queries', 1, 1_000_000);
  const k = intOpt(v.k, 'k', 1, 10000);
  // --db: a database (folder or URI), or a dataset folder holding one
  const inDataset = v.db && !isObjectStoreUri(v.db) ? path.join(path.resolve(v.db), DATABASE_FOLDER) : undefined;
  const dbOpt =
    inDataset && !fs.existsSync(path.join(path.resolve(v.db!), MANIFEST_FILE)) && !isLanceFolder(path.resolve(v.db!)) && fs.existsSync(inDataset)
      ? inDataset
      : v.db;
  const { db } = await oneShot.openDb(dbOpt, process.cwd(), false, v['storage-option']);
  const tty = process.stderr.isTTY === true && !v.quiet;
  let last = '';
  let report;
  try {
    report = await interruptible((signal) =>
      measureFidelity(fidelitySubject(db), {
        queries,
        k,
        signal,
        onProgress: (phase, done, total) => {
          if (v.quiet) return;
          const line = `${phase} ${done}/${total}`;
          if (tty) process.stderr.write(`\r\x1b[K${line}${done === total && phase === 'arrag' ? '\n' : ''}`);
          else if (done === total && phase !== last) process.stderr.write(`${line}\n`);
          last = done === total ? phase : last;
        },
      }),
    );
  } finally {
    db.close?.();
  }
  return v.json ? report : fidelityText(report, shownUri(db.dir));
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const json = rest.includes('--json');
  try {
    let out: unknown;
    const served = rest.some((a) => a === '--server' || a.startsWith('--server='));
    if (served && !(SERVED_COMMANDS as readonly (string | undefined)[]).includes(cmd))
      throw new UsageError(`--server works with ${SERVED_COMMANDS.join(', ')}`);
    switch (served ? 'client' : cmd) {
      case 'client':
        out = await viaServer(argv);
        break;
      case 'serve':
        out = await cmdServe(rest);
        if (out === undefined) return 0;
        break;
      case 'index':
        out = await cmdIndex(rest);
        break;
      case 'query':
        out = await cmdQuery(rest);
        break;
      case 'tokens':
        out = await cmdTokens(rest);
        break;
      case 'rollout':
        out = await cmdRollout(rest);
        break;
      case 'stats':
        out = await cmdStats(rest);
        break;
      case 'duplicates':
        out = await cmdDuplicates(rest);
        break;
      case 'fidelity':
        out = await cmdFidelity(rest);
        break;
      case '--version':
      case 'version':
        out = VERSION;
        break;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        // `patchlens help <command>`: that command's usage, as `<command> --help` prints it
        process.stdout.write((cmd === 'help' && rest[0] ? commandUsage(rest[0]) : USAGE) + '\n');
        return cmd === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
    }
    process.stdout.write(typeof out === 'string' ? out + '\n' : JSON.stringify(out) + '\n');
    return 0;
  } catch (err) {
    const { message, exitCode } = describeError(err);
    const usage = exitCode === 2;
    const known =
      usage ||
      err instanceof SourceError ||
      err instanceof ManifestError ||
      err instanceof DatabaseError ||
      err instanceof BuildCancelledError ||
      err instanceof RangeError ||
      err instanceof RolloutError ||
      err instanceof RolloutCancelledError ||
      err instanceof DuplicatesCancelledError ||
      err instanceof FidelityCancelledError ||
      err instanceof ServerReplyError;
    process.stderr.write(`patchlens: ${message}\n`);
    if (usage && !json) process.stderr.write(`Run 'patchlens help' for usage.\n`);
    if (!known && process.env.PATCHLENS_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    return exitCode;
  }
}

if (require.main === module) {
  // run directly (node dist/cli.js); bin/patchlens.js calls main() itself
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`patchlens: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
