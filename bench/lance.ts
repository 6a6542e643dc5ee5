// `npm run bench:lance [-- --entries N] [--queries Q] [--real] [--no-faiss]`: the
// Lance backend beside HNSW and FAISS on the same keys: recall@10 against exact
// search, median single-query latency, resident and disk bytes an entry, and
// the Lance search knob (nprobes x refine factor) around the default the
// builder picks (lanceIndexParams). Keys: VQ-like synthetic ones
// (bench/lib/synthetic.ts), or with --real the bundled tokenizer's keys of the
// cropped sample photos (bench/lib/realKeys.ts, cached and shared with
// bench:index). FAISS (Debian's python3-faiss) runs IVF-PQ with re-ranking
// configured as the Lance index is. Figures go to bench/results/lance-*.json.
// Heavy: run under `flock /work/heavy.lock` on a shared machine.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import * as lancedb from '@lancedb/lancedb';
import { FixedSizeList, Float32, Field, Int16, Int32, Int64, makeData, RecordBatch, Struct, Table as ArrowTable } from 'apache-arrow';
import { parseNpy, writeNpy } from '../src/core/npy';
import { entriesSchema } from '../src/engine/lanceStore';
import { lanceIndexParams } from '../src/engine/lanceBuilder';
import { HnswPatchIndex, DEFAULT_HNSW } from '../src/engine/patchIndex';
import { ExactPatchIndex } from '../src/engine/exactPatchIndex';
import { syntheticKeys, syntheticPerImage, SYN_KEY_DIM } from './lib/synthetic';
import { realKeys } from './lib/realKeys';
import { DEFAULT_IMAGES, DEFAULT_MODEL, PYTHON, faissVersion } from './lib/common';

const { values: v } = parseArgs({
  options: {
    entries: { type: 'string' },
    queries: { type: 'string' },
    real: { type: 'boolean' },
    'no-faiss': { type: 'boolean' },
    model: { type: 'string' },
    images: { type: 'string' },
    'resident-of': { type: 'string' },
    'queries-file': { type: 'string' },
    nprobes: { type: 'string' },
    refine: { type: 'string' },
  },
});
const N = Number(v.entries ?? 200_000);
const Q = Number(v.queries ?? 200);
const K = 10;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Resident bytes after a full collection (run with --expose-gc, as the npm script does), so deltas measure what stays. */
const rss = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
};
const du = (dir: string): number =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .reduce((a, e) => a + (e.isDirectory() ? du(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).size), 0);

interface KeySource {
  readonly keys: Float32Array;
  readonly queries: Float32Array;
  readonly dim: number;
  /** Entries an image (labels are image * perImage + row). */
  readonly perImage: number;
  readonly what: string;
}

async function keySource(): Promise<KeySource> {
  if (v.real) {
    const model = v.model ?? DEFAULT_MODEL;
    const r = await realKeys({
      model,
      images: v.images ?? DEFAULT_IMAGES,
      entries: N,
      holdOutEvery: 10,
      queryVariants: 10,
      queries: Q,
      limit: N,
      log: (l) => console.error(l),
    });
    return {
      keys: r.keys,
      queries: r.queries,
      dim: r.dim,
      perImage: r.db.manifest.images[0]?.entries ?? 1,
      what: `real: ${r.real.info.manifest.name} keys of the cropped sample photos (bench/lib/realKeys.ts), queries from held-out photos`,
    };
  }
  const keys = syntheticKeys(Math.ceil(N / syntheticPerImage), 1).subarray(0, N * SYN_KEY_DIM);
  const queries = syntheticKeys(Math.ceil(Q / syntheticPerImage) + 1, 777).subarray(0, Q * SYN_KEY_DIM);
  return { keys, queries, dim: SYN_KEY_DIM, perImage: syntheticPerImage, what: 'synthetic VQ-like (bench/lib/synthetic.ts)' };
}

/** --resident-of URI: what opening the table and answering the queries adds to a fresh process (the reader's cost). */
async function residentOf(uri: string): Promise<void> {
  const qs = parseNpy(fs.readFileSync(v['queries-file']!));
  const dim = qs.shape[1];
  const before = rss();
  const conn = await lancedb.connect(uri);
  const tb = await conn.openTable('entries');
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < qs.shape[0]; i++)
      await tb
        .vectorSearch(qs.data.slice(i * dim, (i + 1) * dim))
        .distanceType('l2')
        .limit(K)
        .nprobes(Number(v.nprobes))
        .refineFactor(Number(v.refine))
        .select(['image', 'row'])
        .toArray();
  }
  console.log(JSON.stringify({ residentBytes: rss() - before }));
}

