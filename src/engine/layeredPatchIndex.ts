// The HNSW index of a database as a base and a delta: an update adds its
// entries to a small delta index and records which base entries it removed,
// so it writes the delta's file and not the whole index again. Searches ask
// both and merge; once the delta (or what it removed from the base) grows
// past a share of the base, the next update folds it into a new base.

import { HnswPatchIndex, type HnswParams, type LabelFilter, type PatchIndex, type SearchHit } from './patchIndex';

/** Labels first .. first + count - 1. */
export type LabelRange = readonly [first: number, count: number];

/** Past this share of the base (delta entries plus removed base entries), an update writes a new base. */
export const DELTA_SHARE = 0.1;

export class LayeredPatchIndex implements PatchIndex {
  readonly kind = 'hnsw';
  private readonly removedBase: [number, number][];
  private removedBaseCount: number;

  constructor(
    readonly base: HnswPatchIndex,
    /** Entries with labels from deltaFirstLabel on live here. */
    private deltaIndex: HnswPatchIndex | undefined,
    /** Labels below this are the base's, from it on the delta's. */
    readonly deltaFirstLabel: number,
    /** Base entries removed since the base file was written (still marked only in memory). */
    removedBase: readonly LabelRange[],
    private readonly params: HnswParams,
  ) {
    this.removedBase = removedBase.map(([f, c]) => [f, c]);
    this.removedBaseCount = removedBase.reduce((a, r) => a + r[1], 0);
  }

  get dim(): number {
    return this.base.dim;
  }

  get size(): number {
    return this.base.size + (this.deltaIndex?.size ?? 0);
  }

  get delta(): HnswPatchIndex | undefined {
    return this.deltaIndex;
  }

  /** Base entries removed since the base was written, as label ranges. */
  get baseRemovals(): readonly LabelRange[] {
    return this.removedBase;
  }

  /** Whether the delta and the base's removals are small enough to keep the base file as it is. */
  fitsDelta(moreEntries: number): boolean {
    const slots = this.base.slots;
    return (this.deltaIndex?.slots ?? 0) + moreEntries + this.removedBaseCount <= DELTA_SHARE * slots;
  }

  /** The delta to write (an empty one when the update only removed entries). */
  deltaForSave(): HnswPatchIndex {
    if (!this.deltaIndex) this.deltaIndex = HnswPatchIndex.create(this.dim, 16, this.params);
    return this.deltaIndex;
  }

  /** The search beam width set now. */
  getEf(): number {
    return this.base.getEf();
  }

  setEf(ef: number): void {
    this.base.setEf(ef);
    this.deltaIndex?.setEf(ef);
  }

  add(keys: Readonly<Float32Array>, labels: ArrayLike<number>): void {
    for (let i = 0; i < labels.length; i++) if (labels[i] < this.deltaFirstLabel) throw new RangeError(`label ${labels[i]} belongs to the base index`);
    if (!this.deltaIndex) this.deltaIndex = HnswPatchIndex.create(this.dim, Math.max(1024, labels.length), this.params);
    this.deltaIndex.add(keys, labels);
  }

  remove(labels: Iterable<number>): void {
    const toDelta: number[] = [];
    for (const l of labels) {
      if (l >= this.deltaFirstLabel) {
        toDelta.push(l);
        continue;
      }
      this.base.remove([l]);
      this.removedBaseCount++;
      const last = this.removedBase[this.removedBase.length - 1];
      if (last && last[0] + last[1] === l) last[1]++;
      else this.removedBase.push([l, 1]);
    }
    if (toDelta.length) this.deltaIndex!.remove(toDelta);
  }

  search(query: Readonly<Float32Array>, k: number, filter?: LabelFilter): SearchHit[] {
    const a = this.base.search(query, k, filter);
    if (!this.deltaIndex || this.deltaIndex.size === 0) return a;
    const b = this.deltaIndex.search(query, k, filter);
    const out: SearchHit[] = [];
    let i = 0;
    let j = 0;
    while (out.length < k && (i < a.length || j < b.length)) {
      const takeA = j >= b.length || (i < a.length && (a[i].distance < b[j].distance || (a[i].distance === b[j].distance && a[i].label < b[j].label)));
      out.push(takeA ? a[i++] : b[j++]);
    }
    return out;
  }
}
