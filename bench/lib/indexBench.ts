// The Node side of the index benchmarks: Patch Lens's HNSW index
// (HnswPatchIndex over hnswlib-node) and its exact search (ExactPatchIndex) on
// the same keys and queries: build time, queries per second on one thread and
// on all threads, recall@10 / recall@100 against exact search, bytes per entry.
// Recall counts a returned entry as correct when its exact distance is within
// the true k-th nearest distance (ties between equal keys are not errors).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { spawnSync } from 'node:child_process';
import { HierarchicalNSW } from 'hnswlib-node';
import { ExactPatchIndex, HnswPatchIndex, type HnswParams, type PatchIndex } from '../../src/engine/patchIndex';
import { ROOT, cpuMs, now, settle, sig, startBenchWorker } from './common';
import { squaredL2 } from '../../src/core/quantize';
import type { SearchWorkerData, SearchWorkerRequest, SearchWorkerResponse } from './searchWorker';

export interface KeySet {
  readonly keys: Float32Array;
  readonly dim: number;
  readonly queries: Float32Array;
}

export const entriesOf = (s: KeySet) => s.keys.length / s.dim;
export const queriesOf = (s: KeySet) => s.queries.length / s.dim;

/** Squared L2 in float64 between key i and query q. */
const dist64 = (s: KeySet, i: number, q: number): number => squaredL2(s.keys, i * s.dim, s.queries, q * s.dim, s.dim);

/**
 * recall@k of `labels` ([nq * width], -1 for missing, first k used) against
 * ground-truth ids ([nq * gtK], exact nearest first), over queries 0..nq-1.
 */
export function recallAt(s: KeySet, labels: ArrayLike<number>, width: number, gt: ArrayLike<number>, gtK: number, k: number, nq: number): number {
  let found = 0;
  for (let q = 0; q < nq; q++) {
    const dk = dist64(s, gt[q * gtK + k - 1], q);
    const tol = dk + 1e-5 * (1 + dk);
    for (let j = 0; j < k; j++) {
      const l = labels[q * width + j];
      if (l >= 0 && dist64(s, l, q) <= tol) found++;
    }
  }
  return found / (nq * k);
}

/** A set of search threads over one index, for all-threads QPS. */
class SearchThreads {
  private constructor(private readonly workers: Worker[]) {}

  static async start(n: number, data: SearchWorkerData): Promise<SearchThreads> {
    const workers = Array.from({ length: n }, () => startBenchWorker('searchWorker', data));
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            w.once('message', (m: SearchWorkerResponse) => (m.type === 'ready' ? resolve() : reject(new Error('unexpected message'))));
            w.once('error', reject);
          }),
      ),
    );
    return new SearchThreads(workers);
  }

  /** Wall ms to search queries 0..nq-1 split across the threads, and the labels found. */
  async run(nq: number, k: number, ef: number): Promise<{ ms: number; labels: Float64Array }> {
    const n = this.workers.length;
    const labels = new Float64Array(nq * k);
    const t0 = now();
    await Promise.all(
      this.workers.map(
        (w, i) =>
          new Promise<void>((resolve, reject) => {
            const from = Math.floor((i * nq) / n);
            const to = Math.floor(((i + 1) * nq) / n);
            w.once('message', (m: SearchWorkerResponse) => {
              if (m.type !== 'done') return reject(new Error('unexpected message'));
              labels.set(m.labels, from * k);
              resolve();
            });
            w.postMessage({ type: 'run', ef, k, from, to } satisfies SearchWorkerRequest);
          }),
      ),
    );
    return { ms: now() - t0, labels };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function shared(a: Float32Array): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(a.byteLength);
  new Float32Array(sab).set(a);
  return sab;
}

/** Searches queries 0..nq-1 one by one; returns the wall ms and labels ([nq * k], -1 padded). */
function searchAll(index: PatchIndex, s: KeySet, nq: number, k: number): { ms: number; cpuMs: number; labels: Float64Array } {
  const labels = new Float64Array(nq * k).fill(-1);
  const dim = s.dim;
  const c0 = process.cpuUsage();
  const t0 = now();
  for (let q = 0; q < nq; q++) {
    const hits = index.search(s.queries.subarray(q * dim, (q + 1) * dim), k);
    for (let j = 0; j < hits.length; j++) labels[q * k + j] = hits[j].label;
  }
  const ms = now() - t0;
  return { ms, cpuMs: cpuMs(process.cpuUsage(c0)), labels };
}

/**
 * Resident memory that loading an index file adds, measured in a fresh
 * process (as PatchDatabase.open loads it: readIndexSync with replace-deleted on).
 */
