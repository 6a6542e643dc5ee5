// `patchlens`: the headless command line over the engine. `--json` prints one
// JSON document on stdout; logs and progress go to stderr.

import * as fs from 'node:fs';
import * as path from 'node:path';
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
import { RolloutCancelledError, rolloutJson, runRollout } from '../engine/rollout';
import { RolloutError } from '../core/rollout';
import { Tokenizer } from '../engine/tokenizer';
import { decodeForModel } from '../engine/imageDecoder';
import { cellRects } from '../core/geometry';
import sharp from 'sharp';
import { bundledModelPath, findDatabase, datasetRootOf, packageRoot } from '../engine/locations';
import { MAX_REQUEST_BYTES, SERVED_COMMANDS, requestFromServer, startServer, type CommandContext } from './serve';
import { DUPLICATES, FIDELITY, INDEX, QUERY, ROLLOUT, SERVE, STATS, TOKENS, commandUsage, usage } from './commands';
import { UsageError, parseOptions, type Command, type OptionTable, type OptionValues } from './options';
import { PathReader, archiveOfPath } from '../engine/datasetCatalog';
import { SourceError } from '../engine/datasetSource';
import { DATABASE_FOLDER, MANIFEST_FILE } from '../core/vocabulary';
import { DuplicatesCancelledError, pairJson } from '../core/duplicates';
import { databaseDuplicates } from '../engine/duplicates';
import { FidelityCancelledError, fidelitySubject, fidelityText, measureFidelity } from '../engine/fidelity';

const VERSION: string = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')).version;

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

const USAGE = usage(VERSION);

