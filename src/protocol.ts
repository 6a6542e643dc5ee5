// The one typed protocol between the extension host and Patch Lens webviews,
// imported by both sides. Each webview has a section below: a union of
// messages per direction (one line of comment each) and, next to it, the
// schema every received message is checked against (src/messageSchema.ts).
//
// Conventions (after microsoft/vscode-hexeditor):
//  - the webview sends `ready` first; the host answers with its `init`;
//  - a request carries `messageId`; its answer carries `inReplyTo`, or is an
//    `error` with `inReplyTo` (the webview's request times out otherwise);
//  - pixels and tensors travel as typed arrays (structured clone), never as
//    arrays of numbers;
//  - file names are data: webviews render them with textContent only.

import { f, MESSAGE_ID, type FieldSpec, type MessageSchemas } from './messageSchema';
import { BORDERS, KEY_SHAPES, KEY_SOURCES, MAX_HOPS, MAX_K, MIN_HOPS, ROLLOUT_MODES, type RolloutMode, type KeyParams, type KeySource } from './core/vocabulary';
import { BROWSER_MIMES } from './core/imageTypes';
import type { BrowserImageMime } from './core/vocabulary';
import { FIND_PHASES, type FindPhase } from './core/duplicates';
import type { DuplicateSummary } from './engine/engineProtocol';

export { MAX_K };

/** Requests of a message union: the messages that carry a messageId. */
export type RequestOf<U> = Extract<U, { messageId: number }>;

/** Largest grid side and largest k the protocol carries. */
export const MAX_GRID_SIDE = 4096;

// =============================================================== Inspector
// The "Patch Inspector" custom editor: one image, its token grid, the
// retrieved patches of a selected patch and their DAiD distribution.

export interface InspectorImage {
  /** File name for the title (any characters: render as text). */
  readonly name: string;
  /** Path relative to the dataset root ('/'-separated), or absolute for an image outside every dataset. */
  readonly path: string;
  /** Webview URI of the file; '' when the webview must ask for its pixels (`imagePixels`). */
  readonly src: string;
  /** Metadata of the image's source (caption, prompt, category, JSON fields), as name/value text. */
  readonly metadata?: readonly { readonly name: string; readonly value: string }[];
}

export interface InspectorDatabase {
  /** Name of the dataset whose database answers queries. */
  readonly dataset: string;
  /** Model the database was built with. */
  readonly model: string;
  readonly rows: number;
  readonly cols: number;
  readonly codebookSize: number;
  readonly hasDecoder: boolean;
  /** The database's key parameters (what queries use). */
  readonly keys: KeyParams;
  readonly images: number;
  readonly entries: number;
}

export interface InspectorSettings {
  /** k: how many patches a query retrieves. */
  readonly topK: number;
  readonly excludeSelf: boolean;
  /** DAiD temperature T. */
  readonly temperature: number;
  readonly queryKeys: KeySource;
}

export type InspectorState = 'loading' | 'noDatabase' | 'building' | 'error' | 'ready';

export interface InspectorStatus {
  readonly state: InspectorState;
  /** What to tell the user (empty when ready). */
  readonly message: string;
  /** Offer a "Build Database" button. */
  readonly canBuild: boolean;
}

/** Which cells a retrieved patch's thumbnail shows (the patch and its surroundings). */
export interface CropWindow {
  readonly row: number;
  readonly col: number;
  readonly rows: number;
  readonly cols: number;
}

/** Overlaps an `overlapsResult` lists at most. */
export const MAX_OVERLAPS = 10;
/** Above this many images the inspector finds overlaps only when asked (the search runs in the engine worker, which also answers clicks). */
export const AUTO_OVERLAP_IMAGES = 5000;

/** An image the inspected one shares patch content with: a pair of a duplicate search the engine keeps. */
export interface InspectorOverlap {
  readonly searchId: number;
  readonly rank: number;
  /** The other image's dataset path (any characters: render as text). */
  readonly other: string;
  readonly score: number;
  readonly sharedCells: number;
  readonly identical: boolean;
}

