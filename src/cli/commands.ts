// The commands of `patchlens` and their options, one table each (see
// options.ts): what each accepts, how its values are checked, and the usage
// text, which is written from these tables and the src/core vocabulary.

import { DEFAULT_MAX_BUCKET, DEFAULT_PAIR_LIMIT, DEFAULT_WINDOW } from '../core/duplicates';
import { DEFAULT_MAX_MEMBER_BYTES } from '../core/datasetLayout';
import { BORDERS, DATABASE_BACKENDS, KEY_SHAPES, KEY_SOURCES, MAX_HOPS, MIN_HOPS } from '../core/vocabulary';
import { MAX_DEFAULT_WORKERS } from '../engine/encoderPool';
import { DEFAULT_FIDELITY_K, DEFAULT_FIDELITY_QUERIES } from '../engine/fidelity';
import { DEFAULT_MAX_PIXELS } from '../engine/imageDecoder';
import { DEFAULT_HNSW } from '../engine/patchIndex';
import { DEFAULT_ROLLOUT_K } from '../engine/rollout';
import { UsageError, cell, flag, int, num, oneOf, text, texts, usageLine, value, type Command, type OptionTable } from './options';

/** What every command accepts; a command's own table says where (and whether) its usage line shows them. */
const COMMON = {
  db: text({ arg: 'D' }),
  'storage-option': texts({ usage: false }),
  model: text({ usage: false }),
  json: flag({ usage: false }),
  quiet: flag({ short: 'q', usage: false }),
  help: flag({ short: 'h', usage: false }),
} as const;

/** A command's table followed by the common options it does not list itself. */
function withCommon<O extends OptionTable>(own: O): O & Omit<typeof COMMON, keyof O> {
  const rest = Object.fromEntries(Object.entries(COMMON).filter(([name]) => !(name in own)));
  return { ...own, ...rest } as O & Omit<typeof COMMON, keyof O>;
}

const fraction = (arg: string) => num((n) => n > 0 && n <= 1, 'a fraction in (0, 1]', { arg });
const positive = (arg: string) => num((n) => n > 0, 'a positive number', { arg });
const k = (arg: string) => int(1, 10000, { arg });
const hnswEf = int(1, 10000, { usage: false });

export const INDEX = {
  name: 'index',
  head: '<dir>',
  positionals: { one: 'dataset folder' },
  options: withCommon({
    db: COMMON.db,
    model: text({ arg: 'M' }),
    hops: int(MIN_HOPS, MAX_HOPS),
    shape: oneOf(KEY_SHAPES),
    border: oneOf(BORDERS),
    keys: oneOf(KEY_SOURCES),
    m: int(2, 200, { arg: String(DEFAULT_HNSW.m) }),
    'ef-construction': int(1, 10000, { arg: String(DEFAULT_HNSW.efConstruction) }),
    ef: int(1, 10000, { arg: String(DEFAULT_HNSW.ef) }),
    rebuild: flag(),
    workers: int(1, 64),
    batch: int(1, 256, { arg: '8' }),
    'max-pixels': int(1, 2 ** 40, { fallback: DEFAULT_MAX_PIXELS }),
    'max-member-bytes': int(1, 2 ** 40, { fallback: DEFAULT_MAX_MEMBER_BYTES }),
    'image-column': value(
      (raw) => {
        if (raw.trim() === '') throw new UsageError('--image-column needs a column name');
        return raw;
      },
      { arg: 'NAME' },
    ),
    include: texts({ arg: 'GLOB' }),
    exclude: texts({ arg: 'GLOB' }),
    wait: flag(),
    json: flag(),
    quiet: flag({ short: 'q' }),
    backend: oneOf(DATABASE_BACKENDS),
    part: value(
      (raw) => {
        const m = /^(\d+)\/(\d+)$/.exec(raw);
        if (!m) throw new UsageError(`--part must be I/N (e.g. 2/8), got ${JSON.stringify(raw)}`);
        return { index: Number(m[1]), count: Number(m[2]) };
      },
      { usage: '[--part I/N | --finalize]' },
    ),
    finalize: flag({ usage: false }),
    'storage-option': texts({ arg: 'K=V' }),
    verify: flag({ usage: false }),
  }),
} as const satisfies Command;

export const QUERY = {
  name: 'query',
  head: '<image>',
  positionals: { one: 'image' },
  options: withCommon({
    at: cell('5,7'),
    db: COMMON.db,
    model: text({ arg: 'M' }),
    k: k('10'),
    exact: flag(),
    'exclude-self': flag(),
    'query-keys': oneOf(KEY_SOURCES),
    temperature: positive('1'),
    'model-dist': text({ usage: '[--model-dist P.npy [--logits] [--lambda 0.5]]' }),
    logits: flag({ usage: false }),
    lambda: num((n) => n >= 0 && n <= 1, 'in [0, 1]', { usage: false }),
    json: flag(),
    ef: hnswEf,
    verify: flag({ usage: false }),
  }),
} as const satisfies Command;

export const TOKENS = {
  name: 'tokens',
  head: '<image>',
  positionals: { one: 'image' },
  options: withCommon({
    db: text({ usage: '[--db D | --model M]' }),
    latents: flag(),
    json: flag(),
    verify: flag({ usage: false }),
  }),
} as const satisfies Command;

