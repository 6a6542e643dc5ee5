// The recall–speed curve of bench:index --curve: Patch Lens's HNSW along ef
// for one or more graphs, beside FAISS IndexHNSWFlat's on the same keys, and
// how far each is from the moonshot of issue #18 (recall@10 >= 0.99 at the
// speed FAISS HNSW reaches 0.95 with).

import { squaredL2 } from '../../src/core/quantize';

/** A graph to build: M, efConstruction, and the insertion order (the memory layout). */
export interface CurveGraph {
  readonly m: number;
  readonly efConstruction: number;
  readonly order: 'input' | 'cluster';
}

/** Parses "16/100,32/100,16/100c" (a trailing c: clustered insertion order). */
export function parseGraphs(v: string): CurveGraph[] {
  return v.split(',').map((s) => {
    const m = /^(\d+)\/(\d+)(c?)$/.exec(s.trim());
    if (!m) throw new Error(`--curve-graphs: expected M/efConstruction[c], got ${JSON.stringify(s)}`);
    return { m: Number(m[1]), efConstruction: Number(m[2]), order: m[3] ? 'cluster' : 'input' };
  });
}

export const graphName = (g: CurveGraph) => `M=${g.m} efC=${g.efConstruction}${g.order === 'cluster' ? ' clustered order' : ''}`;

/**
 * An insertion order that puts keys near in space near in memory: a few
 * rounds of k-means (seeded sample) and the keys sorted by their centroid,
 * stable within one. hnswlib stores each key with its level-0 links at its
 * insertion slot, so a search's hops land on fewer distinct cache lines/pages.
 */
export function clusterOrder(keys: Float32Array, dim: number, centroids: number, rounds = 4, seed = 7): Uint32Array {
  const n = keys.length / dim;
  const c = Math.min(centroids, n);
  let state = seed >>> 0;
  const rand = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const cent = new Float32Array(c * dim);
  for (let j = 0; j < c; j++) {
    const i = Math.floor(rand() * n);
    cent.set(keys.subarray(i * dim, (i + 1) * dim), j * dim);
  }
  const sample = Math.min(n, 64 * c);
  const step = n / sample;
  const nearest = (i: number): number => {
    let best = 0;
    let bd = Infinity;
    for (let j = 0; j < c; j++) {
      const d = squaredL2(keys, i * dim, cent, j * dim, dim);
      if (d < bd) {
        bd = d;
        best = j;
      }
    }
    return best;
  };
  for (let r = 0; r < rounds; r++) {
    const sum = new Float64Array(c * dim);
    const cnt = new Uint32Array(c);
    for (let s = 0; s < sample; s++) {
      const i = Math.floor(s * step);
      const j = nearest(i);
      cnt[j]++;
      for (let d = 0; d < dim; d++) sum[j * dim + d] += keys[i * dim + d];
    }
    for (let j = 0; j < c; j++) if (cnt[j]) for (let d = 0; d < dim; d++) cent[j * dim + d] = sum[j * dim + d] / cnt[j];
  }
  const assign = new Uint32Array(n);
  for (let i = 0; i < n; i++) assign[i] = nearest(i);
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  return order.sort((a, b) => assign[a] - assign[b] || a - b);
}

export interface CurvePoint {
  readonly ef: number;
  readonly qps1: number;
  readonly qps1Cpu: number;
  readonly recall10: number;
}

/** The fastest point (per CPU-second: robust to other load) with recall@10 >= target. */
export function fastestAt<T extends CurvePoint>(sweep: readonly T[], target: number): T | undefined {
  return sweep.filter((p) => p.recall10 >= target).sort((a, b) => b.qps1Cpu - a.qps1Cpu)[0];
}