/** Messages the host sends to the inspector webview. */
export type HostToInspector =
  /** Answer to `ready` (sent again after a build): the image, its database (null when none), settings and status. */
  | { type: 'init'; image: InspectorImage; database: InspectorDatabase | null; settings: InspectorSettings; status: InspectorStatus }
  /** What the host is doing, or why there is nothing to show (loading, no database, building, error). */
  | { type: 'status'; status: InspectorStatus }
  /** The token grid: tokens, latent-to-code distances, and each cell's x, y, width, height in image pixels (rows*cols*4). */
  | { type: 'grid'; width: number; height: number; rows: number; cols: number; inDatabase: boolean; tokens: Int32Array; distances: Float32Array; cells: Float32Array }
  /** The settings changed (k, exclude self, temperature, query keys). */
  | { type: 'settings'; settings: InspectorSettings }
  /** Select a patch and query it (the inspector was opened from a retrieved patch). */
  | { type: 'select'; row: number; col: number }
  /** Answer to `query`: the retrieved patches, nearest first (one column per field), and the DAiD distribution. */
  | {
      type: 'queryResult';
      inReplyTo: number;
      row: number;
      col: number;
      token: number;
      searchMs: number;
      images: string[];
      rows: Int32Array;
      cols: Int32Array;
      tokens: Int32Array;
      distances: Float32Array;
      daidTokens: Int32Array;
      daidP: Float32Array;
      /** Each retrieved patch's source caption ('' when it has none). */
      captions?: string[];
    }
  /** Answer to `crop`: a PNG of the patch's surroundings and the cells it shows. */
  | { type: 'cropResult'; inReplyTo: number; png: Uint8Array; window: CropWindow }
  /** Answer to `reconstruct`: the decoder's output for the token grid (PNG, model input size). */
  | { type: 'reconstruction'; inReplyTo: number; png: Uint8Array }
  /** Answer to `imagePixels`: the image file's bytes, or a PNG of it when the webview cannot decode its format. */
  | { type: 'imagePixels'; inReplyTo: number; bytes: Uint8Array; mime: BrowserImageMime }
  /** Light the cells this image shares with `other` (opened from a duplicate pair); row-major cell indices. */
  | { type: 'shared'; other: string; score: number; sharedCells: number; cells: Int32Array }
  /** Answer to `overlaps`: the images this one shares most content with, best first. */
  | { type: 'overlapsResult'; inReplyTo: number; overlaps: InspectorOverlap[] }
  /** Cells done of the rollout running (not an answer: `rolloutResult` is). */
  | { type: 'rolloutProgress'; done: number; total: number }
  /** Answer to `rollout`: per cell the tokens, the original's and each generated token's source (an index into `images`, -1 for none); per step the DAiD distribution; the copy indicators; the decoded rollout when the model has a decoder. */
  | ({ type: 'rolloutResult'; inReplyTo: number } & RolloutWire)
  /** A request failed: the error's class (NoDatabaseError, Timeout, ...) and message. */
  | { type: 'error'; inReplyTo: number; kind: string; message: string };

/** A rollout as the inspector receives it (see src/engine/rollout.ts, RolloutPayload). */
export interface RolloutWire {
  from: { row: number; col: number };
  rows: number;
  cols: number;
  mode: RolloutMode;
  k: number;
  tokens: Int32Array;
  original: Int32Array;
  images: string[];
  sourceImage: Int32Array;
  sourceRow: Int32Array;
  sourceCol: Int32Array;
  sourceDistance: Float32Array;
  stepStart: Int32Array;
  stepTokens: Int32Array;
  stepP: Float32Array;
  agreement: number;
  /** image: '' when nothing was generated. */
  topSource: { image: string; share: number };
  longestCopiedRun: { image: string; cells: number };
  generated: number;
  sourceCounts: { image: string; cells: number }[];
  elapsedMs: number;
  png?: Uint8Array;
}