/** The command's options parsed by its table; undefined when --help was given (the caller prints its usage). */
function parse<O extends OptionTable>(command: Command<O>, args: string[]): { v: OptionValues<O>; positional: string } | undefined {
  const parsed = parseOptions(command, args);
  return parsed.help ? undefined : { v: parsed.values, positional: parsed.positional };
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
  const parsed = parse(INDEX, args);
  if (!parsed) return commandUsage('index', VERSION);
  const { v } = parsed;
  const root = path.resolve(parsed.positional);
  const backend = v.backend;
  const lance = backend === 'lance' || (v.db !== undefined && (isObjectStoreUri(v.db) || isLanceFolder(path.resolve(v.db))));
  if (backend === 'hnsw' && lance) throw new UsageError(`--backend hnsw needs a local folder; ${v.db} is a Lance database or an object-store URI`);
  if (!lance && (v.part !== undefined || v.finalize)) throw new UsageError('--part and --finalize build a Lance database: add --backend lance or --db s3://…');
  const progress = new Progress(!v.quiet);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    // Options are checked (by the table) before the model is touched.
    const keys = { hops: v.hops, shape: v.shape, border: v.border, source: v.keys };
    const hnsw = { m: v.m, efConstruction: v['ef-construction'], ef: v.ef };
    // What both backends' builds take from the command line.
    const build = {
      root,
      model: resolveModel(v.model),
      keys,
      workers: v.workers,
      batchSize: v.batch,
      maxPixels: v['max-pixels'],
      maxMemberBytes: v['max-member-bytes'],
      imageColumn: v['image-column'],
      rebuild: v.rebuild,
      include: v.include,
      exclude: v.exclude,
      signal: controller.signal,
      onProgress: (p: Parameters<typeof progress.update>[0]) => progress.update(p),
      log: v.quiet ? undefined : (line: string) => process.stderr.write(`${shown(line)}\n`),
    };
    if (lance) {
      const part = v.part;
      if (part && !(part.count >= 1 && part.index >= 1 && part.index <= part.count))
        throw new UsageError(`--part must be I/N with 1 <= I <= N, got ${part.index}/${part.count}`);
      const dbDir = path.join(root, DATABASE_FOLDER);
      const uri = lanceUri(v.db ?? dbDir);
      if (!isObjectStoreUri(uri) && fs.existsSync(path.join(uri, MANIFEST_FILE)))
        throw new UsageError(`${uri} holds an HNSW database; choose another --db for the Lance one`);
      const lres = await buildLanceDatabase({ ...build, uri, storage: storageOptions(uri, v['storage-option'] ?? []), part, finalize: v.finalize });
      return v.json ? lres : lanceSummary(lres);
    }
    const res = await buildDatabase({ ...build, dbDir: v.db ? path.resolve(v.db) : undefined, hnsw, wait: v.wait, verify: v.verify });
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
  const parsed = parse(QUERY, args);
  if (!parsed) return commandUsage('query', VERSION);
  const { v } = parsed;
  const image = path.resolve(ctx.cwd, parsed.positional);
  const ef = v.ef;
  const options = { k: v.k, exact: v.exact, excludeSelf: v['exclude-self'], queryKeys: v['query-keys'], temperature: v.temperature };
  const { db, root } = await ctx.openDb(v.db, path.dirname(image), v.verify === true, v['storage-option']);
  const retriever = new PatchRetriever(db, root, tokenizerLoader(ctx, v.model, db));
  const grid = await retriever.tokenGrid(image);
  // --ef holds for this query only (a server answers others from the same index)
  if (ef !== undefined && !db.index.setEf) throw new UsageError('--ef is the HNSW search width; a Lance database has none');
  const efBefore = db.index.getEf?.();
  if (ef !== undefined) db.index.setEf?.(ef);
  let res: Awaited<ReturnType<PatchRetriever['query']>>;
  try {
    res = await retriever.query(grid, v.at.row, v.at.col, options);
  } finally {
    if (efBefore !== undefined) db.index.setEf?.(efBefore);
  }
  let merged: { token: number; p: number }[] | undefined;
  let lambda: number | undefined;
  if (v['model-dist']) {
    lambda = v.lambda ?? 0.5;
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
  const parsed = parse(ROLLOUT, args);
  if (!parsed) return commandUsage('rollout', VERSION);
  const { v } = parsed;
  const image = path.resolve(parsed.positional);
  if (v.greedy && v.sample) throw new UsageError('--greedy and --sample exclude each other');
  if (v.seed !== undefined && !v.sample) throw new UsageError('--seed needs --sample (a greedy rollout has no randomness)');
  const { k, temperature, seed, ef } = v;
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
        from: v.from,
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
  const parsed = parse(TOKENS, args);
  if (!parsed) return commandUsage('tokens', VERSION);
  const { v } = parsed;
  const image = path.resolve(ctx.cwd, parsed.positional);
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
  const parsed = parse(STATS, args);
  if (!parsed) return commandUsage('stats', VERSION);
  const { v } = parsed;
  const { db } = await ctx.openDb(v.db, ctx.cwd, v.verify, v['storage-option']);
  const stats = databaseStats(db);
  const sample = { seed: v.seed, k: v.k, exact: v.exact };
  const fraction = v.predictability;
  const pred = fraction === undefined ? undefined : await retrievalPredictability(db, { ...sample, fraction, maxQueries: v['max-queries'] });
  const rolloutFraction = v.rollout;
  const rollout =
    rolloutFraction === undefined ? undefined : await interruptible((signal) => rolloutStatistic(db, { ...sample, fraction: rolloutFraction, signal }));
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
  const parsed = parse(SERVE, args);
  if (!parsed) return commandUsage('serve', VERSION);
  const { v } = parsed;
  if (v.socket !== undefined && v.port !== undefined) throw new UsageError('give --socket or --port, not both');
  const port = v.port;
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
  const parsed = parse(DUPLICATES, args);
  if (!parsed) return commandUsage('duplicates', VERSION);
  const { v } = parsed;
  const { window, near, limit } = v;
  const minShared = v['min-shared'];
  const maxBucket = v['max-bucket'];
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
  const parsed = parse(FIDELITY, args);
  if (!parsed) return commandUsage('fidelity', VERSION);
  const { v } = parsed;
  const { queries, k } = v;
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
        process.stdout.write((cmd === 'help' && rest[0] ? commandUsage(rest[0], VERSION) : USAGE) + '\n');
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