export function indexFileMemory(file: string, dim: number): number {
  const script = `const { HierarchicalNSW } = require('hnswlib-node');
const r0 = process.memoryUsage().rss;
const i = new HierarchicalNSW('l2', ${dim});
i.readIndexSync(${JSON.stringify(file)}, true);
console.log(process.memoryUsage().rss - r0);`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`measuring the index's memory failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}

export interface ExactResult {
  /** Queries timed (exact search is slow at 1M: a subset). */
  queries: number;
  buildSec: number;
  qps1: number;
  /** Queries per CPU-second on one thread: less sensitive to other load on the machine than qps1. */
  qps1Cpu: number;
  qpsAll?: number;
  threads: number;
  /** Keys (float32) and labels (float64) held in memory. */
  bytesPerEntry: number;
  /** Agreement with the ground truth given (recall@10 / @100 of exact search itself, 1 when consistent). */
  recall10?: number;
  recall100?: number;
}

/** Exact search: ground truth ([nq * gtK] labels) for the first `nq` queries, and its own speed. */
export async function runExact(
  s: KeySet,
  nq: number,
  gtK: number,
  threads: number,
  given?: { ids: ArrayLike<number>; k: number },
): Promise<{ result: ExactResult; gt: Float64Array }> {
  const n = entriesOf(s);
  await settle();
  const t0 = now();
  const ex = new ExactPatchIndex(s.dim, n);
  ex.add(
    s.keys,
    Float64Array.from({ length: n }, (_, i) => i),
  );
  const buildSec = (now() - t0) / 1000;
  const { ms, cpuMs: cms, labels } = searchAll(ex, s, nq, gtK);
  const result: ExactResult = {
    queries: nq,
    buildSec: sig(buildSec),
    qps1: sig(nq / (ms / 1000)),
    qps1Cpu: sig(nq / (cms / 1000)),
    threads,
    bytesPerEntry: s.dim * 4 + 8,
  };
  if (threads > 1) {
    const pool = await SearchThreads.start(threads, {
      kind: 'exact',
      dim: s.dim,
      entries: n,
      keys: shared(s.keys),
      queries: shared(s.queries.subarray(0, nq * s.dim)),
    });
    try {
      const r = await pool.run(nq, gtK, 0);
      result.qpsAll = sig(nq / (r.ms / 1000));
    } finally {
      await pool.close();
    }
  }
  if (given) {
    result.recall10 = sig(recallAt(s, labels, gtK, given.ids, given.k, 10, nq), 4);
    if (gtK >= 100 && given.k >= 100) result.recall100 = sig(recallAt(s, labels, gtK, given.ids, given.k, 100, nq), 4);
  }
  return { result, gt: labels };
}

export interface SweepPoint {
  ef: number;
  /** k = 10, one thread, one query at a time. */
  qps1: number;
  /** The same per CPU-second (robust to other load). */
  qps1Cpu: number;
  /** k = 10, all threads (one index copy per thread). */
  qpsAll?: number;
  recall10: number;
  /** k = 100 (ef raised to 100 where lower). */
  recall100?: number;
  qps1At100?: number;
}

export interface HnswResult {
  params: HnswParams;
  buildSec: number;
  /** CPU seconds of the build (one thread: hnswlib-node inserts on the calling thread). */
  buildCpuSec: number;
  buildEntriesPerSec: number;
  /** Share of the build spent copying each Float32Array key into the plain array hnswlib-node takes. */
  conversionShare: number;
  conversionUsPerEntry: number;
  /** Index file bytes / entries (what a database stores and hnswlib loads). */
  bytesPerEntryDisk: number;
  /** Resident memory added by loading the index file, per entry (hnswlib's label map and locks included). */
  bytesPerEntryMemory: number;
  threads: number;
  sweep: SweepPoint[];
}

export interface HnswRunOptions {
  readonly params: HnswParams;
  readonly efs: readonly number[];
  readonly gt: { ids: ArrayLike<number>; k: number };
  readonly threads: number;
  /** Also search with k = 100 for recall@100. */
  readonly k100: boolean;
  /** Entries per add() call (the indexer adds one image's entries at a time). */
  readonly chunk: number;
  /**
   * Insertion order (key i of the set is inserted as the order.indexOf(i)-th,
   * keeping label i): hnswlib lays keys and links out by insertion, so this
   * is the memory layout of the graph. Default: the set's order.
   */
  readonly order?: Uint32Array;
  readonly log?: (line: string) => void;
}

export async function runHnsw(s: KeySet, opts: HnswRunOptions): Promise<HnswResult> {
  const log = opts.log ?? (() => {});
  const n = entriesOf(s);
  const nq = queriesOf(s);
  const dim = s.dim;
  await settle();
  const index = HnswPatchIndex.create(dim, n, opts.params);
  const order = opts.order;
  const labels = Float64Array.from({ length: n }, (_, i) => (order ? order[i] : i));
  // Keys gathered in insertion order before the clock starts: the build times the inserts alone.
  let keys = s.keys;
  if (order) {
    keys = new Float32Array(s.keys.length);
    for (let i = 0; i < n; i++) keys.set(s.keys.subarray(order[i] * dim, (order[i] + 1) * dim), i * dim);
  }
  const c0 = process.cpuUsage();
  const t0 = now();
  for (let i = 0; i < n; i += opts.chunk) {
    const j = Math.min(n, i + opts.chunk);
    index.add(keys.subarray(i * dim, j * dim), labels.subarray(i, j));
  }
  const buildMs = now() - t0;
  const buildCpu = cpuMs(process.cpuUsage(c0));
  // The per-point copy the build does, alone.
  const p = new Array<number>(dim).fill(0);
  let sink = 0;
  const tc = now();
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < dim; k++) p[k] = s.keys[i * dim + k];
    sink += p[i % dim];
  }
  const convMs = now() - tc;
  if (sink === 0.123456) log('');
  log(
    `  HNSW M=${opts.params.m} efConstruction=${opts.params.efConstruction}: built ${n} entries in ${(buildMs / 1000).toFixed(1)} s (${(buildCpu / 1000).toFixed(1)} CPU s)`,
  );

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'patchlens-bench-index-'));
  const file = path.join(dir, 'index.hnsw');
  let pool: SearchThreads | undefined;
  try {
    index.save(file);
    const bytesDisk = fs.statSync(file).size;
    const bytesMem = indexFileMemory(file, dim) / n;
    if (opts.threads > 1) pool = await SearchThreads.start(opts.threads, { kind: 'hnsw', dim, file, entries: n, queries: shared(s.queries) });
    const sweep: SweepPoint[] = [];
    for (const ef of opts.efs) {
      index.setEf(ef);
      searchAll(index, s, Math.min(nq, 100), 10); // warm
      // Best of three passes (CPU time): one pass of 1000 queries is only tens of ms.
      const passes = [searchAll(index, s, nq, 10), searchAll(index, s, nq, 10), searchAll(index, s, nq, 10)];
      const r10 = passes.reduce((a, b) => (b.cpuMs < a.cpuMs ? b : a));
      const point: SweepPoint = {
        ef,
        qps1: sig(nq / (r10.ms / 1000)),
        qps1Cpu: sig(nq / (r10.cpuMs / 1000)),
        recall10: sig(recallAt(s, r10.labels, 10, opts.gt.ids, opts.gt.k, 10, nq), 4),
      };
      if (pool) {
        const rAll = await pool.run(nq, 10, ef);
        point.qpsAll = sig(nq / (rAll.ms / 1000));
      }
      if (opts.k100 && opts.gt.k >= 100) {
        const r100 = searchAll(index, s, nq, 100);
        point.recall100 = sig(recallAt(s, r100.labels, 100, opts.gt.ids, opts.gt.k, 100, nq), 4);
        point.qps1At100 = sig(nq / (r100.ms / 1000));
      }
      sweep.push(point);
      log(
        `  ef=${ef}: ${point.qps1} QPS (1 thread; ${point.qps1Cpu} per CPU-s)${point.qpsAll ? `, ${point.qpsAll} QPS (${opts.threads} threads)` : ''}, recall@10 ${point.recall10}${point.recall100 !== undefined ? `, recall@100 ${point.recall100}` : ''}`,
      );
    }
    return {
      params: opts.params,
      buildSec: sig(buildMs / 1000),
      buildCpuSec: sig(buildCpu / 1000),
      buildEntriesPerSec: sig(n / (buildMs / 1000)),
      conversionShare: sig(convMs / buildMs),
      conversionUsPerEntry: sig((convMs * 1000) / n),
      bytesPerEntryDisk: sig(bytesDisk / n, 4),
      bytesPerEntryMemory: sig(bytesMem, 3),
      threads: opts.threads,
      sweep,
    };
  } finally {
    await pool?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface CallOverhead {
  /** hnswlib-node searchKnn on a one-entry index: the N-API call, array read and result objects. */
  searchCallUs: number;
  /** HnswPatchIndex.search on the same one-entry index (the engine's whole per-query overhead). */
  engineSearchUs: number;
}

/** What a query costs beyond the graph search itself. */
export function callOverhead(dim: number): CallOverhead {
  const raw = new HierarchicalNSW('l2', dim);
  raw.initIndex({ maxElements: 4, m: 16, efConstruction: 16 });
  const p = Array.from({ length: dim }, (_, i) => i / dim);
  raw.addPoint(p, 0);
  const q = Float32Array.from(p);
  const N = 50_000;
  // CPU time, not wall time: these are microseconds, and the machine may be busy.
  const cpuUs = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  for (let i = 0; i < 1000; i++) raw.searchKnn(p, 1);
  let t = cpuUs();
  for (let i = 0; i < N; i++) raw.searchKnn(p, 1);
  const call = (cpuUs() - t) / N;
  let sink = 0;
  const eng = HnswPatchIndex.create(dim, 4, { m: 16, efConstruction: 16, ef: 16 });
  eng.add(q, [0]);
  for (let i = 0; i < 1000; i++) eng.search(q, 1);
  t = cpuUs();
  for (let i = 0; i < N; i++) sink += eng.search(q, 1).length;
  const es = (cpuUs() - t) / N;
  return { searchCallUs: sig(call), engineSearchUs: sig(es + (sink === 0.5 ? 1 : 0)) };
}