/** Messages the inspector webview sends to the host. */
export type InspectorToHost =
  /** The webview has loaded and listens; answered by `init`. */
  | { type: 'ready' }
  /** Search the database with the key of patch (row, col); answered by `queryResult`. */
  | { type: 'query'; messageId: number; row: number; col: number; k: number; excludeSelf: boolean }
  /** Thumbnail of a retrieved patch's surroundings; answered by `cropResult`. */
  | { type: 'crop'; messageId: number; image: string; row: number; col: number }
  /** The decoder's reconstruction of this image; answered by `reconstruction`. */
  | { type: 'reconstruct'; messageId: number }
  /** This image's pixels when it has no `src` (outside the dataset folders, or TIFF); answered by `imagePixels`. */
  | { type: 'imagePixels'; messageId: number }
  /** Let the database generate the rest of the image from (row, col); answered by `rolloutResult`, with `rolloutProgress` meanwhile. */
  | { type: 'rollout'; messageId: number; row: number; col: number; mode: RolloutMode; seed: number; temperature: number; k: number; excludeSelf: boolean }
  /** Stop the rollout running (its request is answered with an error of kind RolloutCancelledError). */
  | { type: 'cancelRollout' }
  /** Open a dataset image (a retrieved patch's) in the inspector with that patch selected. */
  | { type: 'openPatch'; image: string; row: number; col: number }
  /** Build or update the database of this image's dataset. */
  | { type: 'build' }
  /** Load the grid again (the Retry button). */
  | { type: 'reload' }
  /** Show the Patch Lens log. */
  | { type: 'showLog' }
  /** The images this one overlaps most (a duplicate search of its database); answered by `overlapsResult`. */
  | { type: 'overlaps'; messageId: number }
  /** Open an overlap from `overlapsResult` side by side with this image. */
  | { type: 'openOverlap'; searchId: number; rank: number }
  /** Stop lighting the shared cells. */
  | { type: 'clearShared' }
  /** A line for the Patch Lens log (messages the webview rejected, failures in the webview). */
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

/** The answer type of each inspector request. */
export interface InspectorReplies {
  query: Extract<HostToInspector, { type: 'queryResult' }>;
  crop: Extract<HostToInspector, { type: 'cropResult' }>;
  reconstruct: Extract<HostToInspector, { type: 'reconstruction' }>;
  imagePixels: Extract<HostToInspector, { type: 'imagePixels' }>;
  overlaps: Extract<HostToInspector, { type: 'overlapsResult' }>;
  rollout: Extract<HostToInspector, { type: 'rolloutResult' }>;
}

/** The reply types of the inspector's requests, as a table (for HostConnection). */
export const INSPECTOR_REPLIES = { query: 'queryResult', crop: 'cropResult', reconstruct: 'reconstruction', imagePixels: 'imagePixels', rollout: 'rolloutResult', overlaps: 'overlapsResult' } as const;

const side = f.int(0, MAX_GRID_SIDE - 1);
const count = f.int(0, Number.MAX_SAFE_INTEGER);
const cells = MAX_GRID_SIDE * 64; // tensors of one grid; a 24x24 grid has 576 cells
const status: FieldSpec = f.object({ state: f.enum('loading', 'noDatabase', 'building', 'error', 'ready'), message: f.string(2000), canBuild: f.boolean() });
const settings: FieldSpec = f.object({ topK: f.int(1, MAX_K), excludeSelf: f.boolean(), temperature: f.number(1e-6, 1e6), queryKeys: f.enum(...KEY_SOURCES) });

