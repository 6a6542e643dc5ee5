// The one wire format between the extension host and Patch Lens webviews,
// imported by both sides. Each webview has a section below: a schema per
// direction, one `message(...)` per message with a one-line comment, from
// which the TypeScript types are inferred (src/messageSchema.ts, valibot).
// Types the engine and src/core already declare are imported and checked
// against their schema (schemaOf), never copied. Both sides talk through an
// Endpoint (src/endpoint.ts), which checks everything it receives.
//
// Conventions (after microsoft/vscode-hexeditor):
//  - the webview sends `ready` first; the host answers with its `init`;
//  - a request carries `messageId`; its answer carries `inReplyTo`, or is an
//    `error` with `inReplyTo` (also when the request itself was rejected);
//  - pixels and tensors travel as typed arrays (structured clone), never as
//    arrays of numbers;
//  - file names are data: webviews render them with textContent only.
//
// Adding a message: webview/shared/README.md.

import { errorMessage, int, list, message, MESSAGE_ID, num, schemaOf, str, typed, v } from './messageSchema';
import { BORDERS, type ExportKind, KEY_SHAPES, KEY_SOURCES, MAX_HOPS, MAX_K, MIN_HOPS, ROLLOUT_MODES, type KeyParams } from './core/vocabulary';
import { BROWSER_MIMES } from './core/imageTypes';
import type { DuplicateSummary, TokenUse } from './engine/engineProtocol';
import { FIND_PHASES } from './core/duplicates';
import type { CellWindow } from './core/geometry';
import type { TokenProbability } from './core/daid';
import type { RetrievedPatch } from './engine/retrieval';

export { MAX_K };
export type { RetrievedPatch };

/** Requests of a message union: the messages that carry a messageId. */
export type RequestOf<U> = Extract<U, { messageId: number }>;

/** The answer message of each request type, from a section's `*_REPLIES` table. */
export type RepliesOf<U extends { type: string }, R extends Readonly<Record<string, U['type']>>> = { [K in keyof R]: Extract<U, { type: R[K] }> };

/** Largest grid side the protocol carries. */
export const MAX_GRID_SIDE = 4096;

const side = int(0, MAX_GRID_SIDE - 1);
const count = int(0, Number.MAX_SAFE_INTEGER);
const path = str(4096);
const cell = v.strictObject({ row: side, col: side });
/** Tensors of one grid; a 24x24 grid has 576 cells. */
const CELLS = MAX_GRID_SIDE * 64;

const keyParams = schemaOf<KeyParams>()(
  v.strictObject({ shape: v.picklist(KEY_SHAPES), hops: int(MIN_HOPS, MAX_HOPS), border: v.picklist(BORDERS), source: v.picklist(KEY_SOURCES) }),
);

// =============================================================== Inspector
// The "Patch Inspector" custom editor: one image, its token grid, the
// retrieved patches of a selected patch and their DAiD distribution.

const inspectorImage = v.strictObject({
  /** File name for the title (any characters: render as text). */
  name: str(1024),
  /** Path relative to the dataset root ('/'-separated), or absolute for an image outside every dataset. */
  path,
  /** Webview URI of the file; '' when the webview must ask for its pixels (`imagePixels`). */
  src: str(8192),
  /** Metadata of the image's source (caption, prompt, category, JSON fields), as name/value text. */
  metadata: v.optional(list(v.strictObject({ name: str(256), value: str(8192) }), 64)),
});
export type InspectorImage = v.InferOutput<typeof inspectorImage>;

const inspectorDatabase = v.strictObject({
  /** Name of the dataset whose database answers queries. */
  dataset: str(1024),
  /** Model the database was built with. */
  model: str(1024),
  rows: int(1, MAX_GRID_SIDE),
  cols: int(1, MAX_GRID_SIDE),
  codebookSize: int(1, 1 << 24),
  hasDecoder: v.boolean(),
  /** The database's key parameters (what queries use). */
  keys: keyParams,
  images: count,
  entries: count,
});
export type InspectorDatabase = v.InferOutput<typeof inspectorDatabase>;

