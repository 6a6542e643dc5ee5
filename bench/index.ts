// npm run bench:index — Patch Lens's index against FAISS on keys from real
// tokenized images, and the engine's click latency at that size.
//
//  1. The sample photos, cropped and flipped to reach ~1M entries (and a few
//     photos held out for queries), indexed by the real pipeline (cached).
//  2. Their 32-d causal h=1 keys and the held-out query keys written as .npy.
//  3. FAISS (Debian's python3-faiss): IndexFlatL2 = ground truth,
//     IndexHNSWFlat with Patch Lens's M / efConstruction, and AR-RAG's
//     OPQ + IVF + PQ8, on those files.
//  4. Patch Lens's HnswPatchIndex and ExactPatchIndex on the same keys.
//  5. PatchRetriever.query latency on the database (median / p95).
//  6. bench/results/index.json and a recall-QPS plot (PNG).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { parseNpy, writeNpy } from '../src/core/npy';
import { DEFAULT_HNSW } from '../src/engine/patchIndex';
import {
  PYTHON,
  ROOT,
  RESULTS,
  faissVersion,
  fail,
  mkCache,
  intArg,
  intListArg,
  machineInfo,
  parseBenchArgs,
  resolveImages,
  resolveModel,
  sig,
  table,
  writeResult,
} from './lib/common';
import { callOverhead, runExact, runHnsw, type KeySet } from './lib/indexBench';
import { compareExact, type ExactComparison } from './lib/exactBench';
import { runLatencyBench } from './lib/latency';
import { clusterOrder, fastestAt, graphName, parseGraphs, type CurveGraph } from './lib/curve';
import { realKeys } from './lib/realKeys';
import { SYN_KEY_DIM, syntheticKeys, syntheticPerImage } from './lib/synthetic';

const USAGE = `npm run bench:index -- [options]
  --model M            tokenizer manifest (default: media/models/patchlens-vq16/manifest.json)
  --images DIR         photos to crop and flip (default: media/sample)
  --entries N          database entries wanted (default 1m; 100k for a quick run)
  --limit N            use a random subset of the database's images holding about N entries
                       (a quicker comparison on the same database)
  --queries N          query keys, from held-out photos (default 2000)
  --exact-queries N    queries timed through Patch Lens's exact search (default 200)
  --exact-rounds N     interleaved rounds of Patch Lens exact against FAISS IndexFlatL2 (default 3)
  --exact-only         only that comparison (and the bandwidth bound); results as <out>-exact
  --synthetic          with --exact-only: synthetic patch keys (bench/lib/synthetic) instead of
                       the real ones (no database to build first)
  --m N                HNSW M (default ${DEFAULT_HNSW.m}), --ef-construction N (default ${DEFAULT_HNSW.efConstruction})
  --efs LIST           HNSW ef sweep (default 10,16,24,32,48,64,96,128,256)
  --nlist N            IVF lists (default: 2 sqrt(n) rounded to a power of two: 2048 at 1M)
  --nprobes LIST       IVF nprobe sweep (default 1,2,4,8,16,32,64,128,256)
  --opq-niter N        OPQ training iterations (default FAISS's 50; training is one-time but slow)
  --curve              only the recall@10-QPS curve: Patch Lens's HNSW along --efs for each of
                       --curve-graphs beside FAISS IndexHNSWFlat's with the same M / efConstruction,
                       and how close each gets to recall@10 >= 0.99 at FAISS's speed for 0.95
                       (results as <out>-curve)
  --curve-graphs LIST  M/efConstruction per graph, a trailing c inserts the keys in clustered
                       order (default 16/100,32/100,16/100c,16/200,16/400)
  --curve-faiss-first  FAISS builds only the first graph (the bar; a shorter run at 1M)
  --ef-constructions LIST  also build Patch Lens's HNSW with these efConstruction values
                       (ef 16,32,64, one thread): insert cost against recall
  --threads N          threads for the all-threads figures (default: all cores)
  --clicks N           clicks for the latency figures (default 500)
  --no-faiss           Patch Lens only (ground truth from its exact search)
  --faiss-build-1thread  also time FAISS's HNSW build on one thread (as hnswlib-node builds)
  --out NAME           results name under bench/results (default index)
First run: writes the augmented images and indexes them (about 20-30 min on
2 busy cores for 1M entries with the bundled model); later runs reuse them.`;