export const hostToInspectorSchema: MessageSchemas<HostToInspector> = {
  init: {
    image: f.object({ name: f.string(1024), path: f.string(4096), src: f.string(8192), metadata: f.optional(f.list(f.object({ name: f.string(256), value: f.string(8192) }), 64)) }),
    database: f.nullable({
      dataset: f.string(1024),
      model: f.string(1024),
      rows: f.int(1, MAX_GRID_SIDE),
      cols: f.int(1, MAX_GRID_SIDE),
      codebookSize: f.int(1, 1 << 24),
      hasDecoder: f.boolean(),
      keys: f.object({ shape: f.enum(...KEY_SHAPES), hops: f.int(MIN_HOPS, MAX_HOPS), border: f.enum(...BORDERS), source: f.enum(...KEY_SOURCES) }),
      images: count,
      entries: count,
    }),
    settings,
    status,
  },
  status: { status },
  grid: {
    width: f.int(1, 1 << 20),
    height: f.int(1, 1 << 20),
    rows: f.int(1, MAX_GRID_SIDE),
    cols: f.int(1, MAX_GRID_SIDE),
    inDatabase: f.boolean(),
    tokens: f.typed('Int32Array', cells),
    distances: f.typed('Float32Array', cells),
    cells: f.typed('Float32Array', cells * 4),
  },
  settings: { settings },
  select: { row: side, col: side },
  queryResult: {
    inReplyTo: MESSAGE_ID,
    row: side,
    col: side,
    token: f.int(0, 1 << 24),
    searchMs: f.number(0),
    images: f.list(f.string(4096), MAX_K),
    rows: f.typed('Int32Array', MAX_K),
    cols: f.typed('Int32Array', MAX_K),
    tokens: f.typed('Int32Array', MAX_K),
    distances: f.typed('Float32Array', MAX_K),
    daidTokens: f.typed('Int32Array', MAX_K),
    daidP: f.typed('Float32Array', MAX_K),
    captions: f.optional(f.list(f.string(8192), MAX_K)),
  },
  cropResult: { inReplyTo: MESSAGE_ID, png: f.typed('Uint8Array', 16 << 20), window: f.object({ row: side, col: side, rows: f.int(1, MAX_GRID_SIDE), cols: f.int(1, MAX_GRID_SIDE) }) },
  reconstruction: { inReplyTo: MESSAGE_ID, png: f.typed('Uint8Array', 256 << 20) },
  imagePixels: { inReplyTo: MESSAGE_ID, bytes: f.typed('Uint8Array', 1 << 30), mime: f.enum(...BROWSER_MIMES) },
  shared: { other: f.string(4096), score: f.number(0, 1), sharedCells: count, cells: f.typed('Int32Array', cells) },
  overlapsResult: {
    inReplyTo: MESSAGE_ID,
    overlaps: f.list(f.object({ searchId: f.int(1, Number.MAX_SAFE_INTEGER), rank: count, other: f.string(4096), score: f.number(0, 1), sharedCells: count, identical: f.boolean() }), MAX_OVERLAPS),
  },
  rolloutProgress: { done: count, total: count },
  rolloutResult: {
    inReplyTo: MESSAGE_ID,
    from: f.object({ row: side, col: side }),
    rows: f.int(1, MAX_GRID_SIDE),
    cols: f.int(1, MAX_GRID_SIDE),
    mode: f.enum(...ROLLOUT_MODES),
    k: f.int(1, MAX_K),
    tokens: f.typed('Int32Array', cells),
    original: f.typed('Int32Array', cells),
    images: f.list(f.string(4096), cells),
    sourceImage: f.typed('Int32Array', cells),
    sourceRow: f.typed('Int32Array', cells),
    sourceCol: f.typed('Int32Array', cells),
    sourceDistance: f.typed('Float32Array', cells),
    stepStart: f.typed('Int32Array', cells + 1),
    stepTokens: f.typed('Int32Array', cells * 512),
    stepP: f.typed('Float32Array', cells * 512),
    agreement: f.number(0, 1),
    topSource: f.object({ image: f.string(4096), share: f.number(0, 1) }),
    longestCopiedRun: f.object({ image: f.string(4096), cells: count }),
    generated: count,
    sourceCounts: f.list(f.object({ image: f.string(4096), cells: count }), 64),
    elapsedMs: f.number(0),
    png: f.optional(f.typed('Uint8Array', 256 << 20)),
  },
  error: { inReplyTo: MESSAGE_ID, kind: f.string(200), message: f.string(4000) },
};

