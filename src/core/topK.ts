// The k smallest (distance, id) pairs seen: a bounded max-heap, for exact and
// approximate searches alike.

/** A bounded max-heap of (distance, id) pairs, compared lexicographically (ties: the lower id). */
export class TopK {
  readonly d: Float64Array;
  readonly s: Float64Array;
  size = 0;

  constructor(readonly k: number) {
    this.d = new Float64Array(k);
    this.s = new Float64Array(k);
  }

  /** Whether (d, slot) would enter: the heap is not full, or it precedes the worst kept. */
  admits(d: number, slot: number): boolean {
    return this.size < this.k || d < this.d[0] || (d === this.d[0] && slot < this.s[0]);
  }

  push(d: number, slot: number): void {
    const hd = this.d;
    const hs = this.s;
    if (this.size < this.k) {
      let c = this.size++;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (hd[p] > d || (hd[p] === d && hs[p] > slot)) break;
        hd[c] = hd[p];
        hs[c] = hs[p];
        c = p;
      }
      hd[c] = d;
      hs[c] = slot;
      return;
    }
    const n = this.size;
    let c = 0;
    for (;;) {
      const a = 2 * c + 1;
      if (a >= n) break;
      const b = a + 1;
      const m = b < n && (hd[b] > hd[a] || (hd[b] === hd[a] && hs[b] > hs[a])) ? b : a;
      if (hd[m] < d || (hd[m] === d && hs[m] < slot)) break;
      hd[c] = hd[m];
      hs[c] = hs[m];
      c = m;
    }
    hd[c] = d;
    hs[c] = slot;
  }

  /** The k-th distance once full, else Infinity. */
  get worst(): number {
    return this.size === this.k ? this.d[0] : Infinity;
  }
}