function runPython(args: string[], log: (l: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    // Passive OpenMP waits: on a shared machine spinning threads measure the other load, not FAISS.
    const env = { ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE', PYTHONUNBUFFERED: '1' };
    const child = spawn(PYTHON, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'pipe'], env });
    child.stderr.on('data', (d: Buffer) =>
      d
        .toString()
        .split('\n')
        .filter(Boolean)
        .forEach((l) => log(l)),
    );
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${PYTHON} ${args[0]} exited with ${code}`))));
  });
}

interface FaissSweepPoint {
  qps1: number;
  qps1Cpu: number;
  qpsAll: number;
  recall10: number;
  recall100?: number;
  qps1At100?: number;
}

async function main(): Promise<void> {
  const v = parseBenchArgs(USAGE, {
    model: { type: 'string' },
    images: { type: 'string' },
    entries: { type: 'string' },
    limit: { type: 'string' },
    queries: { type: 'string' },
    'exact-queries': { type: 'string' },
    'exact-rounds': { type: 'string' },
    'exact-only': { type: 'boolean' },
    curve: { type: 'boolean' },
    'curve-graphs': { type: 'string' },
    'curve-faiss-first': { type: 'boolean' },
    synthetic: { type: 'boolean' },
    m: { type: 'string' },
    'ef-construction': { type: 'string' },
    efs: { type: 'string' },
    nlist: { type: 'string' },
    nprobes: { type: 'string' },
    'opq-niter': { type: 'string' },
    'ef-constructions': { type: 'string' },
    threads: { type: 'string' },
    clicks: { type: 'string' },
    'no-faiss': { type: 'boolean' },
    'faiss-build-1thread': { type: 'boolean' },
    out: { type: 'string' },
  });
  const log = (l: string) => console.error(l);
  const model = await resolveModel(v.model);
  const images = resolveImages(v.images);
  const machine = machineInfo();
  const entries = intListArg(v.entries, 'entries', [1_000_000])[0];
  const nq = intArg(v.queries, 'queries', 2000);
  const exactQ = intArg(v['exact-queries'], 'exact-queries', 200);
  const threads = intArg(v.threads, 'threads', machine.cores);
  const params = {
    ...DEFAULT_HNSW,
    m: intArg(v.m, 'm', DEFAULT_HNSW.m),
    efConstruction: intArg(v['ef-construction'], 'ef-construction', DEFAULT_HNSW.efConstruction),
    seed: 100,
  };
  const efs = intListArg(v.efs, 'efs', [10, 16, 24, 32, 48, 64, 96, 128, 256]);
  const nprobes = intListArg(v.nprobes, 'nprobes', [1, 2, 4, 8, 16, 32, 64, 128, 256]);
  const faiss = v['no-faiss'] ? undefined : faissVersion();
  if (!v['no-faiss'] && !faiss) log(`FAISS is not importable by ${PYTHON} (Debian: apt-get install python3-faiss); running Patch Lens only`);

  if (v.synthetic) {
    if (!v['exact-only']) fail('--synthetic goes with --exact-only');
    const dir = mkCache('synthetic');
    const images = Math.ceil(entries / syntheticPerImage);
    const keysFile = path.join(dir, `keys-${images}.npy`);
    const queriesFile = path.join(dir, `queries-${nq}.npy`);
    const keys = syntheticKeys(images, 1);
    const queries = syntheticKeys(Math.ceil(nq / syntheticPerImage), 99).slice(0, nq * SYN_KEY_DIM);
    fs.writeFileSync(keysFile, writeNpy(keys, [keys.length / SYN_KEY_DIM, SYN_KEY_DIM]));
    fs.writeFileSync(queriesFile, writeNpy(queries, [nq, SYN_KEY_DIM]));
    log(`== exact search on ${keys.length / SYN_KEY_DIM} synthetic keys, Patch Lens and FAISS IndexFlatL2 in turn (one thread, k = 10)`);
    const x = compareExact(
      { keys, dim: SYN_KEY_DIM, queries },
      Math.min(exactQ, nq),
      intArg(v['exact-rounds'], 'exact-rounds', 3),
      faiss ? { keysFile, queriesFile } : undefined,
      log,
    );
    const file = writeResult(`${v.out ?? 'index'}-exact-synthetic`, {
      benchmark: 'index --exact-only --synthetic',
      date: new Date().toISOString(),
      machine: { ...machine, faiss: faiss ?? null },
      data: { keys: 'synthetic (bench/lib/synthetic.ts)', entries: keys.length / SYN_KEY_DIM, dim: SYN_KEY_DIM, queries: nq },
      exactComparison: x,
    });
    console.log(exactTable(x));
    console.log(`wrote ${file}`);
    return;
  }

  // 1-2. Real keys.
  log(`== keys: ${path.relative(ROOT, images)} cropped and flipped to ~${entries} entries`);
  const limit = v.limit === undefined ? undefined : intListArg(v.limit, 'limit', [])[0];
  const { real, db, keys, queries, dim, keysFile, queriesFile, dir, subset } = await realKeys({
    model,
    images,
    entries,
    holdOutEvery: 10,
    queryVariants: 10,
    queries: nq,
    limit,
    log,
  });
  const set: KeySet = { keys, dim, queries };
  const n = keys.length / dim;
  const q = queries.length / dim;
  log(`${n} keys x ${dim} (${keysFile}), ${q} queries`);

  if (v['exact-only']) {
    log('== exact search, Patch Lens and FAISS IndexFlatL2 in turn (one thread, k = 10)');
    const exactComparison = compareExact(
      set,
      Math.min(exactQ, q),
      intArg(v['exact-rounds'], 'exact-rounds', 3),
      faiss ? { keysFile, queriesFile } : undefined,
      log,
    );
    const file = writeResult(`${v.out ?? 'index'}-exact`, {
      benchmark: 'index --exact-only',
      date: new Date().toISOString(),
      machine: { ...machine, faiss: faiss ?? null },
      data: { model: path.relative(ROOT, model), modelName: real.info.manifest.name, keys: 'causal h=1, border skip, latent', entries: n, dim, queries: q },
      exactComparison,
    });
    console.log(exactTable(exactComparison));
    console.log(`wrote ${file}`);
    return;
  }

  if (v.curve) {
    await curve(
      set,
      parseGraphs(v['curve-graphs'] ?? '16/100,32/100,16/100c,16/200,16/400'),
      v.efs ? efs : [10, 16, 24, 32, 48, 64, 96, 128, 192, 256],
      threads,
      faiss
        ? { first: !!v['curve-faiss-first'], keysFile, queriesFile, gtFile: path.join(dir, `gt10-${n}${subset ? '-subset' : ''}-${q}.npy`), version: faiss }
        : undefined,
      db.manifest.images[0]?.entries ?? 210,
      v.out ?? 'index',
      { machine, data: { model: path.relative(ROOT, model), modelName: real.info.manifest.name, entries: n, dim, queries: q, subset: !!subset } },
      log,
    );
    return;
  }

  // 3. FAISS, which also writes the ground truth.
  const gtFile = path.join(dir, `gt-${n}${subset ? '-subset' : ''}-${q}.npy`);
  let faissRes: Record<string, unknown> | undefined;
  let gt: { ids: ArrayLike<number>; k: number };
  if (faiss) {
    log(`== FAISS ${faiss}`);
    const out = path.join(os.tmpdir(), `patchlens-faiss-${process.pid}.json`);
    await runPython(
      [
        path.join(ROOT, 'bench', 'faiss_bench.py'),
        '--keys',
        keysFile,
        '--queries',
        queriesFile,
        '--gt-out',
        gtFile,
        '--out',
        out,
        '--m',
        String(params.m),
        '--ef-construction',
        String(params.efConstruction),
        '--efs',
        efs.join(','),
        '--nprobes',
        nprobes.join(','),
        '--threads',
        String(threads),
        ...(v.nlist ? ['--nlist', v.nlist] : []),
        ...(v['opq-niter'] ? ['--opq-niter', v['opq-niter']] : []),
        ...(v['faiss-build-1thread'] ? ['--hnsw-build-1thread'] : []),
      ],
      log,
    );
    faissRes = JSON.parse(fs.readFileSync(out, 'utf8'));
    fs.rmSync(out, { force: true });
    const g = parseNpy(fs.readFileSync(gtFile));
    gt = { ids: g.data, k: g.shape[1] };
  } else {
    log(`== ground truth: Patch Lens exact search, ${q} queries`);
    const ex = await runExact(set, q, 100, 1);
    gt = { ids: ex.gt, k: 100 };
  }

  // 4. Patch Lens. Exact search first, side by side with FAISS's, and the memory-bandwidth bound.
  log('== exact search, Patch Lens and FAISS IndexFlatL2 in turn (one thread, k = 10)');
  const exactComparison = compareExact(
    { keys, dim, queries },
    Math.min(exactQ, q),
    intArg(v['exact-rounds'], 'exact-rounds', 3),
    faiss ? { keysFile, queriesFile } : undefined,
    log,
  );
  log('== Patch Lens');
  const exactSet: KeySet = { keys, dim, queries: queries.subarray(0, Math.min(exactQ, q) * dim) };
  const exact = (await runExact(exactSet, Math.min(exactQ, q), 100, threads, gt)).result;
  log(`  exact: ${exact.qps1} QPS (1 thread), ${exact.qpsAll} QPS (${threads} threads), agreement with the ground truth, recall@10 ${exact.recall10}`);
  const overhead = callOverhead(dim);
  const hnsw = await runHnsw(set, { params, efs, gt, threads, k100: true, chunk: db.manifest.images[0]?.entries ?? 210, log });

  const efcSweep = [];
  for (const efConstruction of v['ef-constructions'] ? intListArg(v['ef-constructions'], 'ef-constructions', []) : []) {
    const r = await runHnsw(set, {
      params: { ...params, efConstruction },
      efs: [16, 32, 64],
      gt,
      threads: 1,
      k100: false,
      chunk: db.manifest.images[0]?.entries ?? 210,
      log,
    });
    efcSweep.push({ efConstruction, buildCpuSec: r.buildCpuSec, cpuUsPerInsert: sig((r.buildCpuSec * 1e6) / n), sweep: r.sweep });
  }

  // 5. Click latency on the database.
  log('== click latency (PatchRetriever.query)');
  const latency = await runLatencyBench({
    dbDir: real.dbDir,
    datasetRoot: real.set.dbImages,
    queryImages: real.set.queryImages,
    model,
    clicks: intArg(v.clicks, 'clicks', 500),
    log,
  });

  const result = {
    benchmark: 'index',
    date: new Date().toISOString(),
    machine: { ...machine, faiss: faiss ?? null, ompWaitPolicy: process.env.OMP_WAIT_POLICY ?? 'PASSIVE' },
    data: {
      model: path.relative(ROOT, model),
      modelName: real.info.manifest.name,
      grid: `${real.info.rows}x${real.info.cols} d=${real.info.dim}`,
      keys: 'causal h=1, border skip, latent',
      photos: real.set.sourcePhotos,
      heldOutPhotos: real.set.heldOut.length,
      databaseImages: real.set.dbCount,
      databaseEntries: db.entryCount,
      entries: n,
      subset: subset ? 'random whole images of the database' : null,
      dim,
      queries: q,
      exactQueries: exact.queries,
      databaseBuild: real.build,
    },
    exactComparison,
    patchlens: { exact, hnsw, overhead, ...(efcSweep.length ? { efConstructionSweep: efcSweep } : {}) },
    faiss: faissRes ?? null,
    latency,
  };
  const file = writeResult(v.out ?? 'index', result);

  // 6. Plot and tables.
  const png = path.join(RESULTS, `${v.out ?? 'index'}.png`);
  await runPython([path.join(ROOT, 'bench', 'plot.py'), file, png], log).catch((e) => log(`plot skipped: ${(e as Error).message}`));
  console.log(summary(result));
  console.log(`wrote ${file}${fs.existsSync(png) ? ` and ${png}` : ''}`);
}

/**
 * --curve: FAISS IndexHNSWFlat for each distinct M / efConstruction (the first
 * run also writes the k = 10 ground truth), then Patch Lens's HNSW for each
 * graph, along the same efs, threads and queries.
 */
async function curve(
  set: KeySet,
  graphs: CurveGraph[],
  efs: number[],
  threads: number,
  faiss: { first: boolean; keysFile: string; queriesFile: string; gtFile: string; version: string } | undefined,
  chunk: number,
  out: string,
  meta: { machine: ReturnType<typeof machineInfo>; data: Record<string, unknown> },
  log: (l: string) => void,
): Promise<void> {
  const n = set.keys.length / set.dim;
  const q = set.queries.length / set.dim;
  const faissCurves: { m: number; efConstruction: number; buildSec: number; sweep: (FaissSweepPoint & { ef: number })[] }[] = [];
  let gt: { ids: ArrayLike<number>; k: number };
  if (faiss) {
    const seen = new Set<string>();
    for (const g of faiss.first ? graphs.slice(0, 1) : graphs) {
      const key = `${g.m}/${g.efConstruction}`;
      if (seen.has(key)) continue;
      seen.add(key);
      log(`== FAISS ${faiss.version} IndexHNSWFlat M=${g.m} efConstruction=${g.efConstruction}`);
      const tmp = path.join(os.tmpdir(), `patchlens-faiss-${process.pid}.json`);
      await runPython(
        [
          path.join(ROOT, 'bench', 'faiss_bench.py'),
          ...['--keys', faiss.keysFile, '--queries', faiss.queriesFile, '--gt-out', faiss.gtFile, '--out', tmp, '--gt-k', '10'],
          ...['--m', String(g.m), '--ef-construction', String(g.efConstruction), '--efs', efs.join(','), '--threads', String(threads), '--skip', 'ivfpq'],
        ],
        log,
      );
      const r = JSON.parse(fs.readFileSync(tmp, 'utf8'));
      fs.rmSync(tmp, { force: true });
      faissCurves.push({ m: g.m, efConstruction: g.efConstruction, buildSec: r.hnsw.buildSec, sweep: r.hnsw.sweep });
    }
    const g = parseNpy(fs.readFileSync(faiss.gtFile));
    gt = { ids: g.data, k: g.shape[1] };
  } else {
    log(`== ground truth: Patch Lens exact search, ${q} queries`);
    gt = { ids: (await runExact(set, q, 10, 1)).gt, k: 10 };
  }
  const plCurves = [];
  for (const g of graphs) {
    log(`== Patch Lens HNSW ${graphName(g)}`);
    const order = g.order === 'cluster' ? clusterOrder(set.keys, set.dim, 1024) : undefined;
    const r = await runHnsw(set, {
      params: { ...DEFAULT_HNSW, m: g.m, efConstruction: g.efConstruction, seed: 100 },
      efs,
      gt,
      threads,
      k100: false,
      chunk,
      order,
      log,
    });
    plCurves.push({ ...g, buildSec: r.buildSec, buildCpuSec: r.buildCpuSec, bytesPerEntryMemory: r.bytesPerEntryMemory, sweep: r.sweep });
  }
  // The moonshot's bar: FAISS at its default graph (the first listed), fastest point with recall@10 >= 0.95.
  const bar = faissCurves[0] ? fastestAt(faissCurves[0].sweep, 0.95) : undefined;
  const moonshot = {
    target: 'recall@10 >= 0.99 at the QPS (per CPU-s, one thread) of FAISS HNSW fastest with recall@10 >= 0.95',
    faissAt095: bar ? { m: faissCurves[0].m, ef: bar.ef, qps1: bar.qps1, qps1Cpu: bar.qps1Cpu, recall10: bar.recall10 } : null,
    graphs: [
      ...plCurves.map((c) => ({ index: `Patch Lens ${graphName(c)}`, at099: fastestAt(c.sweep, 0.99) })),
      ...faissCurves.map((c) => ({ index: `FAISS M=${c.m} efC=${c.efConstruction}`, at099: fastestAt(c.sweep, 0.99) })),
    ].map(({ index, at099 }) => ({
      index,
      at099: at099 ? { ef: at099.ef, qps1: at099.qps1, qps1Cpu: at099.qps1Cpu, recall10: at099.recall10 } : null,
      ofBar: at099 && bar ? sig(at099.qps1Cpu / bar.qps1Cpu) : null,
    })),
  };
  const file = writeResult(`${out}-curve`, {
    benchmark: 'index --curve',
    date: new Date().toISOString(),
    machine: { ...meta.machine, faiss: faiss?.version ?? null, ompWaitPolicy: process.env.OMP_WAIT_POLICY ?? 'PASSIVE' },
    data: { ...meta.data, keys: 'causal h=1, border skip, latent', threads, k: 10 },
    curve: { patchlens: plCurves, faiss: faissCurves },
    moonshot,
  });
  const cols = [...plCurves.map((c) => `PL ${graphName(c)}`), ...faissCurves.map((c) => `FAISS M=${c.m} efC=${c.efConstruction}`)];
  const all = [...plCurves.map((c) => c.sweep), ...faissCurves.map((c) => c.sweep)];
  console.log(`recall@10 / QPS per CPU-s (one thread) along ef, ${n} keys, ${q} queries:`);
  console.log(
    table(
      ['ef', ...cols],
      efs.map((ef) => [String(ef), ...all.map((s) => s.find((p) => p.ef === ef)).map((p) => (p ? `${p.recall10} / ${p.qps1Cpu}` : ''))]),
    ),
  );
  console.log(`\nmoonshot: ${moonshot.target}; bar: ${bar ? `FAISS ef=${bar.ef}, ${bar.qps1Cpu} QPS per CPU-s (recall@10 ${bar.recall10})` : 'none'}`);
  console.log(
    table(
      ['index', 'fastest ef with recall@10 >= 0.99', 'QPS per CPU-s', 'QPS 1 thread', 'of the bar'],
      moonshot.graphs.map((g) => [g.index, g.at099?.ef ?? 'none', g.at099?.qps1Cpu, g.at099?.qps1, g.ofBar ?? '']),
    ),
  );
  console.log(`wrote ${file}`);
}

/** Patch Lens exact search against FAISS IndexFlatL2 and the bandwidth bound, as printed. */
function exactTable(x: ExactComparison): string {
  return [
    `exact search, one thread, k = ${x.k}, ${x.queries} queries, ${x.rounds} interleaved rounds (medians):`,
    table(
      ['exact search', 'QPS 1 thread', 'QPS per CPU-s', 'vs FAISS single queries (wall / CPU)'],
      [
        [
          'Patch Lens exact (WebAssembly SIMD kernel)',
          x.patchlens.qps1,
          x.patchlens.qps1Cpu,
          x.ratioSingle !== undefined ? `${x.ratioSingle}x / ${x.ratioSingleCpu}x` : '',
        ],
        ['Patch Lens plain float64 scan (fallback)', x.patchlensPlain.qps1, x.patchlensPlain.qps1Cpu, ''],
        ...(x.faissSingle ? [['FAISS IndexFlatL2, single queries', x.faissSingle.qps1, x.faissSingle.qps1Cpu, '1x']] : []),
        ...(x.faissBatch ? [['FAISS IndexFlatL2, one batch (BLAS)', x.faissBatch.qps1, x.faissBatch.qps1Cpu, `(batch: ${x.ratioBatch}x)`]] : []),
        ['memory-bandwidth bound for the key bytes', x.bandwidthBoundQps, '', `${x.bandwidthGBps} GB/s over ${(x.keyBytes / 1e6).toFixed(0)} MB`],
      ],
    ),
    `answers: kernel = plain scan on every query checked: ${x.identicalToPlainScan}` +
      (x.recall10VsFaiss !== undefined ? `; FAISS's recall@10 against them ${x.recall10VsFaiss}` : ''),
  ].join('\n');
}