export const inspectorToHostSchema: MessageSchemas<InspectorToHost> = {
  ready: {},
  query: { messageId: MESSAGE_ID, row: side, col: side, k: f.int(1, MAX_K), excludeSelf: f.boolean() },
  crop: { messageId: MESSAGE_ID, image: f.string(4096), row: side, col: side },
  reconstruct: { messageId: MESSAGE_ID },
  imagePixels: { messageId: MESSAGE_ID },
  rollout: { messageId: MESSAGE_ID, row: side, col: side, mode: f.enum(...ROLLOUT_MODES), seed: f.int(0, 2 ** 31), temperature: f.number(1e-3, 1e6), k: f.int(1, MAX_K), excludeSelf: f.boolean() },
  cancelRollout: {},
  openPatch: { image: f.string(4096), row: side, col: side },
  build: {},
  reload: {},
  showLog: {},
  log: { level: f.enum('info', 'warn', 'error'), message: f.string(4000) },
  overlaps: { messageId: MESSAGE_ID },
  openOverlap: { searchId: f.int(1, Number.MAX_SAFE_INTEGER), rank: count },
  clearShared: {},
};

/**
 * Checks a queryResult beyond its fields' types: every column has one entry
 * per retrieved patch, and the distribution's columns match.
 */
export function queryResultConsistent(m: InspectorReplies['query']): string | undefined {
  const n = m.images.length;
  for (const [name, col] of [['rows', m.rows], ['cols', m.cols], ['tokens', m.tokens], ['distances', m.distances]] as const) {
    if (col.length !== n) return `queryResult.${name} has ${col.length} entries for ${n} images`;
  }
  if (m.captions && m.captions.length !== n) return `queryResult.captions has ${m.captions.length} entries for ${n} images`;
  if (m.daidTokens.length !== m.daidP.length) return `queryResult.daidP has ${m.daidP.length} entries for ${m.daidTokens.length} tokens`;
  return undefined;
}

/** Checks a rolloutResult beyond its fields' types: per-cell columns of rows x cols, sources inside `images`, steps that add up. */
export function rolloutResultConsistent(m: InspectorReplies['rollout']): string | undefined {
  const n = m.rows * m.cols;
  for (const [name, col] of [['tokens', m.tokens], ['original', m.original], ['sourceImage', m.sourceImage], ['sourceRow', m.sourceRow], ['sourceCol', m.sourceCol], ['sourceDistance', m.sourceDistance]] as const) {
    if (col.length !== n) return `rolloutResult.${name} has ${col.length} entries for ${m.rows}x${m.cols} cells`;
  }
  if (m.from.row >= m.rows || m.from.col >= m.cols) return `rolloutResult.from is outside the ${m.rows}x${m.cols} grid`;
  if (m.stepStart.length !== n - (m.from.row * m.cols + m.from.col) + 1) return `rolloutResult.stepStart has ${m.stepStart.length} entries for the steps from (${m.from.row}, ${m.from.col})`;
  if (m.stepTokens.length !== m.stepP.length || m.stepStart[m.stepStart.length - 1] !== m.stepTokens.length) return 'rolloutResult steps do not match their distributions';
  for (let i = 1; i < m.stepStart.length; i++) if (m.stepStart[i] < m.stepStart[i - 1]) return 'rolloutResult.stepStart decreases';
  for (const s of m.sourceImage) if (s < -1 || s >= m.images.length) return `rolloutResult.sourceImage refers to image ${s} of ${m.images.length}`;
  return undefined;
}

/** Checks a grid beyond its fields' types: the tensors' lengths match rows x cols. */
export function gridConsistent(m: Extract<HostToInspector, { type: 'grid' }>): string | undefined {
  const n = m.rows * m.cols;
  if (m.tokens.length !== n) return `grid.tokens has ${m.tokens.length} entries for ${m.rows}x${m.cols} cells`;
  if (m.distances.length !== n) return `grid.distances has ${m.distances.length} entries for ${m.rows}x${m.cols} cells`;
  if (m.cells.length !== n * 4) return `grid.cells has ${m.cells.length} numbers for ${m.rows}x${m.cols} cells (4 each)`;
  return undefined;
}