const inspectorSettings = v.strictObject({
  /** k: how many patches a query retrieves. */
  topK: int(1, MAX_K),
  excludeSelf: v.boolean(),
  /** DAiD temperature T. */
  temperature: num(1e-6, 1e6),
  queryKeys: v.picklist(KEY_SOURCES),
});
export type InspectorSettings = v.InferOutput<typeof inspectorSettings>;

/** What the inspector draws over the image: the pixels, or each cell coloured by its token. */
export const INSPECTOR_OVERLAYS = ['image', 'tokens'] as const;

/** The view settings a jump carries into the inspector it opens: the neighbourhood drawn (null: the database's keys) and the modes. */
const inspectorView = v.strictObject({
  shape: v.nullable(v.picklist(KEY_SHAPES)),
  hops: v.nullable(int(MIN_HOPS, MAX_HOPS)),
  overlay: v.picklist(INSPECTOR_OVERLAYS),
  showGrid: v.boolean(),
  reconstruction: v.boolean(),
});
export type InspectorView = v.InferOutput<typeof inspectorView>;

const INSPECTOR_STATES = ['loading', 'noDatabase', 'building', 'error', 'ready'] as const;
export type InspectorState = (typeof INSPECTOR_STATES)[number];

const inspectorStatus = v.strictObject({
  state: v.picklist(INSPECTOR_STATES),
  /** What to tell the user (empty when ready). */
  message: str(2000),
  /** Offer a "Build Database" button. */
  canBuild: v.boolean(),
});
export type InspectorStatus = v.InferOutput<typeof inspectorStatus>;

/** Which cells a retrieved patch's thumbnail shows (the patch and its surroundings). */
const cropWindow = schemaOf<CellWindow>()(v.strictObject({ row: side, col: side, rows: int(1, MAX_GRID_SIDE), cols: int(1, MAX_GRID_SIDE) }));
export type CropWindow = v.InferOutput<typeof cropWindow>;

/** A retrieved patch as the engine answers it, nearest first. */
const retrievedPatch = schemaOf<RetrievedPatch>()(
  v.strictObject({
    /** Dataset path of the patch's image (any characters: render as text). */
    image: path,
    row: side,
    col: side,
    token: int(0, 1 << 24),
    distance: num(0),
    /** The source image's caption, when it has one. */
    caption: v.optional(str(8192)),
  }),
);

/** One token of the DAiD distribution: its probability and its nearest hit's distance. */
const tokenProbability = schemaOf<TokenProbability>()(v.strictObject({ token: int(0, 1 << 24), p: num(0, 1), distance: num(0) }));

/** Overlaps an `overlapsResult` lists at most. */
export const MAX_OVERLAPS = 10;
/** Above this many images the inspector finds overlaps only when asked (the search runs in the engine worker, which also answers clicks). */
export const AUTO_OVERLAP_IMAGES = 5000;

/** An image the inspected one shares patch content with: a pair of a duplicate search the engine keeps. */
const inspectorOverlap = v.strictObject({
  searchId: int(1, Number.MAX_SAFE_INTEGER),
  rank: count,
  /** The other image's dataset path (any characters: render as text). */
  other: path,
  score: num(0, 1),
  sharedCells: count,
  identical: v.boolean(),
});
export type InspectorOverlap = v.InferOutput<typeof inspectorOverlap>;

/** A rollout as the inspector receives it (see src/engine/rollout.ts, RolloutPayload). */
const rolloutWire = {
  from: cell,
  rows: int(1, MAX_GRID_SIDE),
  cols: int(1, MAX_GRID_SIDE),
  mode: v.picklist(ROLLOUT_MODES),
  k: int(1, MAX_K),
  tokens: typed(Int32Array, CELLS),
  original: typed(Int32Array, CELLS),
  images: list(path, CELLS),
  sourceImage: typed(Int32Array, CELLS),
  sourceRow: typed(Int32Array, CELLS),
  sourceCol: typed(Int32Array, CELLS),
  sourceDistance: typed(Float32Array, CELLS),
  stepStart: typed(Int32Array, CELLS + 1),
  stepTokens: typed(Int32Array, CELLS * 512),
  stepP: typed(Float32Array, CELLS * 512),
  agreement: num(0, 1),
  /** image: '' when nothing was generated. */
  topSource: v.strictObject({ image: path, share: num(0, 1) }),
  longestCopiedRun: v.strictObject({ image: path, cells: count }),
  generated: count,
  sourceCounts: list(v.strictObject({ image: path, cells: count }), 64),
  elapsedMs: num(0),
  png: v.optional(typed(Uint8Array, 256 << 20)),
};
export type RolloutWire = v.InferOutput<v.ObjectSchema<typeof rolloutWire, undefined>>;

