// `npm run bench:lance [-- --entries N] [--queries Q]`: the Lance backend beside
// HNSW on the same VQ-like synthetic keys (bench/lib/synthetic.ts): recall@10
// against exact search, median latency, resident and disk bytes an entry, and
// the Lance search knob (nprobes x refine factor) around the default the
// builder picks (lanceIndexParams). Figures go to bench/results/lance.json.
// Heavy: run under `flock /work/heavy.lock` on a shared machine.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as lancedb from '@lancedb/lancedb';
import { FixedSizeList, Float32, Field, Int16, Int32, Int64, makeData, RecordBatch, Struct, Table as ArrowTable } from 'apache-arrow';
import { entriesSchema } from '../src/engine/lanceStore';
import { lanceIndexParams } from '../src/engine/lanceBuilder';
import { HnswPatchIndex, DEFAULT_HNSW } from '../src/engine/patchIndex';
import { ExactPatchIndex } from '../src/engine/exactPatchIndex';
import { syntheticKeys, syntheticPerImage, SYN_KEY_DIM } from './lib/synthetic';

const { values: v } = parseArgs({ options: { entries: { type: 'string' }, queries: { type: 'string' } } });
const N = Number(v.entries ?? 200_000);
const Q = Number(v.queries ?? 200);
const K = 10;
const dim = SYN_KEY_DIM;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rss = () => process.memoryUsage().rss;
const du = (dir: string): number => fs.readdirSync(dir, { withFileTypes: true }).reduce((a, e) => a + (e.isDirectory() ? du(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).size), 0);

