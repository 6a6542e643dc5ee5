// The patch index: nearest entries of a key by squared L2. One interface for
// the approximate HNSW index (hnswlib-node) and the exact brute-force search
// every approximate answer is measured against; a later backend (a distributed
// vector engine) implements the same interface.

import * as fs from 'node:fs';
import { HierarchicalNSW } from 'hnswlib-node';

export interface SearchHit {
  readonly label: number;
  /** Squared L2 distance. */
  readonly distance: number;
  /** The entry's token, where the index stores it (Lance's entries table): no image record is read for it. */
  readonly token?: number;
}

/** Labels to keep; an index may call it many times per search. */
export type LabelFilter = (label: number) => boolean;

export interface PatchIndex {
  readonly kind: 'hnsw' | 'exact';
  readonly dim: number;
  /** Live (not removed) entries. */
  readonly size: number;
  /** Adds n keys ([n * dim]) under the given labels. */
  add(keys: Readonly<Float32Array>, labels: ArrayLike<number>): void;
  remove(labels: Iterable<number>): void;
  /** The k nearest live entries, nearest first. */
  search(query: Readonly<Float32Array>, k: number, filter?: LabelFilter): SearchHit[];
}

export interface HnswParams {
  /** Graph degree (hnswlib M). */
  readonly m: number;
  readonly efConstruction: number;
  /** Search beam width (raised to k when k is larger). */
  readonly ef: number;
  readonly seed?: number;
}

// efConstruction 100: half the insert cost of 200 for the same recall on real patch keys (docs/benchmarks.md).
export const DEFAULT_HNSW: HnswParams = { m: 16, efConstruction: 100, ef: 64 };

export class HnswPatchIndex implements PatchIndex {
  readonly kind = 'hnsw';
  private live: number;
  private readonly point: number[];

  private constructor(
    private readonly index: HierarchicalNSW,
    readonly dim: number,
    private ef: number,
    live: number,
  ) {
    this.live = live;
    this.point = new Array<number>(dim).fill(0);
  }

  static create(dim: number, capacity: number, params: HnswParams): HnswPatchIndex {
    const index = new HierarchicalNSW('l2', dim);
    index.initIndex({
      maxElements: Math.max(16, capacity),
      m: params.m,
      efConstruction: params.efConstruction,
      randomSeed: params.seed ?? 100,
      allowReplaceDeleted: true,
    });
    index.setEf(params.ef);
    return new HnswPatchIndex(index, dim, params.ef, 0);
  }

  /**
   * Reads an index file written by save(); `live` is the number of entries not
   * removed. The patched loader (patches/hnswlib-node+3.0.0.patch) maps the
   * file's level 0 copy-on-write instead of reading it, and refuses a file cut
   * short or whose header disagrees with `dim`.
   */
  static load(file: string, dim: number, ef: number, live: number): HnswPatchIndex {
    const index = new HierarchicalNSW('l2', dim);
    index.readIndexSync(file, true);
    index.setEf(ef);
    return new HnswPatchIndex(index, dim, ef, live);
  }

  get size(): number {
    return this.live;
  }

  /** The search beam width set now. */
  getEf(): number {
    return this.ef;
  }

  setEf(ef: number): void {
    this.ef = ef;
    this.index.setEf(ef);
  }

  add(keys: Readonly<Float32Array>, labels: ArrayLike<number>): void {
    const n = labels.length;
    if (keys.length !== n * this.dim) throw new RangeError(`expected ${n * this.dim} key values, got ${keys.length}`);
    const needed = this.index.getCurrentCount() + n;
    if (needed > this.index.getMaxElements()) this.index.resizeIndex(Math.max(needed, Math.ceil(this.index.getMaxElements() * 1.5)));
    const p = this.point;
    for (let i = 0; i < n; i++) {
      // hnswlib-node takes plain arrays; reuse one to avoid an allocation per point.
      for (let k = 0; k < this.dim; k++) p[k] = keys[i * this.dim + k];
      this.index.addPoint(p, labels[i], true);
    }
    this.live += n;
  }

  remove(labels: Iterable<number>): void {
    for (const l of labels) {
      this.index.markDelete(l);
      this.live--;
    }
  }

  search(query: Readonly<Float32Array>, k: number, filter?: LabelFilter): SearchHit[] {
    if (query.length !== this.dim) throw new RangeError(`expected a query of ${this.dim} values, got ${query.length}`);
    const kk = Math.min(k, this.live);
    if (kk <= 0) return [];
    if (kk > this.ef) this.index.setEf(kk);
    // hnswlib-node reads a plain array element by element; reuse one (as add does) instead of Array.from.
    const p = this.point;
    for (let i = 0; i < this.dim; i++) p[i] = query[i];
    const res = this.index.searchKnn(p, kk, filter);
    if (kk > this.ef) this.index.setEf(this.ef);
    return res.neighbors.map((label, i) => ({ label, distance: res.distances[i] }));
  }

  /** Writes the index to a file and flushes it to disk; throws if the file did not come out complete. */
  save(file: string): void {
    this.index.writeIndexSync(file);
    const fd = fs.openSync(file, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    checkHnswFile(file);
  }

  /** Slots in the graph, removed entries included (they are reused by later adds). */
  get slots(): number {
    return this.index.getCurrentCount();
  }
}

/**
 * Checks that an hnswlib index file is complete by walking its layout (the
 * same walk hnswlib's loader does): a 96-byte header, cur_element_count x
 * size_data_per_element bytes of level 0, then per element a uint32 size and
 * that many bytes of upper-level links, ending exactly at the end of the file.
 * hnswlib writes with an unchecked std::ofstream, so a full disk or a quota
 * leaves a short file and no error; this turns that into one (code EIO).
 */
export function checkHnswFile(file: string): void {
  const fail = (why: string): never => {
    throw Object.assign(new Error(`the index file ${file} was not written completely (${why})`), { code: 'EIO' });
  };
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(96);
    if (fs.readSync(fd, head, 0, 96, 0) !== 96) fail(`${size} bytes, not even a header`);
    const count = Number(head.readBigUInt64LE(16));
    const perElement = Number(head.readBigUInt64LE(24));
    let pos = 96 + count * perElement;
    if (pos > size) fail(`${size} bytes, level 0 needs ${pos}`);
    const buf = Buffer.alloc(1 << 20);
    let bufStart = 0;
    let bufLen = 0;
    for (let i = 0; i < count; i++) {
      if (pos + 4 > size) fail(`${size} bytes, the links of element ${i} of ${count} are missing`);
      if (pos < bufStart || pos + 4 > bufStart + bufLen) {
        bufStart = pos;
        bufLen = fs.readSync(fd, buf, 0, buf.length, pos);
      }
      pos += 4 + buf.readUInt32LE(pos - bufStart);
    }
    if (pos !== size) fail(`${size} bytes, expected ${pos}`);
  } finally {
    fs.closeSync(fd);
  }
}

export { ExactPatchIndex } from './exactPatchIndex';