/** Messages the host sends to the inspector webview. */
export const hostToInspectorSchema = v.variant('type', [
  /** Answer to `ready` (sent again after a build): the image, its database (null when none), settings and status; `view`: the settings of the inspector a jump came from, for a fresh view. */
  message('init', {
    image: inspectorImage,
    database: v.nullable(inspectorDatabase),
    settings: inspectorSettings,
    status: inspectorStatus,
    view: v.optional(inspectorView),
  }),
  /** What the host is doing, or why there is nothing to show (loading, no database, building, error). */
  message('status', { status: inspectorStatus }),
  /** The token grid: tokens, latent-to-code distances, and each cell's x, y, width, height in image pixels (rows*cols*4). */
  message('grid', {
    width: int(1, 1 << 20),
    height: int(1, 1 << 20),
    rows: int(1, MAX_GRID_SIDE),
    cols: int(1, MAX_GRID_SIDE),
    inDatabase: v.boolean(),
    tokens: typed(Int32Array, CELLS),
    distances: typed(Float32Array, CELLS),
    cells: typed(Float32Array, CELLS * 4),
  }),
  /** The settings changed (k, exclude self, temperature, query keys). */
  message('settings', { settings: inspectorSettings }),
  /** Select a patch and query it (the inspector was opened from a retrieved patch). */
  message('select', { row: side, col: side }),
  /** Answer to `query`: the retrieved patches, nearest first, and the DAiD distribution, largest first (as the engine answers them). */
  message('queryResult', {
    inReplyTo: MESSAGE_ID,
    row: side,
    col: side,
    token: int(0, 1 << 24),
    searchMs: num(0),
    results: list(retrievedPatch, MAX_K),
    distribution: list(tokenProbability, MAX_K),
  }),
  /** Answer to `crop`: a PNG of the patch's surroundings and the cells it shows. */
  message('cropResult', { inReplyTo: MESSAGE_ID, png: typed(Uint8Array, 16 << 20), window: cropWindow }),
  /** Answer to `reconstruct`: the decoder's output for the token grid (PNG, model input size). */
  message('reconstruction', { inReplyTo: MESSAGE_ID, png: typed(Uint8Array, 256 << 20) }),
  /** Answer to `imagePixels`: the image file's bytes, or a PNG of it when the webview cannot decode its format. */
  message('imagePixels', { inReplyTo: MESSAGE_ID, bytes: typed(Uint8Array, 1 << 30), mime: v.picklist(BROWSER_MIMES) }),
  /** Light the cells this image shares with `other` (opened from a duplicate pair); row-major cell indices. */
  message('shared', { other: path, score: num(0, 1), sharedCells: count, cells: typed(Int32Array, CELLS) }),
  /** Answer to `overlaps`: the images this one shares most content with, best first. */
  message('overlapsResult', { inReplyTo: MESSAGE_ID, overlaps: list(inspectorOverlap, MAX_OVERLAPS) }),
  /** Cells done of the rollout running (not an answer: `rolloutResult` is). */
  message('rolloutProgress', { done: count, total: count }),
  /** Answer to `rollout`: per cell the tokens, the original's and each generated token's source (an index into `images`, -1 for none); per step the DAiD distribution; the copy indicators; the decoded rollout when the model has a decoder. */
  message('rolloutResult', { inReplyTo: MESSAGE_ID, ...rolloutWire }),
  /** A request failed or was rejected: the error's class (NoDatabaseError, Timeout, InvalidMessage, ...) and message. */
  errorMessage(),
]);
export type HostToInspector = v.InferOutput<typeof hostToInspectorSchema>;