// =============================================================== Codebook view
// The side panel's "Codebook" webview view (webview/codebook,
// src/extension/sidePanel/codebookView.ts): the codes of a dataset's database
// by usage with their prototypes; a code's images and positions on request.

/** A dataset the codebook view can show. */
export interface CodebookDataset {
  /** Absolute dataset folder. */
  readonly root: string;
  /** Folder name (any characters: render as text). */
  readonly name: string;
  /** Whether it has a patch database. */
  readonly built: boolean;
}

/** The codebook of a dataset's database. */
export interface CodebookData {
  readonly root: string;
  /** Model name. */
  readonly model: string;
  readonly codebookSize: number;
  /** Prototype side in pixels. */
  readonly patch: number;
  /** Usage count per code over every indexed patch position (codebookSize values). */
  readonly counts: Uint32Array;
  /** Prototype pixels: codebookSize x patch x patch x RGB, the mean of the patches assigned to each code (zeros for unused codes). */
  readonly prototypes: Uint8Array;
  readonly images: number;
  /** Images removed or replaced since the prototypes were accumulated (still counted in them). */
  readonly staleImages: number;
  /** Database generation (changes with every build). */
  readonly generation: number;
}

/** An image that uses a token, and where. */
export interface CodebookTokenUse {
  /** Path relative to the dataset root, '/'-separated (any characters: render as text). */
  readonly image: string;
  readonly positions: readonly { readonly row: number; readonly col: number }[];
}

/** Messages the host sends to the codebook view. */
export type HostToCodebook =
  /** The datasets to choose from and the one shown (sent after `ready` and when the list changes). */
  | { type: 'datasets'; datasets: CodebookDataset[]; selected: string }
  /** The codebook of `root` is being loaded. */
  | { type: 'loading'; root: string }
  /** The codebook of the selected dataset. */
  | { type: 'codebook'; data: CodebookData }
  /** Nothing to show: no dataset, no database yet, a first build running, or an error. */
  | { type: 'empty'; root: string; reason: 'noDatasets' | 'none' | 'building' | 'error'; message: string }
  /** Answer to `tokenUses`: the images using the token (most uses first, at most TOKEN_USES_LIMIT) and the totals. */
  | { type: 'tokenUsesResult'; inReplyTo: number; token: number; uses: CodebookTokenUse[]; totalImages: number; totalPositions: number }
  /** Select a token and list its uses (from a palette command or the statistics). */
  | { type: 'focusToken'; token: number }
  /** A request failed: the error's class and message. */
  | { type: 'error'; inReplyTo: number; kind: string; message: string };

/** Messages the codebook view sends to the host. */
export type CodebookToHost =
  /** The view has loaded and listens; answered by `datasets` and the selected dataset's codebook. */
  | { type: 'ready' }
  /** Show another dataset's codebook. */
  | { type: 'selectDataset'; root: string }
  /** Load the shown codebook again. */
  | { type: 'refresh' }
  /** The images and positions that use `token` in dataset `root`; answered by `tokenUsesResult`. */
  | { type: 'tokenUses'; messageId: number; root: string; token: number }
  /** Open an image of dataset `root` in the inspector with patch (row, col) selected. */
  | { type: 'openPatch'; root: string; image: string; row: number; col: number }
  /** Build or update the database of dataset `root`. */
  | { type: 'build'; root: string };

/** The answer type of each codebook request. */
export interface CodebookReplies {
  tokenUses: Extract<HostToCodebook, { type: 'tokenUsesResult' }>;
}

/** Images a `tokenUsesResult` lists at most. */
export const TOKEN_USES_LIMIT = 500;
const MAX_CODES = 1 << 20;
const MAX_PROTOTYPE_SIDE = 32;
const position: FieldSpec = f.object({ row: side, col: side });

