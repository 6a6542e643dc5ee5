// Messages between the extension host (EngineClient) and the engine worker
// thread that owns databases, models and builds. Requests are answered by a
// response with the same id; builds also send progress events. `model`, where
// a request takes one, is the manifest used to tokenize images that are not in
// the database (default: the one the database was built with).

import type { DatabaseStats, Predictability, RolloutStatistic } from './stats';
import type { RolloutOptions, RolloutPayload } from './rollout';
import type { BuildOptions, BuildProgress, BuildResult } from './indexer';
import type { QueryOptions, QueryResult, TokenGrid } from './retrieval';
import type { KeyParams } from '../core/neighbourhood';
import type { FindProgress, FindStats } from '../core/duplicates';
import type { FidelityReport } from './fidelity';
import type { CellWindow } from '../core/geometry';
import type { StoreBackend } from './patchStore';
import type { DatabaseBackend } from '../core/vocabulary';

/** What a database holds, for lists and status views. */
export interface DbSummary {
  readonly dbDir: string;
  readonly root: string;
  readonly generation: number;
  readonly updatedAt: string;
  readonly model: {
    name: string;
    fingerprint: string;
    manifestPath: string;
    rows: number;
    cols: number;
    dim: number;
    codebookSize: number;
    hasDecoder: boolean;
  };
  readonly keys: KeyParams;
  readonly backend: StoreBackend;
  /** `lance`: the IVF-PQ search settings (partitions 0: no vector index yet, every search flat). */
  readonly index: {
    m: number;
    efConstruction: number;
    ef: number;
    keyDim: number;
    lance?: { partitions: number; subVectors: number; nprobes: number; refineFactor: number };
  };
  readonly images: number;
  readonly entries: number;
  readonly diskBytes: number;
  readonly failed: readonly { path: string; error: string }[];
  readonly lastBuild: { finishedAt: string; elapsedMs: number; added: number; updated: number; removed: number };
}

export interface DbImageInfo {
  readonly path: string;
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
  readonly mtimeMs: number;
}

/** A token grid without its latents; the typed arrays are transferred, not copied. */
export type GridPayload = Omit<TokenGrid, 'latents'>;

/** A thumbnail: a PNG of a block of an image's cells, and which cells those are. */
export interface PatchThumbnail {
  readonly png: Uint8Array;
  readonly window: CellWindow;
}

export interface TokenUse {
  readonly image: string;
  readonly positions: readonly { row: number; col: number }[];
}

export interface CodebookPayload {
  readonly codebookSize: number;
  readonly patch: number;
  /** Usage count per code over all indexed cells. */
  readonly counts: Uint32Array;
  /** Prototype pixels, K x patch x patch x 3, 8-bit (zeros for unused codes). */
  readonly prototypes: Uint8Array;
  readonly staleImages: number;
}

export interface DuplicateSearchParams {
  readonly dbDir: string;
  /** Compare with this database only (a test set against a training set). */
  readonly against?: string;
  readonly window?: number;
  readonly minShared?: number;
  readonly near?: number;
  readonly maxBucket?: number;
}

/** A ranked pair without its cells (those come with `duplicateCells`). */
export interface DuplicateSummary {
  readonly rank: number;
  readonly a: string;
  readonly b: string;
  readonly score: number;
  readonly sharedCells: number;
  readonly identical: boolean;
}

export interface DuplicateSearch {
  /** Names the result kept in the worker for paging. */
  readonly searchId: number;
  readonly dbDir: string;
  readonly against?: string;
  readonly rows: number;
  readonly cols: number;
  /** Pairs kept (at most DUPLICATE_RESULT_LIMIT), and how many qualified. */
  readonly pairs: number;
  readonly totalPairs: number;
  readonly stats: FindStats;
  readonly elapsedMs: number;
}

/** Pairs a duplicate search keeps for paging through. */
export const DUPLICATE_RESULT_LIMIT = 10_000;