/** The exports of one query (the inspector's Retrieved and DAiD sections). */
export const QUERY_EXPORT_KINDS = ['retrieved', 'daid'] as const satisfies readonly ExportKind[];
export type QueryExportKind = (typeof QUERY_EXPORT_KINDS)[number];

/** Messages the inspector webview sends to the host. */
export const inspectorToHostSchema = v.variant('type', [
  /** The webview has loaded and listens; answered by `init`. */
  message('ready', {}),
  /** Search the database with the key of patch (row, col); answered by `queryResult`. */
  message('query', { messageId: MESSAGE_ID, row: side, col: side, k: int(1, MAX_K), excludeSelf: v.boolean() }),
  /** Thumbnail of a retrieved patch's surroundings (the 3x3 cells; with `hops`, its whole h-hop neighbourhood); answered by `cropResult`. */
  message('crop', { messageId: MESSAGE_ID, image: path, row: side, col: side, hops: v.optional(int(MIN_HOPS, MAX_HOPS)) }),
  /** The decoder's reconstruction of this image; answered by `reconstruction`. */
  message('reconstruct', { messageId: MESSAGE_ID }),
  /** This image's pixels when it has no `src` (outside the dataset folders, or TIFF); answered by `imagePixels`. */
  message('imagePixels', { messageId: MESSAGE_ID }),
  /** Let the database generate the rest of the image from (row, col); answered by `rolloutResult`, with `rolloutProgress` meanwhile. */
  message('rollout', {
    messageId: MESSAGE_ID,
    row: side,
    col: side,
    mode: v.picklist(ROLLOUT_MODES),
    seed: int(0, 2 ** 31),
    temperature: num(1e-3, 1e6),
    k: int(1, MAX_K),
    excludeSelf: v.boolean(),
  }),
  /** Stop the rollout running (its request is answered with an error of kind RolloutCancelledError). */
  message('cancelRollout', {}),
  /** The images this one overlaps most (a duplicate search of its database); answered by `overlapsResult`. */
  message('overlaps', { messageId: MESSAGE_ID }),
  /** Open an overlap from `overlapsResult` side by side with this image. */
  message('openOverlap', { searchId: int(1, Number.MAX_SAFE_INTEGER), rank: count }),
  /** Stop lighting the shared cells. */
  message('clearShared', {}),
  /** Open a dataset image (a retrieved patch's) in the inspector with that patch selected: in the preview tab, or kept (`keep`: a double click). */
  message('openPatch', { image: path, row: side, col: side, keep: v.optional(v.boolean()) }),
  /** The inspector's view settings changed (neighbourhood drawn, modes): a jump from it, or from the Codebook view, carries them on. */
  message('view', { view: inspectorView }),
  /** Build or update the database of this image's dataset. */
  message('build', {}),
  /** Rebuild this image's dataset with keys of this shape and h (the Neighbours controls), saved as its settings. */
  message('rebuildWithKeys', { shape: v.picklist(KEY_SHAPES), hops: int(MIN_HOPS, MAX_HOPS) }),
  /** Load the grid again (the Retry button). */
  message('reload', {}),
  /** Save the last query's retrieved patches or DAiD distribution as CSV or JSON (the host asks where). */
  message('export', { kind: v.picklist(QUERY_EXPORT_KINDS) }),
  /** Show the Patch Lens log. */
  message('showLog', {}),
  /** A line for the Patch Lens log (messages the webview rejected, failures in the webview). */
  message('log', { level: v.picklist(['info', 'warn', 'error']), message: str(4000) }),
]);
export type InspectorToHost = v.InferOutput<typeof inspectorToHostSchema>;

/** The answer type of each inspector request. */
export const INSPECTOR_REPLIES = {
  query: 'queryResult',
  crop: 'cropResult',
  reconstruct: 'reconstruction',
  imagePixels: 'imagePixels',
  rollout: 'rolloutResult',
  overlaps: 'overlapsResult',
} as const satisfies Record<RequestOf<InspectorToHost>['type'], HostToInspector['type']>;
export type InspectorReplies = RepliesOf<HostToInspector, typeof INSPECTOR_REPLIES>;