async function main() {
  if (v['resident-of']) return residentOf(v['resident-of']);
  const src = await keySource();
  const { keys, dim, perImage } = src;
  const n = keys.length / dim;
  const nq = Math.min(Q, src.queries.length / dim);
  const q = (i: number) => src.queries.subarray(i * dim, (i + 1) * dim);
  console.error(`${n} keys of ${dim} dims, ${nq} queries (${src.what})`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-lance-'));

  const exact = new ExactPatchIndex(dim, n);
  exact.add(
    keys,
    Float64Array.from({ length: n }, (_, i) => i),
  );
  const truthIds = Array.from({ length: nq }, (_, i) => exact.search(q(i), K).map((h) => h.label));
  const truth = truthIds.map((ids) => new Set(ids));
  const recall = (hits: number[][]) => hits.reduce((a, h, i) => a + h.filter((l) => truth[i].has(l)).length, 0) / (nq * K);

  // ---- Lance first (before HNSW's graph is resident): the entries table as the builder writes it (key, token, image, row, col)
  const uri = path.join(tmp, 'lance');
  const db = await lancedb.connect(uri);
  const schema = entriesSchema(dim);
  const table = await db.createEmptyTable('entries', schema);
  let t = performance.now();
  const step = 100_000;
  for (let s = 0; s < n; s += step) {
    const m = Math.min(step, n - s);
    const item = makeData({ type: new Float32(), length: m * dim, data: keys.slice(s * dim, (s + m) * dim) });
    const keyData = makeData({ type: new FixedSizeList(dim, new Field('item', new Float32(), true)), length: m, nullCount: 0, child: item });
    const image = BigInt64Array.from({ length: m }, (_, i) => BigInt(Math.floor((s + i) / perImage)));
    const within = Int16Array.from({ length: m }, (_, i) => (s + i) % perImage);
    const children = [
      keyData,
      makeData({ type: new Int32(), length: m, data: new Int32Array(m) }),
      makeData({ type: new Int64(), length: m, data: image }),
      makeData({ type: new Int16(), length: m, data: within }),
      makeData({ type: new Int16(), length: m, data: new Int16Array(m) }),
    ];
    await table.add(new ArrowTable(new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: m, nullCount: 0, children }))));
  }
  const appendS = (performance.now() - t) / 1000;
  const params = lanceIndexParams(n, dim);
  t = performance.now();
  await table.createIndex('key', { config: lancedb.Index.ivfPq({ numPartitions: params.partitions, numSubVectors: params.subVectors, distanceType: 'l2' }) });
  const indexS = (performance.now() - t) / 1000;
  const lanceDisk = du(uri);
  table.close();
  db.close();

  // the reader's resident bytes: a fresh process opens the table and answers the queries
  const queriesFile = path.join(tmp, 'queries.npy');
  fs.writeFileSync(queriesFile, writeNpy(src.queries.subarray(0, nq * dim), [nq, dim]));
  const reader = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      __filename,
      '--resident-of',
      uri,
      '--queries-file',
      queriesFile,
      '--nprobes',
      String(params.nprobes),
      '--refine',
      String(params.refineFactor),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (reader.status !== 0) throw new Error(`the resident-bytes reader failed (${reader.status})`);
  const lanceResident = (JSON.parse(reader.stdout) as { residentBytes: number }).residentBytes;
  const db2 = await lancedb.connect(uri);
  const tb = await db2.openTable('entries');
  const label = (r: { image: bigint; row: number }) => Number(r.image) * perImage + r.row;
  const run = async (setting: { nprobes: number; refineFactor: number } | 'flat') => {
    const ms: number[] = [];
    const hits: number[][] = [];
    for (let i = 0; i < nq; i++) {
      let qq = tb
        .vectorSearch(Float32Array.from(q(i)))
        .distanceType('l2')
        .limit(K)
        .select(['image', 'row', '_distance']);
      qq = setting === 'flat' ? qq.bypassVectorIndex() : qq.nprobes(setting.nprobes).refineFactor(setting.refineFactor);
      const s = performance.now();
      const rows = (await qq.toArray()) as { image: bigint; row: number }[];
      ms.push(performance.now() - s);
      hits.push(rows.map(label));
    }
    return { params: setting, recall: recall(hits), p50Ms: median(ms) };
  };
  await run({ nprobes: params.nprobes, refineFactor: params.refineFactor }); // warm
  const current = await run({ nprobes: params.nprobes, refineFactor: params.refineFactor });
  const settings: { nprobes: number; refineFactor: number }[] = [];
  for (const frac of [0.05, 0.1, 0.2, 0.3, 0.5])
    for (const refineFactor of [1, 5, 10, 20]) settings.push({ nprobes: Math.max(1, Math.ceil(params.partitions * frac)), refineFactor });
  const sweep = [];
  for (const setting of settings) {
    const r = await run(setting);
    sweep.push(r);
    console.error(`  lance nprobes ${setting.nprobes} refine ${setting.refineFactor}: recall@10 ${r.recall.toFixed(3)}, p50 ${r.p50Ms.toFixed(1)} ms`);
  }
  const flat = await run('flat');
  const lance = { params: { ...params }, current, flat, residentBytesPerEntry: lanceResident / n, diskBytesPerEntry: lanceDisk / n, appendS, indexS };
  console.error(
    `Lance (${params.partitions} partitions, PQ${params.subVectors}, nprobes ${params.nprobes}, refine ${params.refineFactor}): recall@10 ${current.recall.toFixed(3)}, p50 ${current.p50Ms.toFixed(1)} ms; flat p50 ${flat.p50Ms.toFixed(1)} ms; ${lance.residentBytesPerEntry.toFixed(0)} B resident, ${lance.diskBytesPerEntry.toFixed(0)} B disk an entry; append ${appendS.toFixed(1)} s, index ${indexS.toFixed(1)} s`,
  );
  tb.close();
  db2.close();

  // ---- HNSW (today's backend), resident bytes measured around its build
  const r0 = rss();
  t = performance.now();
  const hn = HnswPatchIndex.create(dim, n, DEFAULT_HNSW);
  hn.add(
    keys,
    Float64Array.from({ length: n }, (_, i) => i),
  );
  const hnswBuildS = (performance.now() - t) / 1000;
  const hnswResident = rss() - r0;
  hn.save(path.join(tmp, 'index.hnsw'));
  const hnswDisk = fs.statSync(path.join(tmp, 'index.hnsw')).size;
  const hnswMs: number[] = [];
  const hnswHits = Array.from({ length: nq }, (_, i) => {
    const s = performance.now();
    const h = hn.search(q(i), K).map((x) => x.label);
    hnswMs.push(performance.now() - s);
    return h;
  });
  const hnsw = {
    params: { m: DEFAULT_HNSW.m, efConstruction: DEFAULT_HNSW.efConstruction, ef: DEFAULT_HNSW.ef },
    recall: recall(hnswHits),
    p50Ms: median(hnswMs),
    residentBytesPerEntry: hnswResident / n,
    diskBytesPerEntry: hnswDisk / n,
    buildS: hnswBuildS,
  };
  console.error(
    `HNSW: recall@10 ${hnsw.recall.toFixed(3)}, p50 ${hnsw.p50Ms.toFixed(2)} ms, ${hnsw.residentBytesPerEntry.toFixed(0)} B resident, ${hnsw.diskBytesPerEntry.toFixed(0)} B disk an entry, built in ${hnswBuildS.toFixed(1)} s`,
  );

  // ---- FAISS IVF-PQ + re-ranking with the Lance index's settings, on the same keys and ground truth
  let faiss: unknown = null;
  if (!v['no-faiss'] && faissVersion()) {
    const files = { keys: path.join(tmp, 'keys.npy'), queries: queriesFile, gt: path.join(tmp, 'gt.npy') };
    fs.writeFileSync(files.keys, writeNpy(keys, [n, dim]));
    fs.writeFileSync(files.gt, writeNpy(Int32Array.from(truthIds.flat()), [nq, K]));
    const faissSettings = [
      { nprobes: params.nprobes, refineFactor: params.refineFactor },
      ...settings.filter((x) => x.refineFactor === 10 && x.nprobes !== params.nprobes),
    ];
    const r = spawnSync(
      PYTHON,
      [
        path.join(__dirname, 'faiss_ivfpq_refine.py'),
        '--keys',
        files.keys,
        '--queries',
        files.queries,
        '--gt',
        files.gt,
        '--nlist',
        String(params.partitions),
        '--pq',
        String(params.subVectors),
        '--settings',
        faissSettings.map((x) => `${x.nprobes}:${x.refineFactor}`).join(','),
        '--k',
        String(K),
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' }, maxBuffer: 1 << 24 },
    );
    if (r.status === 0) faiss = JSON.parse(r.stdout);
    else console.error(`FAISS failed (${r.status}); its rows are left out`);
  }

  const out = { date: new Date().toISOString(), entries: n, queries: nq, k: K, keys: src.what, hnsw, lance, sweep, faiss };
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  const name = `lance-${v.real ? 'real-' : ''}${n}.json`;
  fs.writeFileSync(path.join(__dirname, 'results', name), JSON.stringify(out, null, 2) + '\n');
  console.log(JSON.stringify({ hnsw, lance: { ...lance, current }, faiss }));
  console.error(`wrote bench/results/${name}`);
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