/** Each request type with its parameters and its result. */
export interface EngineRequests {
  /** Summary of the database in dbDir, or null when there is none. */
  summary: { params: { dbDir: string }; result: DbSummary | null };
  /** All indexed images. */
  images: { params: { dbDir: string }; result: DbImageInfo[] };
  /** Token grid of an image (from the database, or tokenized now). */
  grid: { params: { dbDir: string; image: string; model?: string }; result: GridPayload };
  /** k nearest entries of a patch and the DAiD distribution. */
  query: { params: { dbDir: string; image: string; row: number; col: number; options: QueryOptions; model?: string }; result: QueryResult };
  /** Codebook statistics; retrieval predictability when asked. */
  stats: {
    params: {
      dbDir: string;
      predictability?: { fraction: number; seed?: number; k?: number; maxQueries?: number };
      rollout?: { fraction: number; seed?: number; k?: number };
    };
    result: DatabaseStats & { predictability?: Predictability; rollout?: RolloutStatistic };
  };
  /** The database generates the rest of an image from a cell (`steps` events carry the request id; `cancel` stops it); `png` is the decoded rollout when asked and the model has a decoder. */
  rollout: {
    params: { dbDir: string; image: string; options: RolloutOptions; model?: string; decode?: boolean };
    result: RolloutPayload & { png?: Uint8Array };
  };
  /** Images (and positions) that use a token. */
  tokenUses: { params: { dbDir: string; token: number; limit?: number }; result: TokenUse[] };
  /** Usage counts and prototypes of every code. */
  codebook: { params: { dbDir: string }; result: CodebookPayload };
  /**
   * A thumbnail of an image, `size` pixels square: the cells around `cell` (the 3x3, or the (2 reach + 1)² of an h-hop
   * neighbourhood; shifted inside the grid at its borders), or without a cell all the cells the model sees.
   */
  thumbnail: {
    params: { dbDir: string; image: string; cell?: { row: number; col: number }; reach?: number; size: number; model?: string };
    result: PatchThumbnail;
  };
  /** A crop of an image around a rectangle, as PNG bytes. */
  /** A square PNG of `size` from a rectangle of an image; `imageSize`: the size `rect` is measured in, for a code row's token map (it has no pixels of its own). */
  crop: {
    params: { file: string; rect: { x: number; y: number; width: number; height: number }; size: number; imageSize?: { width: number; height: number } };
    result: Uint8Array;
  };
  /** The bytes of an image by absolute path: a file, or a member of an archive on the way (…/0.tar/a.jpg). */
  readImage: { params: { file: string }; result: Uint8Array };
  /** An archive (a folder), a folder inside one or a member (a file), by absolute path; null for anything else. */
  statArchivePath: { params: { file: string }; result: { type: 'file' | 'folder'; size: number; mtimeMs: number } | null };
  /** The entries of an archive or of a folder inside one. */
  readArchiveDir: { params: { file: string }; result: { name: string; type: 'file' | 'folder' }[] };
  /**
   * One page of an archive in a dataset (or of a folder inside it, `prefix`) for the Datasets view:
   * folders first, then images; the member index is built once (kept with the database when it exists).
   * `total`: entries at this level; `images`: images at and below it; `error`: the archive could not be read.
   */
  archivePage: {
    params: { root: string; dbDir: string; archive: string; prefix: string; offset: number; limit: number; include?: string[]; exclude?: string[] };
    result: { total: number; images: number; mtimeMs: number; entries: { name: string; folder: boolean; bytes: number; images: number }[]; error?: string };
  };
  /** Metadata (caption, prompt, category, JSON fields) of dataset images by id; null where there is none. */
  metadata: { params: { dbDir: string; images: string[] }; result: (Record<string, string> | null)[] };
  /** The model's reconstruction of an image's token grid, as PNG bytes (model input size). */
  reconstruct: { params: { dbDir: string; image: string; model?: string }; result: Uint8Array };
  /** Builds or updates a database; progress events carry the request id. A Lance one when `backend` says so, `dbDir` is an object-store URI or a folder holding Lance tables. */
  build: { params: Omit<BuildOptions, 'signal' | 'onProgress' | 'log'> & { backend?: DatabaseBackend }; result: BuildResult };
  /** Deletes a database (refused while a build holds its lock); the bytes freed. */
  clearDatabase: { params: { dbDir: string }; result: number };
  /**
   * A database named by the settings: its storage options (`key=value`: credentials from SecretStorage, endpoint, region; over the
   * AWS_* or AZURE_* environment variables) and the dataset folder its images are read from on this machine (a shared database records its
   * builder's). Kept in the worker's memory only; an open database is reopened with them.
   */
  storageOptions: { params: { dbDir: string; options: readonly string[]; root?: string }; result: boolean };
  /** Ranks the database's image pairs by shared patch content (or its leaks into `against`); searchProgress events carry the request id. */
  duplicates: { params: DuplicateSearchParams; result: DuplicateSearch };
  /** What a kept search was over. */
  duplicateSearch: { params: { searchId: number }; result: DuplicateSearch };
  /** A page of a search's ranked pairs. */
  duplicatePage: { params: { searchId: number; offset: number; count: number }; result: DuplicateSummary[] };
  /** The shared cells of one ranked pair: [cell in a, cell in b, ...], row-major indices. */
  duplicateCells: { params: { searchId: number; rank: number }; result: { pair: DuplicateSummary; cells: Int32Array } };
  /** The images an image of a database overlaps most (a default search of the database, kept while it is current). */
  overlaps: { params: { dbDir: string; image: string; limit?: number }; result: { searchId: number; pairs: DuplicateSummary[] } };
  /** Recall of the index against exact search on the database's own keys, its curve, and AR-RAG's OPQ+IVF+PQ8 on the same keys (`steps` events carry the phase; `cancel` stops it). */
  fidelity: { params: { dbDir: string; queries?: number; k?: number }; result: FidelityReport };
  /** Cancels the build, duplicate search, rollout or rollout statistic started by request `buildId`. */
  cancel: { params: { buildId: number }; result: boolean };
  /** Checks that the native modules load in the worker; returns their versions. */
  ping: { params: Record<string, never>; result: { onnxruntime: string; sharp: string; hnswlib: boolean } };
}

export type EngineMethod = keyof EngineRequests;

export type EngineRequest = { [M in EngineMethod]: { id: number; method: M; params: EngineRequests[M]['params'] } }[EngineMethod];

export type EngineMessage =
  /** The answer to request `id`. */
  | { type: 'response'; id: number; result: unknown }
  /** Request `id` failed; `name` is the error class (ManifestError, DatabaseError, ...). */
  | { type: 'error'; id: number; name: string; message: string }
  /** Progress of the build started by request `id`. */
  | { type: 'progress'; id: number; progress: BuildProgress }
  /** Steps done of the rollout (or images of the rollout statistic) started by request `id`. */
  | { type: 'steps'; id: number; done: number; total: number; phase?: string }
  /** Progress of the duplicate search started by request `id`. */
  | { type: 'searchProgress'; id: number; progress: FindProgress }
  /** A log line of the build started by request `id`. */
  | { type: 'log'; id: number; line: string };
