// The database manifest: the one file that says what a patch database holds.
// It is replaced atomically at the end of a build, so it always names a
// complete set of files (each with its size and SHA-256).

import { KEY_SHAPES, type KeyParams } from './vocabulary';

export const DB_FORMAT = 'patchlens.db/v1';
/** A database whose index has a delta (DbIndexDelta): older readers, which would miss it, refuse it. */
export const DB_FORMAT_DELTA = 'patchlens.db/v2';

export { MANIFEST_FILE } from './vocabulary';

export interface DbFileRef {
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
}

export interface DbSegment extends DbFileRef {
  /** Bytes still referenced by live images (for compaction). */
  readonly liveBytes: number;
}

export interface DbImage {
  /** Relative to the dataset root, '/'-separated. */
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly mtimeMs: number;
  /** Oriented size in pixels. */
  readonly width: number;
  readonly height: number;
  readonly format: string;
  /** Index into segments, and byte offset of this image's record there. */
  readonly segment: number;
  readonly offset: number;
  /** Labels firstLabel .. firstLabel + entries - 1 in the index are this image's entries, row-major. */
  readonly firstLabel: number;
  readonly entries: number;
}

export interface DbFailure {
  readonly path: string;
  readonly bytes: number;
  readonly mtimeMs: number;
  readonly error: string;
}

export interface DbModel {
  readonly name: string;
  readonly fingerprint: string;
  readonly manifestPath: string;
  readonly rows: number;
  readonly cols: number;
  readonly dim: number;
  readonly codebookSize: number;
  readonly inputWidth: number;
  readonly inputHeight: number;
  readonly resize: string;
}

/** How a Lance database searches: IVF-PQ with re-ranking on the full keys, or flat (exact) while it has no vector index. */
export interface LanceSearchParams {
  /** IVF partitions of the vector index (0: none yet, every search is flat). */
  readonly partitions: number;
  readonly subVectors: number;
  /** Partitions searched, and candidates re-ranked per result (refine factor). */
  readonly nprobes: number;
  readonly refineFactor: number;
}

export interface DbIndexInfo extends DbFileRef {
  readonly kind: 'hnsw' | 'lance';
  /** A Lance database's search settings (kind lance). */
  readonly lance?: LanceSearchParams;
  readonly m: number;
  readonly efConstruction: number;
  readonly ef: number;
  readonly keyDim: number;
  /** Live entries (the base's and the delta's). */
  readonly entries: number;
  /** Entries added and base entries removed since the index file (the base) was written. */
  readonly delta?: DbIndexDelta;
}

/** A small HNSW index beside the base: updates write it instead of the whole index. */
export interface DbIndexDelta extends DbFileRef {
  /** Labels from this one on are in the delta, below it in the base. */
  readonly firstLabel: number;
  /** Live entries in the delta file. */
  readonly entries: number;
  /** Live entries in the base file as it was written. */
  readonly baseEntries: number;
  /** Base entries removed since, as [first label, count] ranges. */
  readonly baseRemoved: readonly (readonly [number, number])[];
}

/** The codes file: per-code pixel sums (f32, K x patch x patch x 3), counts (u32, K), codebook (f32, K x d). */
export interface DbPrototypes extends DbFileRef {
  /** Each prototype is patch x patch RGB. */
  readonly patch: number;
  /** Images removed or replaced since the prototypes were accumulated (still counted in them). */
  readonly staleImages: number;
}

export interface DbBuildSummary {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly elapsedMs: number;
  readonly added: number;
  readonly updated: number;
  readonly removed: number;
  readonly unchanged: number;
  readonly failed: number;
}

export interface DbManifest {
  readonly format: typeof DB_FORMAT | typeof DB_FORMAT_DELTA;
  readonly generation: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Absolute path of the dataset folder the image paths are relative to. */
  readonly root: string;
  readonly model: DbModel;
  readonly keys: KeyParams;
  readonly index: DbIndexInfo;
  readonly prototypes: DbPrototypes;
  readonly segments: readonly DbSegment[];
  readonly nextLabel: number;
  readonly images: readonly DbImage[];
  readonly failed: readonly DbFailure[];
  readonly lastBuild: DbBuildSummary;
}

/** Bytes of one image's record in a segment: tokens (int32), distances (float32), latents (float32 x d). */
export function recordBytes(rows: number, cols: number, dim: number): number {
  return rows * cols * 4 * (2 + dim);
}

export class DbFormatError extends Error {
  override name = 'DbFormatError';
}

/** Structural checks of a parsed manifest (files are checked by the engine). */
export function validateDbManifest(raw: unknown): DbManifest {
  const m = raw as DbManifest;
  const fail = (msg: string): never => {
    throw new DbFormatError(msg);
  };
  if (typeof raw !== 'object' || raw === null) fail('manifest is not an object');
  if (m.format !== DB_FORMAT && m.format !== DB_FORMAT_DELTA)
    fail(`unsupported database format ${JSON.stringify(m.format)} (this version reads ${DB_FORMAT} and ${DB_FORMAT_DELTA})`);
  if (!Number.isInteger(m.generation) || m.generation < 1) fail('bad generation');
  if (typeof m.root !== 'string') fail('missing dataset root');
  if (!m.model || typeof m.model.fingerprint !== 'string') fail('missing model');
  if (!m.keys || !(KEY_SHAPES as readonly string[]).includes(m.keys.shape)) fail('missing key parameters');
  if (!m.index || typeof m.index.file !== 'string') fail('missing index');
  const d = m.index.delta;
  if (d !== undefined) {
    if (m.format !== DB_FORMAT_DELTA) fail(`an index delta needs format ${DB_FORMAT_DELTA}`);
    if (
      typeof d.file !== 'string' ||
      !Number.isInteger(d.firstLabel) ||
      !Number.isInteger(d.entries) ||
      !Number.isInteger(d.baseEntries) ||
      !Array.isArray(d.baseRemoved)
    )
      fail('bad index delta');
    if (
      !d.baseRemoved.every(
        (r) => Array.isArray(r) && r.length === 2 && Number.isInteger(r[0]) && Number.isInteger(r[1]) && r[1] > 0 && r[0] >= 0 && r[0] + r[1] <= d.firstLabel,
      )
    )
      fail('bad index delta removals');
  }
  if (!m.prototypes || typeof m.prototypes.file !== 'string') fail('missing prototypes');
  if (!Array.isArray(m.segments) || !Array.isArray(m.images) || !Array.isArray(m.failed)) fail('missing image lists');
  const rb = recordBytes(m.model.rows, m.model.cols, m.model.dim);
  for (const img of m.images) {
    const seg = m.segments[img.segment];
    if (!seg || img.offset < 0 || img.offset + rb > seg.bytes) fail(`image ${img.path} points outside its segment`);
  }
  return m;
}

/** Whether two key parameter sets build the same database. */
export function sameKeys(a: KeyParams, b: KeyParams): boolean {
  return a.shape === b.shape && a.hops === b.hops && a.border === b.border && a.source === b.source;
}