async function main() {
  const images = Math.ceil(N / syntheticPerImage);
  const keys = syntheticKeys(images, 1).subarray(0, N * dim);
  const qkeys = syntheticKeys(Math.ceil(Q / syntheticPerImage) + 1, 777).subarray(0, Q * dim);
  const q = (i: number) => qkeys.subarray(i * dim, (i + 1) * dim);
  console.error(`${N} keys of ${dim} dims, ${Q} queries`);

  const exact = new ExactPatchIndex(dim, N);
  exact.add(keys, Float64Array.from({ length: N }, (_, i) => i));
  const truth = Array.from({ length: Q }, (_, i) => new Set(exact.search(q(i), K).map((h) => h.label)));
  const recall = (hits: number[][]) => hits.reduce((a, h, i) => a + h.filter((l) => truth[i].has(l)).length, 0) / (Q * K);

  // ---- HNSW (today's backend), resident bytes measured around its build
  const r0 = rss();
  let t = performance.now();
  const hn = HnswPatchIndex.create(dim, N, DEFAULT_HNSW);
  hn.add(keys, Float64Array.from({ length: N }, (_, i) => i));
  const hnswBuildS = (performance.now() - t) / 1000;
  const hnswResident = rss() - r0;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-lance-'));
  hn.save(path.join(tmp, 'index.hnsw'));
  const hnswDisk = fs.statSync(path.join(tmp, 'index.hnsw')).size;
  const hnswMs: number[] = [];
  const hnswHits = Array.from({ length: Q }, (_, i) => {
    const s = performance.now();
    const h = hn.search(q(i), K).map((x) => x.label);
    hnswMs.push(performance.now() - s);
    return h;
  });
  const hnsw = { params: { m: DEFAULT_HNSW.m, efConstruction: DEFAULT_HNSW.efConstruction, ef: DEFAULT_HNSW.ef }, recall: recall(hnswHits), p50Ms: median(hnswMs), residentBytesPerEntry: hnswResident / N, diskBytesPerEntry: hnswDisk / N, buildS: hnswBuildS };
  console.error(`HNSW: recall@10 ${hnsw.recall.toFixed(3)}, p50 ${hnsw.p50Ms.toFixed(2)} ms, ${hnsw.residentBytesPerEntry.toFixed(0)} B resident, ${hnsw.diskBytesPerEntry.toFixed(0)} B disk an entry, built in ${hnswBuildS.toFixed(1)} s`);

  // ---- Lance: the entries table as the builder writes it (key, token, image, row, col)
  const uri = path.join(tmp, 'lance');
  const db = await lancedb.connect(uri);
  const schema = entriesSchema(dim);
  const table = await db.createEmptyTable('entries', schema);
  t = performance.now();
  const step = 100_000;
  for (let s = 0; s < N; s += step) {
    const n = Math.min(step, N - s);
    const item = makeData({ type: new Float32(), length: n * dim, data: keys.slice(s * dim, (s + n) * dim) });
    const keyData = makeData({ type: new FixedSizeList(dim, new Field('item', new Float32(), true)), length: n, nullCount: 0, child: item });
    const image = BigInt64Array.from({ length: n }, (_, i) => BigInt(Math.floor((s + i) / syntheticPerImage)));
    const within = Int16Array.from({ length: n }, (_, i) => (s + i) % syntheticPerImage);
    const children = [keyData, makeData({ type: new Int32(), length: n, data: new Int32Array(n) }), makeData({ type: new Int64(), length: n, data: image }), makeData({ type: new Int16(), length: n, data: within }), makeData({ type: new Int16(), length: n, data: new Int16Array(n) })];
    await table.add(new ArrowTable(new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children }))));
  }
  const appendS = (performance.now() - t) / 1000;
  const params = lanceIndexParams(N, dim);
  t = performance.now();
  await table.createIndex('key', { config: lancedb.Index.ivfPq({ numPartitions: params.partitions, numSubVectors: params.subVectors, distanceType: 'l2' }) });
  const indexS = (performance.now() - t) / 1000;
  const lanceDisk = du(uri);
  table.close();
  db.close();

  // a fresh connection: resident bytes of opening it and answering queries
  const r1 = rss();
  const db2 = await lancedb.connect(uri);
  const tb = await db2.openTable('entries');
  const label = (r: { image: bigint; row: number }) => Number(r.image) * syntheticPerImage + r.row;
  const run = async (setting: { nprobes: number; refineFactor: number } | 'flat') => {
    const ms: number[] = [];
    const hits: number[][] = [];
    for (let i = 0; i < Q; i++) {
      let qq = tb.vectorSearch(Float32Array.from(q(i))).distanceType('l2').limit(K).select(['image', 'row', '_distance']);
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
  const lanceResident = rss() - r1;
  const sweep = [];
  for (const frac of [0.05, 0.1, 0.2, 0.3, 0.5]) {
    for (const refineFactor of [1, 5, 10, 20]) {
      const r = await run({ nprobes: Math.max(1, Math.ceil(params.partitions * frac)), refineFactor });
      sweep.push(r);
      console.error(`  nprobes ${r.params === 'flat' ? '-' : r.params.nprobes} refine ${refineFactor}: recall@10 ${r.recall.toFixed(3)}, p50 ${r.p50Ms.toFixed(1)} ms`);
    }
  }
  const flat = await run('flat');
  const lance = { params: { ...params }, current, flat, residentBytesPerEntry: lanceResident / N, diskBytesPerEntry: lanceDisk / N, appendS, indexS };
  console.error(`Lance (${params.partitions} partitions, PQ${params.subVectors}, nprobes ${params.nprobes}, refine ${params.refineFactor}): recall@10 ${current.recall.toFixed(3)}, p50 ${current.p50Ms.toFixed(1)} ms; flat p50 ${flat.p50Ms.toFixed(1)} ms; ${lance.residentBytesPerEntry.toFixed(0)} B resident, ${lance.diskBytesPerEntry.toFixed(0)} B disk an entry; append ${appendS.toFixed(1)} s, index ${indexS.toFixed(1)} s`);
  const out = { date: new Date().toISOString(), entries: N, queries: Q, k: K, keys: 'synthetic VQ-like (bench/lib/synthetic.ts)', hnsw, lance, sweep };
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, 'results', `lance-${N}.json`), JSON.stringify(out, null, 2) + '\n');
  console.log(JSON.stringify({ hnsw, lance: { ...lance, current } }));
  tb.close();
  db2.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