/** Checks a grid beyond its fields' types: the tensors' lengths match rows x cols. */
export function gridConsistent(m: Extract<HostToInspector, { type: 'grid' }>): string | undefined {
  const n = m.rows * m.cols;
  if (m.tokens.length !== n) return `grid.tokens has ${m.tokens.length} entries for ${m.rows}x${m.cols} cells`;
  if (m.distances.length !== n) return `grid.distances has ${m.distances.length} entries for ${m.rows}x${m.cols} cells`;
  if (m.cells.length !== n * 4) return `grid.cells has ${m.cells.length} numbers for ${m.rows}x${m.cols} cells (4 each)`;
  return undefined;
}

/** Checks a rolloutResult beyond its fields' types: per-cell columns of rows x cols, sources inside `images`, steps that add up. */
export function rolloutResultConsistent(m: InspectorReplies['rollout']): string | undefined {
  const n = m.rows * m.cols;
  for (const [name, col] of [
    ['tokens', m.tokens],
    ['original', m.original],
    ['sourceImage', m.sourceImage],
    ['sourceRow', m.sourceRow],
    ['sourceCol', m.sourceCol],
    ['sourceDistance', m.sourceDistance],
  ] as const) {
    if (col.length !== n) return `rolloutResult.${name} has ${col.length} entries for ${m.rows}x${m.cols} cells`;
  }
  if (m.from.row >= m.rows || m.from.col >= m.cols) return `rolloutResult.from is outside the ${m.rows}x${m.cols} grid`;
  if (m.stepStart.length !== n - (m.from.row * m.cols + m.from.col) + 1)
    return `rolloutResult.stepStart has ${m.stepStart.length} entries for the steps from (${m.from.row}, ${m.from.col})`;
  if (m.stepTokens.length !== m.stepP.length || m.stepStart[m.stepStart.length - 1] !== m.stepTokens.length)
    return 'rolloutResult steps do not match their distributions';
  for (let i = 1; i < m.stepStart.length; i++) if (m.stepStart[i] < m.stepStart[i - 1]) return 'rolloutResult.stepStart decreases';
  for (const s of m.sourceImage) if (s < -1 || s >= m.images.length) return `rolloutResult.sourceImage refers to image ${s} of ${m.images.length}`;
  return undefined;
}

// =============================================================== Codebook view
// The side panel's "Codebook" webview view (webview/codebook,
// src/extension/sidePanel/codebookView.ts): the codes of a dataset's database
// by usage with their prototypes; a code's images and positions on request.

/** Images a `tokenUsesResult` lists at most. */
export const TOKEN_USES_LIMIT = 500;
const MAX_CODES = 1 << 20;
const MAX_PROTOTYPE_SIDE = 32;
const code = int(0, MAX_CODES - 1);

/** A dataset the codebook view can show. */
const codebookDataset = v.strictObject({
  /** Absolute dataset folder. */
  root: path,
  /** Folder name (any characters: render as text). */
  name: str(1024),
  /** Whether it has a patch database. */
  built: v.boolean(),
});
export type CodebookDataset = v.InferOutput<typeof codebookDataset>;

/** The codebook of a dataset's database. */
const codebookData = v.strictObject({
  root: path,
  /** Model name. */
  model: str(1024),
  codebookSize: int(1, MAX_CODES),
  /** Prototype side in pixels. */
  patch: int(1, MAX_PROTOTYPE_SIDE),
  /** Usage count per code over every indexed patch position (codebookSize values). */
  counts: typed(Uint32Array, MAX_CODES),
  /** Prototype pixels: codebookSize x patch x patch x RGB, the mean of the patches assigned to each code (zeros for unused codes). */
  prototypes: typed(Uint8Array, MAX_CODES * MAX_PROTOTYPE_SIDE * MAX_PROTOTYPE_SIDE * 3),
  images: count,
  /** Images removed or replaced since the prototypes were accumulated (still counted in them). */
  staleImages: count,
  /** Database generation (changes with every build). */
  generation: count,
});
export type CodebookData = v.InferOutput<typeof codebookData>;

