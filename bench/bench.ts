// npm run bench — the headline figures, as a table and JSON:
//  * end-to-end indexing images/s on a folder of images and the encoder alone
//    on the same images (and their ratio);
//  * Patch Lens's HNSW index at ~10k and ~100k entries (~1M with --full):
//    build entries/s, queries/s on one thread and on all threads, recall@10
//    against exact search, bytes per entry (synthetic keys shaped like real
//    ones; npm run bench:index has real keys and FAISS);
//  * opening a database and its first answer at ~10k and ~100k entries (~1M
//    with --full): the CLI, the engine worker the extension uses, a client of
//    `patchlens serve`, resident memory, against reading the files.
// Writes bench/results/bench.json. Prints figures only; nothing is asserted.

import * as path from 'node:path';
import { DEFAULT_HNSW } from '../src/engine/patchIndex';
import { ROOT, fail, intArg, intListArg, machineInfo, parseBenchArgs, resolveImages, resolveModel, table, writeResult } from './lib/common';
import { callOverhead, runExact, runHnsw, type KeySet } from './lib/indexBench';
import { pipelineTable, runPipelineBench } from './lib/pipeline';
import { encoderLayout } from '../src/engine/encoderPool';
import { SYN, SYN_KEY_DIM, syntheticKeys, syntheticPerImage } from './lib/synthetic';
import { OPEN_CPU_HEADERS, OPEN_HEADERS, openCpuTable, openTable, runOpenBench } from './lib/openBench';

const USAGE = `npm run bench -- [options]
  --model M         tokenizer manifest (default: media/models/patchlens-vq16/manifest.json;
                    "tiny": the tests' patchify model, whose encoder is far cheaper than a real one)
  --images DIR      folder of images for the indexing figures (default: media/sample)
  --sizes LIST      index sizes in entries (default 10k,100k)
  --full            add the 1M size (about 5-10 more minutes on 2 cores: a single-threaded HNSW build)
  --queries N       queries per size (default 1000; 300 at 1M, where exact search is slow)
  --rounds N        interleaved rounds of encoder-only and indexing (default 2)
  --repeat N        index the image folder N times over (default 2)
  --no-pipeline     no indexing figures
  --open-only       only the open + first answer figures
  --open-sizes LIST database sizes for them (default 10k,100k; --full adds 1M: built once,
                    ~1 h on 2 busy cores, cached in .cache/bench-inspector/ and shared with bench:inspector)
  --open-rounds N   interleaved rounds (default 3)
  --baseline-addon F  another build of hnswlib-node's build/Release/addon.node (e.g. copied before
                    a loader change) measured beside this checkout's in the open figures
  --out NAME        results name under bench/results (default bench)`;

