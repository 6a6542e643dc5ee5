// Duplicates and leaks over patch databases: the token grids are streamed
// from a database's image records one at a time into the window hashing of
// src/core/duplicates; near mode adds the entries whose keys lie within a
// squared distance of each other, found through the database's index.

import { sameKeys } from '../core/dbManifest';
import { checkAborted, findDuplicates, type FindOptions, type FindResult, type TokenImage, type TokenSource } from '../core/duplicates';
import { imageKeys } from '../core/neighbourhood';
import { DatabaseError } from './database';
import { excludeImages, type PatchStore } from './patchStore';

/** Neighbours looked at per entry in near mode. */
export const NEAR_NEIGHBOURS = 16;

/** The token grids of a database's images, read through its image records. */
export function databaseTokens(db: PatchStore): TokenSource {
  const { rows, cols } = db.model;
  const count = db.manifest.images.length;
  return {
    rows,
    cols,
    count,
    *images(): Iterable<TokenImage> {
      for (let i = 0; i < count; i++) {
        const img = db.image(i);
        yield { path: img.path, sha256: img.sha256, tokens: db.record(i).tokens };
      }
    },
  };
}

export interface DatabaseDuplicateOptions extends Omit<FindOptions, 'extra'> {
  /** Also pair entries whose keys lie within this squared L2 distance. */
  readonly near?: number;
  /** Neighbours searched per entry in near mode. */
  readonly nearNeighbours?: number;
}

/**
 * Pairs of images of `db` sharing patch content, or with `against`, pairs of
 * one image of `db` and one of `against` (never two of one database).
 */
export async function databaseDuplicates(db: PatchStore, against: PatchStore | undefined, opts: DatabaseDuplicateOptions = {}): Promise<FindResult> {
  if (against) {
    if (against.model.fingerprint !== db.model.fingerprint) {
      throw new DatabaseError(
        `the two databases were built with different tokenizers (${db.model.name} [${db.model.fingerprint}] and ${against.model.name} [${against.model.fingerprint}]), so their tokens cannot be compared`,
        'Build both with the same model',
      );
    }
    if (opts.near !== undefined && (!sameKeys(db.keys, against.keys) || db.keyDim !== against.keyDim)) {
      throw new DatabaseError(
        'the two databases have different key parameters, so --near cannot compare their keys',
        'Build both with the same --hops, --shape, --border and --keys, or leave out --near',
      );
    }
  }
  const sources = against ? [databaseTokens(db), databaseTokens(against)] : [databaseTokens(db)];
  const near = opts.near;
  if (near !== undefined && !(near >= 0 && Number.isFinite(near))) throw new RangeError(`the near distance must be a non-negative number, got ${near}`);
  return findDuplicates(sources, {
    ...opts,
    extra: near === undefined ? undefined : (record) => nearPairs(db, against, near, opts.nearNeighbours ?? NEAR_NEIGHBOURS, record, opts),
  });
}

/** Entries of db within `eps` of an entry of another image (of `against` when given), through the index. */
async function nearPairs(
  db: PatchStore,
  against: PatchStore | undefined,
  eps: number,
  k: number,
  record: (ia: number, ca: number, ib: number, cb: number) => void,
  opts: Pick<FindOptions, 'signal' | 'onProgress'>,
): Promise<void> {
  const target = against ?? db;
  const offset = against ? db.manifest.images.length : 0;
  const { rows, cols, dim } = db.model;
  const keyDim = db.keyDim;
  const n = db.manifest.images.length;
  const query = new Float32Array(keyDim);
  for (let i = 0; i < n; i++) {
    checkAborted(opts.signal);
    const img = db.image(i);
    const keys = imageKeys(db.sourceGrid(i, db.keys.source), rows, cols, dim, db.keys);
    const filter = against ? undefined : excludeImages(db, [i]);
    for (let e = 0; e < img.entries; e++) {
      query.set(keys.keys.subarray(e * keyDim, (e + 1) * keyDim));
      for (const hit of await target.index.search(query, k, filter)) {
        if (hit.distance > eps) continue;
        const at = target.locate(hit.label);
        if (!at) continue;
        record(i, keys.rows[e] * cols + keys.cols[e], offset + at.image, at.row * cols + at.col);
      }
    }
    opts.onProgress?.({ phase: 'near', done: i + 1, total: n });
  }
}