/** An image that uses a token, and where (the engine's TokenUse; the path is dataset-relative, any characters: render as text). */
const tokenUse = schemaOf<TokenUse>()(v.strictObject({ image: path, positions: list(cell, MAX_GRID_SIDE * MAX_GRID_SIDE) }));
export type { TokenUse };

/** Messages the host sends to the codebook view. */
export const hostToCodebookSchema = v.variant('type', [
  /** The datasets to choose from and the one shown (sent after `ready` and when the list changes). */
  message('datasets', { datasets: list(codebookDataset, 1000), selected: path }),
  /** The codebook of `root` is being loaded. */
  message('loading', { root: path }),
  /** The codebook of the selected dataset. */
  message('codebook', { data: codebookData }),
  /** Nothing to show: no dataset, no database yet, a first build running, or an error. */
  message('empty', { root: path, reason: v.picklist(['noDatasets', 'none', 'building', 'error']), message: str(4000) }),
  /** Answer to `tokenUses`: the images using the token (most uses first, at most TOKEN_USES_LIMIT) and the totals. */
  message('tokenUsesResult', { inReplyTo: MESSAGE_ID, token: code, uses: list(tokenUse, TOKEN_USES_LIMIT), totalImages: count, totalPositions: count }),
  /** Select a token and list its uses (from a palette command or the statistics). */
  message('focusToken', { token: code }),
  /** A request failed or was rejected: the error's class and message. */
  errorMessage(),
]);
export type HostToCodebook = v.InferOutput<typeof hostToCodebookSchema>;

/** Messages the codebook view sends to the host. */
export const codebookToHostSchema = v.variant('type', [
  /** The view has loaded and listens; answered by `datasets` and the selected dataset's codebook. */
  message('ready', {}),
  /** Show another dataset's codebook. */
  message('selectDataset', { root: path }),
  /** Load the shown codebook again. */
  message('refresh', {}),
  /** The images and positions that use `token` in dataset `root`; answered by `tokenUsesResult`. */
  message('tokenUses', { messageId: MESSAGE_ID, root: path, token: code }),
  /** Open an image of dataset `root` in the inspector with patch (row, col) selected: in the preview tab, or kept (`keep`: a double click). */
  message('openPatch', { root: path, image: path, row: side, col: side, keep: v.optional(v.boolean()) }),
  /** Build or update the database of dataset `root`. */
  message('build', { root: path }),
]);
export type CodebookToHost = v.InferOutput<typeof codebookToHostSchema>;

/** The answer type of each codebook request. */
export const CODEBOOK_REPLIES = { tokenUses: 'tokenUsesResult' } as const satisfies Record<RequestOf<CodebookToHost>['type'], HostToCodebook['type']>;
export type CodebookReplies = RepliesOf<HostToCodebook, typeof CODEBOOK_REPLIES>;

/** Checks a codebook beyond its fields' types: counts and prototypes sized for codebookSize. */
export function codebookConsistent(m: HostToCodebook): string | undefined {
  if (m.type !== 'codebook') return undefined;
  const d = m.data;
  if (d.counts.length !== d.codebookSize) return `codebook.counts has ${d.counts.length} entries for ${d.codebookSize} codes`;
  if (d.prototypes.length !== d.codebookSize * d.patch * d.patch * 3)
    return `codebook.prototypes has ${d.prototypes.length} bytes for ${d.codebookSize} codes of ${d.patch}x${d.patch} RGB`;
  return undefined;
}

// =============================================================== Duplicates view
// The side panel's "Duplicates" webview view (webview/duplicates,
// src/extension/sidePanel/duplicatesView.ts): image pairs of a dataset ranked
// by shared patch content, or a dataset's leaks into another database; pages
// of pairs and their thumbnails on request; a pair opens side by side.

/** Pairs a `pageResult` carries at most. */
export const DUPLICATES_PAGE = 50;
/** Thumbnail side in pixels. */
export const DUPLICATE_THUMBNAIL = 64;
/** Largest window side the view offers. */
export const MAX_DUPLICATE_WINDOW = 8;

