// Exact search side by side: Patch Lens's ExactPatchIndex (WebAssembly kernel
// and the plain float64 scan) against FAISS IndexFlatL2 on one thread (single
// queries and one batch), interleaved rounds, medians; and the memory-bandwidth
// bound: how many queries per second one thread could answer if every query
// had to stream all the key bytes once.

import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ExactPatchIndex } from '../../src/engine/exactPatchIndex';
import { WASM_PAGE, scanKernel } from '../../src/engine/l2ScanKernel';
import { PYTHON, ROOT, cpuMs, median, now, sig } from './common';
import { recallAt, type KeySet } from './indexBench';

export interface ExactComparison {
  entries: number;
  dim: number;
  queries: number;
  rounds: number;
  k: number;
  /** float32 key bytes a full scan reads. */
  keyBytes: number;
  /** One thread streaming that many bytes (WebAssembly SIMD loads), best of 5 passes. */
  bandwidthGBps: number;
  /** bandwidth / key bytes: queries per second of any scan that reads every key byte once. */
  bandwidthBoundQps: number;
  patchlens: { qps1: number; qps1Cpu: number };
  patchlensPlain: { qps1: number; qps1Cpu: number };
  faissSingle?: { qps1: number; qps1Cpu: number };
  faissBatch?: { qps1: number; qps1Cpu: number };
  /** Patch Lens exact / FAISS single queries, by wall time and by CPU time (medians of the rounds). */
  ratioSingle?: number;
  ratioSingleCpu?: number;
  ratioBatch?: number;
  /** Kernel and plain scan answers (labels and distances) are the same on every query. */
  identicalToPlainScan: boolean;
  /** FAISS's answers counted as recall@10 of Patch Lens's (equal distances are not errors). */
  recall10VsFaiss?: number;
}

function bandwidth(bytes: number): number {
  const at = 0;
  const memory = new WebAssembly.Memory({ initial: Math.ceil((bytes + 64) / WASM_PAGE) });
  const kernel = scanKernel(1, 1, memory)!;
  new Uint8Array(memory.buffer).fill(1);
  const span = Math.floor(bytes / 64) * 64;
  kernel.touch(at, span);
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = now();
    kernel.touch(at, span);
    best = Math.min(best, now() - t0);
  }
  return span / (best / 1000) / 1e9;
}

function faissFlat(
  keysFile: string,
  queriesFile: string,
  n: number,
): { single: { qps: number; qpsCpu: number }; batch: { qps: number; qpsCpu: number }; ids: number[][] } {
  const r = spawnSync(PYTHON, [path.join(ROOT, 'bench', 'faiss_flat.py'), '--keys', keysFile, '--queries', queriesFile, '--n', String(n)], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    env: { ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE' },
  });
  if (r.status !== 0) throw new Error(`faiss_flat.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Interleaved rounds of Patch Lens exact and (when files are given) FAISS IndexFlatL2, one thread, k = 10. */
export function compareExact(
  s: KeySet,
  nq: number,
  rounds: number,
  faiss?: { keysFile: string; queriesFile: string },
  log: (l: string) => void = () => {},
): ExactComparison {
  const n = s.keys.length / s.dim;
  const k = 10;
  const labels = Float64Array.from({ length: n }, (_, i) => i);
  const fast = new ExactPatchIndex(s.dim, n);
  fast.add(s.keys, labels);
  const q = (i: number) => s.queries.subarray(i * s.dim, (i + 1) * s.dim);
  const keyBytes = n * s.dim * 4;
  const bw = bandwidth(keyBytes);
  log(
    `  memory bandwidth (one thread, WebAssembly SIMD loads): ${bw.toFixed(1)} GB/s: a full scan of ${(keyBytes / 1e6).toFixed(0)} MB of keys is at most ${((bw * 1e9) / keyBytes).toFixed(0)} queries/s`,
  );

  const pl: { qps: number; cpu: number }[] = [];
  const fs1: { qps: number; cpu: number }[] = [];
  const fsb: { qps: number; cpu: number }[] = [];
  let found: Float64Array | undefined;
  let faissIds: number[][] | undefined;
  for (let r = 0; r < rounds; r++) {
    const out = new Float64Array(nq * k).fill(-1);
    const c0 = process.cpuUsage();
    const t0 = now();
    for (let i = 0; i < nq; i++) fast.search(q(i), k).forEach((h, j) => (out[i * k + j] = h.label));
    const ms = now() - t0;
    pl.push({ qps: nq / (ms / 1000), cpu: nq / (cpuMs(process.cpuUsage(c0)) / 1000) });
    found = out;
    if (faiss) {
      const f = faissFlat(faiss.keysFile, faiss.queriesFile, nq);
      fs1.push({ qps: f.single.qps, cpu: f.single.qpsCpu });
      fsb.push({ qps: f.batch.qps, cpu: f.batch.qpsCpu });
      faissIds = f.ids;
    }
    log(
      `  round ${r + 1}: Patch Lens exact ${pl[r].qps.toFixed(0)} QPS (${pl[r].cpu.toFixed(0)} per CPU-s)` +
        (faiss
          ? `, FAISS IndexFlatL2 single queries ${fs1[r].qps.toFixed(0)} (${fs1[r].cpu.toFixed(0)}), batch ${fsb[r].qps.toFixed(0)} (${fsb[r].cpu.toFixed(0)})`
          : ''),
    );
  }
  // The plain float64 scan: the same answers, much slower (a few queries).
  const plain = new ExactPatchIndex(s.dim, n, { kernel: false });
  plain.add(s.keys, labels);
  const pq = Math.min(nq, 20);
  let identical = true;
  const c0 = process.cpuUsage();
  const t0 = now();
  const plainHits = Array.from({ length: pq }, (_, i) => plain.search(q(i), k));
  const plainMs = now() - t0;
  const plainCpu = cpuMs(process.cpuUsage(c0));
  for (let i = 0; i < pq; i++) if (JSON.stringify(plainHits[i]) !== JSON.stringify(fast.search(q(i), k))) identical = false;

  const med = (xs: { qps: number; cpu: number }[]) => ({ qps1: sig(median(xs.map((x) => x.qps))), qps1Cpu: sig(median(xs.map((x) => x.cpu))) });
  const res: ExactComparison = {
    entries: n,
    dim: s.dim,
    queries: nq,
    rounds,
    k,
    keyBytes,
    bandwidthGBps: sig(bw),
    bandwidthBoundQps: sig((bw * 1e9) / keyBytes),
    patchlens: med(pl),
    patchlensPlain: { qps1: sig(pq / (plainMs / 1000)), qps1Cpu: sig(pq / (plainCpu / 1000)) },
    identicalToPlainScan: identical,
  };
  if (faiss && faissIds && found) {
    res.faissSingle = med(fs1);
    res.faissBatch = med(fsb);
    res.ratioSingle = sig(median(pl.map((p, i) => p.qps / fs1[i].qps)));
    res.ratioSingleCpu = sig(median(pl.map((p, i) => p.cpu / fs1[i].cpu)));
    res.ratioBatch = sig(median(pl.map((p, i) => p.qps / fsb[i].qps)));
    // Recall of FAISS's ids against Patch Lens's as ground truth (tolerant of equal distances).
    res.recall10VsFaiss = sig(recallAt(s, faissIds.flat(), k, found, k, k, nq), 4);
  }
  return res;
}