export const hostToCodebookSchema: MessageSchemas<HostToCodebook> = {
  datasets: { datasets: f.list(f.object({ root: f.string(4096), name: f.string(1024), built: f.boolean() }), 1000), selected: f.string(4096) },
  loading: { root: f.string(4096) },
  codebook: {
    data: f.object({
      root: f.string(4096),
      model: f.string(1024),
      codebookSize: f.int(1, MAX_CODES),
      patch: f.int(1, MAX_PROTOTYPE_SIDE),
      counts: f.typed('Uint32Array', MAX_CODES),
      prototypes: f.typed('Uint8Array', MAX_CODES * MAX_PROTOTYPE_SIDE * MAX_PROTOTYPE_SIDE * 3),
      images: count,
      staleImages: count,
      generation: count,
    }),
  },
  empty: { root: f.string(4096), reason: f.enum('noDatasets', 'none', 'building', 'error'), message: f.string(4000) },
  tokenUsesResult: {
    inReplyTo: MESSAGE_ID,
    token: f.int(0, MAX_CODES - 1),
    uses: f.list(f.object({ image: f.string(4096), positions: f.list(position, MAX_GRID_SIDE * MAX_GRID_SIDE) }), TOKEN_USES_LIMIT),
    totalImages: count,
    totalPositions: count,
  },
  focusToken: { token: f.int(0, MAX_CODES - 1) },
  error: { inReplyTo: MESSAGE_ID, kind: f.string(200), message: f.string(4000) },
};

export const codebookToHostSchema: MessageSchemas<CodebookToHost> = {
  ready: {},
  selectDataset: { root: f.string(4096) },
  refresh: {},
  tokenUses: { messageId: MESSAGE_ID, root: f.string(4096), token: f.int(0, MAX_CODES - 1) },
  openPatch: { root: f.string(4096), image: f.string(4096), row: side, col: side },
  build: { root: f.string(4096) },
};