export const ROLLOUT = {
  name: 'rollout',
  head: '<image>',
  positionals: { one: 'image' },
  options: withCommon({
    from: cell('12,0'),
    db: COMMON.db,
    k: k(String(DEFAULT_ROLLOUT_K)),
    temperature: positive('1'),
    greedy: flag({ usage: '[--greedy | --sample --seed S]' }),
    sample: flag({ usage: false }),
    seed: int(0, 2 ** 32 - 1, { usage: false }),
    exact: flag(),
    'include-self': flag(),
    out: text({ arg: 'FILE.png' }),
    json: flag(),
    ef: hnswEf,
  }),
} as const satisfies Command;

export const STATS = {
  name: 'stats',
  head: '',
  positionals: { ignored: true },
  options: withCommon({
    db: COMMON.db,
    predictability: fraction('FRACTION'),
    rollout: fraction('FRACTION'),
    seed: int(0, 2 ** 31, { arg: '0' }),
    k: k('64'),
    'max-queries': int(1, 10_000_000, { arg: '2000' }),
    exact: flag(),
    json: flag(),
    verify: flag({ usage: false }),
  }),
} as const satisfies Command;

export const DUPLICATES = {
  name: 'duplicates',
  head: '',
  positionals: { none: 'use --db and --against' },
  options: withCommon({
    db: COMMON.db,
    against: text({ arg: 'D2' }),
    window: int(1, 64, { fallback: DEFAULT_WINDOW, arg: String(DEFAULT_WINDOW) }),
    'min-shared': int(1, 1 << 24),
    near: num((n) => n >= 0, 'a non-negative squared distance', { arg: 'EPS' }),
    limit: int(1, 10_000_000, { fallback: DEFAULT_PAIR_LIMIT, arg: String(DEFAULT_PAIR_LIMIT) }),
    'max-bucket': int(2, 65534, { arg: String(DEFAULT_MAX_BUCKET) }),
    json: flag(),
    quiet: flag({ short: 'q' }),
  }),
  notes: `Pairs of images ranked by how much patch content they share. Every w x w
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
} as const satisfies Command;

export const FIDELITY = {
  name: 'fidelity',
  head: '',
  positionals: { none: 'use --db' },
  options: withCommon({
    db: COMMON.db,
    queries: int(1, 1_000_000, { arg: String(DEFAULT_FIDELITY_QUERIES) }),
    k: k(String(DEFAULT_FIDELITY_K)),
    json: flag(),
    quiet: flag({ short: 'q' }),
  }),
  notes: `Recall@k of the database's index at its settings against exact search, on a
seeded sample of the database's own keys (each query leaves its own image
out), the curve over the search knob (HNSW: ef; Lance: nprobes x refine
factor), and AR-RAG's FAISS configuration (OPQ + IVF + PQ8, no re-ranking)
trained and measured on the same keys. D is a database (folder or s3:// URI)
or a dataset folder holding one. --json prints
{ backend, entries, k, queries, current: { params, recall, p50Ms },
  sweep: [{ params, recall, p50Ms }], arrag: { params, recall } }.`,
} as const satisfies Command;

export const SERVE = {
  name: 'serve',
  head: '',
  positionals: { ignored: true },
  options: withCommon({
    db: COMMON.db,
    socket: text({ usage: '[--socket PATH | --port N]' }),
    port: int(0, 65535, { usage: false }),
    json: flag(),
  }),
} as const satisfies Command;

/** Every command, in the order the usage lists them. */
export const COMMANDS: readonly Command[] = [INDEX, QUERY, TOKENS, ROLLOUT, STATS, DUPLICATES, FIDELITY, SERVE];

/** What `patchlens help` prints. */
export function usage(version: string): string {
  return `patchlens ${version} — AR-RAG patch databases of image datasets

Usage:
${COMMANDS.map((c) => usageLine(c)).join('\n')}
  query, tokens and stats take --server PATH (a serve socket, or [127.0.0.1:]PORT)
  to be answered by a running server, and --verify to hash every database file
  before answering (by default only when they changed since the last full check);
  index --verify hashes every file of the database it updates (by default the
  files whose bytes the update copies, and the rest only when they changed).

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
AWS_* (az://: AZURE_STORAGE_*) environment variables or --storage-option
key=value, and are never stored.
serve keeps one database open and answers newline-delimited JSON requests
({"argv": ["query", ...], "cwd": "/abs"}) on a Unix socket (default
<database>/serve.sock, owner only) or TCP on 127.0.0.1; Ctrl-C or SIGTERM stops it.`;
}

/** One command's usage ("Usage: patchlens <cmd> ..."), and its notes when it has some; the whole usage for an unknown name. */
export function commandUsage(name: string, version: string): string {
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) return usage(version);
  // "  patchlens" becomes "Usage: patchlens": continuation lines move right with it
  const [first, ...more] = usageLine(command).split('\n');
  const lines = ['Usage:' + first.slice(1), ...more.map((l) => '    ' + l)].join('\n');
  return command.notes ? `${lines}\n\n${command.notes}` : lines;
}