/** The operating point: the most queries per CPU-second with recall@10 >= target. */
function atRecall<T extends { recall10: number; qps1Cpu: number }>(sweep: readonly T[] | undefined, target = 0.95): T | undefined {
  return (sweep ?? []).filter((p) => p.recall10 >= target).sort((a, b) => b.qps1Cpu - a.qps1Cpu)[0];
}

function summary(r: {
  data: { entries: number; dim: number; queries: number };
  exactComparison: ExactComparison;
  patchlens: { exact: Awaited<ReturnType<typeof runExact>>['result']; hnsw: Awaited<ReturnType<typeof runHnsw>>; overhead: ReturnType<typeof callOverhead> };
  faiss: Record<string, unknown> | null;
  latency: Awaited<ReturnType<typeof runLatencyBench>>;
}): string {
  const f = r.faiss as null | {
    threads: number;
    flat: { buildSec: number; qps1: number; qps1Cpu: number; qpsAll: number; bytesPerEntryDisk: number; bytesPerEntryMemory: number };
    hnsw?: { buildSec: number; buildSec1Thread?: number; bytesPerEntryDisk: number; bytesPerEntryMemory: number; sweep: (FaissSweepPoint & { ef: number })[] };
    ivfpq?: { factory: string; buildSec: number; bytesPerEntryDisk: number; bytesPerEntryMemory: number; sweep: (FaissSweepPoint & { nprobe: number })[] };
  };
  const pl = r.patchlens;
  const plAt = atRecall(pl.hnsw.sweep);
  const fAt = atRecall(f?.hnsw?.sweep);
  const ivfAt = atRecall(f?.ivfpq?.sweep) ?? f?.ivfpq?.sweep.at(-1);
  const rows: (string | number | undefined)[][] = [
    [
      'Patch Lens HNSW (hnswlib-node)',
      pl.hnsw.buildSec,
      plAt ? `ef=${plAt.ef}` : 'none >= 0.95',
      plAt?.qps1,
      plAt?.qps1Cpu,
      plAt?.qpsAll,
      plAt?.recall10,
      plAt?.recall100,
      pl.hnsw.bytesPerEntryDisk,
      pl.hnsw.bytesPerEntryMemory,
    ],
    [
      'Patch Lens exact',
      pl.exact.buildSec,
      '',
      pl.exact.qps1,
      pl.exact.qps1Cpu,
      pl.exact.qpsAll,
      pl.exact.recall10,
      pl.exact.recall100,
      pl.exact.bytesPerEntry,
      pl.exact.bytesPerEntry,
    ],
  ];
  if (f?.hnsw)
    rows.push([
      'FAISS IndexHNSWFlat',
      f.hnsw.buildSec1Thread !== undefined ? `${f.hnsw.buildSec} (1 thread: ${f.hnsw.buildSec1Thread})` : f.hnsw.buildSec,
      fAt ? `ef=${fAt.ef}` : 'none >= 0.95',
      fAt?.qps1,
      fAt?.qps1Cpu,
      fAt?.qpsAll,
      fAt?.recall10,
      fAt?.recall100,
      f.hnsw.bytesPerEntryDisk,
      f.hnsw.bytesPerEntryMemory,
    ]);
  if (f)
    rows.push([
      'FAISS IndexFlatL2',
      f.flat.buildSec,
      '',
      f.flat.qps1,
      f.flat.qps1Cpu,
      f.flat.qpsAll,
      1,
      1,
      f.flat.bytesPerEntryDisk,
      f.flat.bytesPerEntryMemory,
    ]);
  if (f?.ivfpq && ivfAt)
    rows.push([
      `FAISS ${f.ivfpq.factory} (AR-RAG)`,
      f.ivfpq.buildSec,
      `nprobe=${ivfAt.nprobe}`,
      ivfAt.qps1,
      ivfAt.qps1Cpu,
      ivfAt.qpsAll,
      ivfAt.recall10,
      ivfAt.recall100,
      f.ivfpq.bytesPerEntryDisk,
      f.ivfpq.bytesPerEntryMemory,
    ]);
  const x = r.exactComparison;
  const lines = [
    exactTable(x),
    '',
    `${r.data.entries} entries x ${r.data.dim}, ${r.data.queries} queries; fastest setting with recall@10 >= 0.95 (IVF-PQ: its best recall)`,
    table(
      ['index', 'build s', 'setting', 'QPS 1 thread', 'QPS per CPU-s', 'QPS all threads', 'recall@10', 'recall@100', 'bytes/entry disk', 'bytes/entry memory'],
      rows,
    ),
    '',
    table(
      ['HNSW ef', 'Patch Lens QPS (1 thr)', 'per CPU-s', 'recall@10', 'FAISS QPS (1 thr)', 'per CPU-s', 'recall@10', 'ratio PL/FAISS (per CPU-s)'],
      pl.hnsw.sweep.map((p) => {
        const fp = f?.hnsw?.sweep.find((x) => x.ef === p.ef);
        return [String(p.ef), p.qps1, p.qps1Cpu, p.recall10, fp?.qps1, fp?.qps1Cpu, fp?.recall10, fp ? (p.qps1Cpu / fp.qps1Cpu).toFixed(2) : undefined];
      }),
    ),
    '',
    `per-query overhead of hnswlib-node: searchKnn call on a 1-entry index ${pl.overhead.searchCallUs} us, HnswPatchIndex.search on it (query copy included) ${pl.overhead.engineSearchUs} us; build: key copy to plain arrays ${(pl.hnsw.conversionShare * 100).toFixed(1)}% of build time`,
    '',
    `click latency at ${r.latency.entries} entries (ef=${r.latency.ef}):`,
    table(
      ['PatchRetriever.query', 'median ms', 'p95 ms', 'max ms', 'search median ms'],
      r.latency.cases.map((c) => [c.case, c.medianMs, c.p95Ms, c.maxMs, c.searchMedianMs]),
    ),
  ];
  return lines.join('\n');
}

main().catch((err) => fail(err instanceof Error ? (err.stack ?? err.message) : String(err)));