async function main(): Promise<void> {
  const v = parseBenchArgs(USAGE, {
    model: { type: 'string' },
    images: { type: 'string' },
    sizes: { type: 'string' },
    full: { type: 'boolean' },
    queries: { type: 'string' },
    rounds: { type: 'string' },
    repeat: { type: 'string' },
    'no-pipeline': { type: 'boolean' },
    'open-only': { type: 'boolean' },
    'open-sizes': { type: 'string' },
    'open-rounds': { type: 'string' },
    'baseline-addon': { type: 'string' },
    out: { type: 'string' },
  });
  const log = (l: string) => console.error(l);
  const machine = machineInfo();
  const sizes = intListArg(v.sizes, 'sizes', [10_000, 100_000]);
  if (v.full && !sizes.includes(1_000_000)) sizes.push(1_000_000);
  const threads = machine.cores;
  const out: Record<string, unknown> = { benchmark: 'bench', date: new Date().toISOString(), machine };

  // ---- open + first answer
  const openSizes = intListArg(v['open-sizes'], 'open-sizes', [10_000, 100_000]);
  if (v.full && !openSizes.includes(1_000_000)) openSizes.push(1_000_000);
  log(`== open + first answer at ${openSizes.join(', ')} entries`);
  const open = await runOpenBench({
    sizes: openSizes,
    rounds: intArg(v['open-rounds'], 'open-rounds', 3),
    log,
    baselineAddon: v['baseline-addon'],
  });
  out.open = open;
  console.log('Open + first answer (page cache warm; medians of interleaved rounds; ms wall)');
  console.log(table(OPEN_HEADERS, openTable(open)));
  console.log('');
  console.log(table(OPEN_CPU_HEADERS, openCpuTable(open)));
  console.log('');
  if (v['open-only']) {
    console.log(`wrote ${writeResult(v.out ?? 'bench-open', out)}`);
    return;
  }

  // ---- indexing: end to end against the encoder alone
  if (!v['no-pipeline']) {
    const model = await resolveModel(v.model);
    const images = resolveImages(v.images);
    log(`== indexing ${path.relative(ROOT, images) || images} with ${path.relative(ROOT, model)}`);
    const p = await runPipelineBench({
      model,
      images,
      rounds: intArg(v.rounds, 'rounds', 2),
      repeat: intArg(v.repeat, 'repeat', 2),
      configs: [{ workers: encoderLayout().workers, batch: 8 }],
      log,
    });
    out.pipeline = p;
    console.log(pipelineTable(p));
    console.log('');
  }

  // ---- the index at each size
  const rows: (string | number | undefined)[][] = [];
  const indexResults = [];
  for (const size of sizes) {
    const images = Math.ceil(size / syntheticPerImage);
    const nq = intArg(v.queries, 'queries', size >= 1_000_000 ? 300 : 1000);
    const qImages = Math.ceil(nq / syntheticPerImage);
    log(`== index, ${images * syntheticPerImage} synthetic entries (${images} grids of ${SYN.rows}x${SYN.cols}x${SYN.dim}), ${nq} queries`);
    const keys = syntheticKeys(images, 1);
    const queries = syntheticKeys(qImages, 2).subarray(0, nq * SYN_KEY_DIM);
    const set: KeySet = { keys, dim: SYN_KEY_DIM, queries };
    const exact = await runExact(set, nq, 10, threads);
    const gt = { ids: exact.gt, k: 10 };
    const hnsw = await runHnsw(set, {
      params: { ...DEFAULT_HNSW, seed: 100 },
      efs: [DEFAULT_HNSW.ef],
      gt,
      threads,
      k100: false,
      chunk: syntheticPerImage,
      log,
    });
    const p = hnsw.sweep[0];
    indexResults.push({ entries: images * syntheticPerImage, queries: nq, hnsw, exact: exact.result });
    rows.push([
      String(images * syntheticPerImage),
      hnsw.buildEntriesPerSec,
      p.qps1,
      p.qpsAll,
      p.recall10,
      hnsw.bytesPerEntryDisk,
      hnsw.bytesPerEntryMemory,
      exact.result.qps1,
      exact.result.qpsAll,
    ]);
  }
  out.index = {
    keys: `synthetic, ${SYN_KEY_DIM}-d causal h=1 (see bench/lib/synthetic.ts)`,
    params: DEFAULT_HNSW,
    k: 10,
    sizes: indexResults,
    overhead: callOverhead(SYN_KEY_DIM),
  };
  console.log(
    `Patch Lens HNSW (M=${DEFAULT_HNSW.m}, efConstruction=${DEFAULT_HNSW.efConstruction}, ef=${DEFAULT_HNSW.ef}), k=10, ${threads} threads for "all"`,
  );
  console.log(
    table(
      [
        'entries',
        'build entries/s',
        'QPS 1 thread',
        'QPS all threads',
        'recall@10',
        'bytes/entry disk',
        'bytes/entry memory',
        'exact QPS 1 thr',
        'exact QPS all',
      ],
      rows,
    ),
  );

  const pipe = out.pipeline as Awaited<ReturnType<typeof runPipelineBench>> | undefined;
  const c = pipe?.configs[0];
  const file = writeResult(v.out ?? 'bench', out);
  console.log(
    '\n' +
      JSON.stringify({
        indexImagesPerSec: c?.median.pipeline,
        encoderOnlyImagesPerSec: c?.median.encoderOnly,
        ratio: c?.median.ratio,
        index: indexResults.map((r) => ({
          entries: r.entries,
          buildEntriesPerSec: r.hnsw.buildEntriesPerSec,
          qps1: r.hnsw.sweep[0].qps1,
          qpsAll: r.hnsw.sweep[0].qpsAll,
          recall10: r.hnsw.sweep[0].recall10,
          bytesPerEntry: r.hnsw.bytesPerEntryDisk,
        })),
      }),
  );
  console.log(`wrote ${file}`);
}

main().catch((err) => fail(err instanceof Error ? (err.stack ?? err.message) : String(err)));
