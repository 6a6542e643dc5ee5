// The domain vocabulary: every value set Patch Lens knows, declared once.
// The CLI's choices and help, settings parsing, the wire schema, the
// webviews' option lists and package.json's enums, `when` clauses and
// editor selectors derive from these (package.json through
// `npm run vocabulary`; test/unit/vocabulary.test.ts says when it is stale).
// Pure: imported by the engine, the extension host, the CLI and the webviews.

/** Neighbourhood shapes of a key: the already generated neighbours (AR-RAG for Janus-Pro), or the full square. */
export const KEY_SHAPES = ['causal', 'ring'] as const;
export type NeighbourhoodShape = (typeof KEY_SHAPES)[number];

/** What happens where a neighbourhood leaves the grid: no entry (AR-RAG), or zero vectors. */
export const BORDERS = ['skip', 'zero'] as const;
export type BorderMode = (typeof BORDERS)[number];

/** Where key vectors come from: encoder latents before quantisation, or the codebook vectors of the tokens. */
export const KEY_SOURCES = ['latent', 'code'] as const;
export type KeySource = (typeof KEY_SOURCES)[number];

/** Hops h of a neighbourhood: MIN_HOPS..MAX_HOPS. */
export const MIN_HOPS = 1;
export const MAX_HOPS = 3;
/** Every valid h, smallest first (option lists). */
export const HOPS: readonly number[] = Array.from({ length: MAX_HOPS - MIN_HOPS + 1 }, (_, i) => MIN_HOPS + i);

/** Display names, for option lists. A Record, so a new value without a label does not compile. */
export const KEY_SHAPE_LABELS: Readonly<Record<NeighbourhoodShape, string>> = { causal: 'Causal', ring: 'Ring' };

export interface KeyParams {
  readonly shape: NeighbourhoodShape;
  readonly hops: number;
  readonly border: BorderMode;
  /** Where the neighbour vectors come from: encoder latents or the codebook vectors of their tokens. */
  readonly source: KeySource;
}

/** AR-RAG's keys for Janus-Pro: causal, h = 1, borders skipped, from the latents. */
export const DEFAULT_KEYS: KeyParams = { shape: 'causal', hops: 1, border: 'skip', source: 'latent' };

/** One line for logs and messages: `causal h=1 border=skip keys=latent`. */
export function describeKeyParams(p: KeyParams): string {
  return `${p.shape} h=${p.hops} border=${p.border} keys=${p.source}`;
}

/** Largest k a query retrieves (AR-RAG: 2048), and the default. */
export const MAX_K = 2048;
export const DEFAULT_K = 20;

/** How a rollout picks a generated cell's token: the nearest hit's, or one drawn from DAiD's distribution. */
export const ROLLOUT_MODES = ['greedy', 'sample'] as const;
export type RolloutMode = (typeof ROLLOUT_MODES)[number];

/** Where the extension keeps a dataset's database: inside the dataset folder, or in its global storage. */
export const DATABASE_LOCATIONS = ['dataset', 'storage'] as const;
export type DatabaseLocation = (typeof DATABASE_LOCATIONS)[number];

/**
 * Image files the engine reads, by extension (lower case), with their MIME
 * type and whether a webview (Chromium) decodes them itself; the others are
 * converted to PNG by the engine for display.
 */
export const IMAGE_TYPES = {
  '.png': { mime: 'image/png', browser: true },
  '.jpg': { mime: 'image/jpeg', browser: true },
  '.jpeg': { mime: 'image/jpeg', browser: true },
  '.webp': { mime: 'image/webp', browser: true },
  '.gif': { mime: 'image/gif', browser: true },
  '.tif': { mime: 'image/tiff', browser: false },
  '.tiff': { mime: 'image/tiff', browser: false },
  '.bmp': { mime: 'image/bmp', browser: true },
  '.avif': { mime: 'image/avif', browser: true },
} as const satisfies Record<`.${string}`, { readonly mime: `image/${string}`; readonly browser: boolean }>;
export type ImageExtension = keyof typeof IMAGE_TYPES;
export type BrowserImageMime = {
  [E in ImageExtension]: (typeof IMAGE_TYPES)[E]['browser'] extends true ? (typeof IMAGE_TYPES)[E]['mime'] : never;
}[ImageExtension];

/** The database folder a dataset gets (`<dataset>/.patchlens`). */
export const DATABASE_FOLDER = '.patchlens';
/** The file a database commits by replacing, and the one that says a database exists. */
export const MANIFEST_FILE = 'manifest.json';
/** Held by the one build running. */
export const LOCK_FILE = 'lock';
/** Keeps a database's binaries out of git: a `.gitignore` holding `*`, written with the first commit. */
export const GITIGNORE_FILE = '.gitignore';

/** The files of one database generation. */
export const GENERATION_FILES = {
  /** Image records: tokens, code distances, latents. */
  segment: (generation: number) => `seg-${generation}.bin`,
  /** The HNSW index over all entries' keys. */
  index: (generation: number) => `index-${generation}.hnsw`,
  /** Per-code pixel sums and counts (prototypes). */
  codes: (generation: number) => `codes-${generation}.bin`,
  /** The entries an update added, beside the index of an earlier generation. */
  delta: (generation: number) => `delta-${generation}.hnsw`,
} as const;

/** Any generation's file name (the names GENERATION_FILES makes). */
export const GENERATION_FILE_PATTERN = /^(seg|index|codes|delta)-\d+\.(bin|hnsw)$/;

/** Database backends: the local HNSW one (default) and Lance (a folder or object storage, many builders). */
export const DATABASE_BACKENDS = ['hnsw', 'lance'] as const;
export type DatabaseBackend = (typeof DATABASE_BACKENDS)[number];

/** The tables of a Lance database. */
export const LANCE_TABLES = { meta: 'meta', images: 'images', entries: 'entries', codes: 'codes' } as const;

/** Results a user can export: a query's retrieved patches and DAiD distribution, codebook statistics, retrieval predictability. */
export const EXPORT_KINDS = ['retrieved', 'daid', 'codebook', 'predictability'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];
/** File formats of an export (CSV for spreadsheets, JSON for notebooks). */
export const EXPORT_FORMATS = ['csv', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