/** Checks a codebook beyond its fields' types: counts and prototypes sized for codebookSize. */
export function codebookConsistent(m: HostToCodebook): string | undefined {
  if (m.type !== 'codebook') return undefined;
  const d = m.data;
  if (d.counts.length !== d.codebookSize) return `codebook.counts has ${d.counts.length} entries for ${d.codebookSize} codes`;
  if (d.prototypes.length !== d.codebookSize * d.patch * d.patch * 3) return `codebook.prototypes has ${d.prototypes.length} bytes for ${d.codebookSize} codes of ${d.patch}x${d.patch} RGB`;
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

/** A finished search as the view shows it. */
export interface DuplicateResults {
  readonly searchId: number;
  /** The dataset searched (its folder name) and, for leaks, the other database's name ('' otherwise). */
  readonly dataset: string;
  readonly against: string;
  /** Pairs kept to page through, and how many qualified. */
  readonly pairs: number;
  readonly totalPairs: number;
  /** Cells per image (the score's denominator). */
  readonly cells: number;
  readonly images: number;
  readonly distinctWindows: number;
  readonly commonWindows: number;
  readonly elapsedMs: number;
  readonly window: number;
  /** The near distance used, or -1 for exact windows only. */
  readonly near: number;
}

/** Messages the host sends to the duplicates view. */
export type HostToDuplicates =
  /** The datasets to choose from and the one selected (after `ready` and when the list changes). */
  | { type: 'datasets'; datasets: CodebookDataset[]; selected: string }
  /** A search is running: its phase and progress. */
  | { type: 'progress'; phase: FindPhase; done: number; total: number }
  /** A search finished: what was searched and the totals; pages come with `page`. */
  | { type: 'results'; results: DuplicateResults }
  /** Nothing to show: no dataset, no database, idle, cancelled, or an error. */
  | { type: 'empty'; reason: 'noDatasets' | 'none' | 'idle' | 'cancelled' | 'error'; message: string }
  /** Answer to `page`: ranked pairs (the engine's DuplicateSummary; paths dataset-relative, any characters: render as text). */
  | { type: 'pageResult'; inReplyTo: number; searchId: number; offset: number; pairs: DuplicateSummary[] }
  /** Answer to `thumbnail`: the model's view of one side of a pair, as PNG. */
  | { type: 'thumbnailResult'; inReplyTo: number; png: Uint8Array }
  /** A request failed: the error's class and message. */
  | { type: 'error'; inReplyTo: number; kind: string; message: string };

/** Messages the duplicates view sends to the host. */
export type DuplicatesToHost =
  /** The view has loaded and listens; answered by `datasets` and the last results. */
  | { type: 'ready' }
  /** Choose the dataset to search. */
  | { type: 'selectDataset'; root: string }
  /** Find the pairs of images of dataset `root` that share content (window side; near distance or -1). */
  | { type: 'find'; root: string; window: number; near: number }
  /** Run "Find Leaks Against…" for dataset `root` (the host asks for the other database). */
  | { type: 'findLeaks'; root: string; window: number; near: number }
  /** Cancel the running search. */
  | { type: 'cancel' }
  /** A page of a search's pairs; answered by `pageResult`. */
  | { type: 'page'; messageId: number; searchId: number; offset: number }
  /** The thumbnail of one side of a pair; answered by `thumbnailResult`. */
  | { type: 'thumbnail'; messageId: number; searchId: number; rank: number; side: 'a' | 'b' }
  /** Open both images of a pair side by side in the inspector, shared cells lit. */
  | { type: 'openPair'; searchId: number; rank: number };

/** The answer type of each duplicates request. */
export interface DuplicatesReplies {
  page: Extract<HostToDuplicates, { type: 'pageResult' }>;
  thumbnail: Extract<HostToDuplicates, { type: 'thumbnailResult' }>;
}
export const DUPLICATES_REPLIES = { page: 'pageResult', thumbnail: 'thumbnailResult' } as const;

const searchIdSpec = f.int(1, Number.MAX_SAFE_INTEGER);
const nearSpec = f.number(-1, 1e6);
const windowSpec = f.int(1, MAX_DUPLICATE_WINDOW);

export const hostToDuplicatesSchema: MessageSchemas<HostToDuplicates> = {
  datasets: { datasets: f.list(f.object({ root: f.string(4096), name: f.string(1024), built: f.boolean() }), 1000), selected: f.string(4096) },
  progress: { phase: f.enum(...FIND_PHASES), done: count, total: count },
  results: {
    results: f.object({
      searchId: searchIdSpec,
      dataset: f.string(1024),
      against: f.string(1024),
      pairs: count,
      totalPairs: count,
      cells: count,
      images: count,
      distinctWindows: count,
      commonWindows: count,
      elapsedMs: f.number(0, 1e12),
      window: windowSpec,
      near: nearSpec,
    }),
  },
  empty: { reason: f.enum('noDatasets', 'none', 'idle', 'cancelled', 'error'), message: f.string(4000) },
  pageResult: {
    inReplyTo: MESSAGE_ID,
    searchId: searchIdSpec,
    offset: count,
    pairs: f.list(f.object({ rank: count, a: f.string(4096), b: f.string(4096), score: f.number(0, 1), sharedCells: count, identical: f.boolean() }), DUPLICATES_PAGE),
  },
  thumbnailResult: { inReplyTo: MESSAGE_ID, png: f.typed('Uint8Array', 1 << 22) },
  error: { inReplyTo: MESSAGE_ID, kind: f.string(200), message: f.string(4000) },
};

export const duplicatesToHostSchema: MessageSchemas<DuplicatesToHost> = {
  ready: {},
  selectDataset: { root: f.string(4096) },
  find: { root: f.string(4096), window: windowSpec, near: nearSpec },
  findLeaks: { root: f.string(4096), window: windowSpec, near: nearSpec },
  cancel: {},
  page: { messageId: MESSAGE_ID, searchId: searchIdSpec, offset: count },
  thumbnail: { messageId: MESSAGE_ID, searchId: searchIdSpec, rank: count, side: f.enum('a', 'b') },
  openPair: { searchId: searchIdSpec, rank: count },
};
