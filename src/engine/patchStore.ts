// What the engine reads a patch database through, whichever backend holds it:
// the local HNSW database (database.ts) or a Lance database on disk or object
// storage (lanceDatabase.ts). Image records and the entry layout are in memory
// for both; searching may be asynchronous (Lance), so callers await it.

import type { DbImage, DbManifest } from '../core/dbManifest';
import type { KeySource } from '../core/vocabulary';
import type { LabelFilter, SearchHit } from './patchIndex';
import type { OpenCheck } from './integrity';

export type { LabelFilter, SearchHit };

/** The nearest-entry search of a store: HNSW answers at once, Lance with a promise. */
export interface StoreIndex {
  readonly dim: number;
  /** Live entries. */
  readonly size: number;
  /** The k nearest entries, nearest first; a Lance index needs a filter made by excludeImages. */
  search(query: Readonly<Float32Array>, k: number, filter?: LabelFilter): SearchHit[] | Promise<SearchHit[]>;
  /** HNSW's search beam width (absent on Lance, whose knobs are nprobes and the refine factor). */
  getEf?(): number;
  setEf?(ef: number): void;
}

export interface ImageRecord {
  readonly tokens: Int32Array;
  readonly distances: Float32Array;
  readonly latents: Float32Array;
}

export interface StoreCodes {
  readonly patch: number;
  readonly sums: Float32Array;
  readonly counts: Uint32Array;
  readonly codebook: Float32Array;
}

export type StoreBackend = 'hnsw' | 'lance';

/** A patch database opened for reading. Labels are firstLabel + entry of DbImage (entries row-major over the entry range). */
export interface PatchStore {
  readonly backend: StoreBackend;
  /** Folder or URI. */
  readonly dir: string;
  readonly manifest: DbManifest;
  readonly imageIndex: ReadonlyMap<string, number>;
  readonly index: StoreIndex;
  readonly checked: OpenCheck;
  readonly damage: Error | undefined;
  readonly model: DbManifest['model'];
  readonly keys: DbManifest['keys'];
  readonly entryCount: number;
  readonly keyDim: number;
  readonly codebook: Float32Array;
  assertIntact(): void;
  verifyContents(signal?: AbortSignal): Promise<Error | undefined>;
  image(i: number): DbImage;
  record(i: number): ImageRecord;
  locate(label: number): { image: number; row: number; col: number } | undefined;
  sourceGrid(i: number, source: KeySource): Float32Array;
  /** The exact (brute-force or flat) search over the same keys. */
  exactIndex(): StoreIndex;
  keyAt(grid: Readonly<Float32Array>, row: number, col: number): Float32Array;
  codes(): StoreCodes;
  diskBytes(): number;
  /** Releases what the store holds open (connections); HNSW holds nothing. */
  close?(): void;
}

/** A label filter that leaves out the entries of some images (by index); Lance turns `images` into its where clause. */
export type ImageExclusion = LabelFilter & { readonly excluded: readonly number[] };

export function excludeImages(store: Pick<PatchStore, 'image'>, images: readonly number[]): ImageExclusion {
  const ranges = images.map((i) => [store.image(i).firstLabel, store.image(i).firstLabel + store.image(i).entries] as const).sort((a, b) => a[0] - b[0]);
  const keep = (label: number) => {
    let lo = 0;
    let hi = ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (ranges[mid][0] <= label) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi < 0 || label >= ranges[hi][1];
  };
  return Object.assign(keep, { excluded: [...images] });
}