const searchId = int(1, Number.MAX_SAFE_INTEGER);
const near = num(-1, 1e6);
const duplicateWindow = int(1, MAX_DUPLICATE_WINDOW);

/** A finished search as the view shows it. */
const duplicateResults = v.strictObject({
  searchId,
  /** The dataset searched (its folder name) and, for leaks, the other database's name ('' otherwise). */
  dataset: str(1024),
  against: str(1024),
  /** Pairs kept to page through, and how many qualified. */
  pairs: count,
  totalPairs: count,
  /** Cells per image (the score's denominator). */
  cells: count,
  images: count,
  distinctWindows: count,
  commonWindows: count,
  elapsedMs: num(0, 1e12),
  window: duplicateWindow,
  /** The near distance used, or -1 for exact windows only. */
  near,
});
export type DuplicateResults = v.InferOutput<typeof duplicateResults>;

/** A ranked pair: the engine's DuplicateSummary (paths dataset-relative, any characters: render as text). */
const duplicateSummary = schemaOf<DuplicateSummary>()(
  v.strictObject({ rank: count, a: path, b: path, score: num(0, 1), sharedCells: count, identical: v.boolean() }),
);

/** Messages the host sends to the duplicates view. */
export const hostToDuplicatesSchema = v.variant('type', [
  /** The datasets to choose from and the one selected (after `ready` and when the list changes). */
  message('datasets', { datasets: list(codebookDataset, 1000), selected: path }),
  /** A search is running: its phase and progress. */
  message('progress', { phase: v.picklist(FIND_PHASES), done: count, total: count }),
  /** A search finished: what was searched and the totals; pages come with `page`. */
  message('results', { results: duplicateResults }),
  /** Nothing to show: no dataset, no database, idle, cancelled, or an error. */
  message('empty', { reason: v.picklist(['noDatasets', 'none', 'idle', 'cancelled', 'error']), message: str(4000) }),
  /** Answer to `page`: ranked pairs. */
  message('pageResult', { inReplyTo: MESSAGE_ID, searchId, offset: count, pairs: list(duplicateSummary, DUPLICATES_PAGE) }),
  /** Answer to `thumbnail`: the model's view of one side of a pair, as PNG. */
  message('thumbnailResult', { inReplyTo: MESSAGE_ID, png: typed(Uint8Array, 1 << 22) }),
  /** A request failed or was rejected: the error's class and message. */
  errorMessage(),
]);
export type HostToDuplicates = v.InferOutput<typeof hostToDuplicatesSchema>;

/** Messages the duplicates view sends to the host. */
export const duplicatesToHostSchema = v.variant('type', [
  /** The view has loaded and listens; answered by `datasets` and the last results. */
  message('ready', {}),
  /** Choose the dataset to search. */
  message('selectDataset', { root: path }),
  /** Find the pairs of images of dataset `root` that share content (window side; near distance or -1). */
  message('find', { root: path, window: duplicateWindow, near }),
  /** Run "Find Leaks Against…" for dataset `root` (the host asks for the other database). */
  message('findLeaks', { root: path, window: duplicateWindow, near }),
  /** Cancel the running search. */
  message('cancel', {}),
  /** A page of a search's pairs; answered by `pageResult`. */
  message('page', { messageId: MESSAGE_ID, searchId, offset: count }),
  /** The thumbnail of one side of a pair; answered by `thumbnailResult`. */
  message('thumbnail', { messageId: MESSAGE_ID, searchId, rank: count, side: v.picklist(['a', 'b']) }),
  /** Open both images of a pair side by side in the inspector, shared cells lit. */
  message('openPair', { searchId, rank: count }),
]);
export type DuplicatesToHost = v.InferOutput<typeof duplicatesToHostSchema>;

/** The answer type of each duplicates request. */
export const DUPLICATES_REPLIES = { page: 'pageResult', thumbnail: 'thumbnailResult' } as const satisfies Record<
  RequestOf<DuplicatesToHost>['type'],
  HostToDuplicates['type']
>;
export type DuplicatesReplies = RepliesOf<HostToDuplicates, typeof DUPLICATES_REPLIES>;
