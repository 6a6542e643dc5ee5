// A search thread for the all-threads QPS figures: loads its own copy of the
// Patch Lens index (hnswlib-node objects cannot be shared between threads),
// then searches its share of the queries when told to start.

import { parentPort, workerData } from 'node:worker_threads';
import { ExactPatchIndex, HnswPatchIndex, type PatchIndex } from '../../src/engine/patchIndex';

export interface SearchWorkerData {
  readonly kind: 'hnsw' | 'exact';
  readonly dim: number;
  /** hnsw: the saved index file. */
  readonly file?: string;
  readonly entries: number;
  /** exact: the keys ([entries * dim] float32, shared). */
  readonly keys?: SharedArrayBuffer;
  readonly queries: SharedArrayBuffer;
}

export type SearchWorkerRequest = { type: 'run'; ef: number; k: number; from: number; to: number };
export type SearchWorkerResponse = { type: 'ready' } | { type: 'done'; ms: number; labels: Float64Array };

const data = workerData as SearchWorkerData;
const port = parentPort!;
let index: PatchIndex;
if (data.kind === 'hnsw') {
  index = HnswPatchIndex.load(data.file!, data.dim, 64, data.entries);
} else {
  const ex = new ExactPatchIndex(data.dim, data.entries);
  const labels = Float64Array.from({ length: data.entries }, (_, i) => i);
  ex.add(new Float32Array(data.keys!), labels);
  index = ex;
}
const queries = new Float32Array(data.queries);
port.postMessage({ type: 'ready' } satisfies SearchWorkerResponse);
port.on('message', (m: SearchWorkerRequest) => {
  if (m.type !== 'run') return;
  if (index instanceof HnswPatchIndex) index.setEf(m.ef);
  const labels = new Float64Array((m.to - m.from) * m.k).fill(-1);
  const t0 = performance.now();
  for (let q = m.from; q < m.to; q++) {
    const hits = index.search(queries.subarray(q * data.dim, (q + 1) * data.dim), m.k);
    for (let j = 0; j < hits.length; j++) labels[(q - m.from) * m.k + j] = hits[j].label;
  }
  const ms = performance.now() - t0;
  port.postMessage({ type: 'done', ms, labels } satisfies SearchWorkerResponse, [labels.buffer]);
});
