// Rollout speed: a greedy 24x24 rollout (from (0, 0): every cell, 506 searches
// with keys) over ~1M database entries with HNSW (target: under 1 s), against
// exact search on the same database (time, and how many tokens the two agree
// on), and a 16x16 rollout of each sample photo with the bundled model. Prints
// figures and writes bench/results/rollout.json; asserts nothing.
//
//   node --import tsx bench/rollout.ts [--entries 1000000] [--images 20] [--k 64] [--exact 2]
//
// The 1M database is bench:inspector's (.cache/bench-inspector/, the same
// synthetic photos, 24x24 grid, causal h = 1 latent keys, HNSW M 16,
// efConstruction 100), built here when it is missing (minutes). The sample's
// database is built once into .cache/bench-rollout/.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineClient } from '../src/engine/engineClient';
import { PatchDatabase, readDbManifest } from '../src/engine/database';
import { PatchRetriever } from '../src/engine/retrieval';
import { runRollout, type RolloutRun } from '../src/engine/rollout';
import { buildDatabase } from '../src/engine/indexer';
import { bundledModelPath } from '../src/engine/locations';
import { codeGrid, entryCount } from '../src/core/neighbourhood';
import { texturedImage } from '../test/support/fixtures';
import { writeTinyModel } from '../test/support/tinyModel';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const entries = arg('entries', 1_000_000);
const images = arg('images', 20);
const k = arg('k', 64);
const exactRuns = arg('exact', 2);
const repo = path.resolve(__dirname, '..');
const imagesWanted = Math.ceil(entries / entryCount(24, 24, 'causal', 1, 'skip'));
const dir = path.join(repo, '.cache', 'bench-inspector', `n${imagesWanted}-ef100-k4096`);
const root = path.join(dir, 'photos');
const dbDir = path.join(root, '.patchlens');
const sampleRoot = path.join(repo, '.cache', 'bench-rollout', 'sample');

const quantile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const fmt = (xs: number[]) =>
  `median ${quantile(xs, 0.5).toFixed(0)} ms, p90 ${quantile(xs, 0.9).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms (n = ${xs.length})`;

/** bench:inspector's database: the same photos and parameters, so either bench builds it for both. */
async function ensureMillion(): Promise<void> {
  const model = writeTinyModel(path.join(dir, 'model'), { size: 384, patch: 16, dim: 8, codes: 4096, seed: 7 });
  const manifest = readDbManifest(dbDir);
  if (manifest && manifest.images.length >= imagesWanted) return;
  fs.mkdirSync(root, { recursive: true });
  for (let i = 0; i < imagesWanted; i++) {
    const f = path.join(root, `photo-${String(i).padStart(5, '0')}.png`);
    if (!fs.existsSync(f)) await (await texturedImage(96, 96, 1000 + i)).png().toFile(f);
  }
  const engine = new EngineClient();
  try {
    console.log(`building the ${entries.toLocaleString('en-US')}-entry database (minutes)…`);
    await engine.request(
      'build',
      { root, dbDir, model, keys: { shape: 'causal', hops: 1, border: 'skip', source: 'latent' }, hnsw: { m: 16, efConstruction: 100, ef: 64 } },
      { timeoutMs: 0 },
    );
  } finally {
    await engine.dispose();
  }
}

async function main(): Promise<void> {
  await ensureMillion();
  const tOpen = performance.now();
  const db = PatchDatabase.open(dbDir, { verify: false })!;
  const openMs = performance.now() - tOpen;
  const retriever = new PatchRetriever(db, root);
  const grid = (i: number) => ({ image: db.image(i).path, inDatabase: true, tokens: db.record(i).tokens });
  const pick = (n: number) => Array.from({ length: n }, (_, j) => Math.floor(((j + 0.5) * db.manifest.images.length) / n));
  const from = { row: 0, col: 0 };

  // 1. In process, HNSW: the engine worker's own cost (the first run warms the JIT and is not counted).
  await runRollout(retriever, grid(0), { from, k });
  const hnswMs: number[] = [];
  const searchMs: number[] = [];
  const hnsw = new Map<number, RolloutRun>();
  const cpu0 = process.cpuUsage();
  for (const i of pick(images)) {
    const run = await runRollout(retriever, grid(i), { from, k });
    hnswMs.push(run.elapsedMs);
    searchMs.push(run.searchMs);
    hnsw.set(i, run);
  }
  const cpu = process.cpuUsage(cpu0);
  // CPU time counts the work, not the share of a busy machine the process got.
  const cpuMsPerRollout = (cpu.user + cpu.system) / 1000 / images;

  // 2. Through the engine worker from the extension host's side (request, the rollout, the per-step distributions back).
  const engine = new EngineClient();
  const workerMs: number[] = [];
  try {
    await engine.request('rollout', { dbDir, image: path.join(root, db.image(0).path), options: { from, k } }, { timeoutMs: 0 }); // opens the database
    for (const i of pick(Math.min(images, 10))) {
      const t = performance.now();
      await engine.request('rollout', { dbDir, image: path.join(root, db.image(i).path), options: { from, k } }, { timeoutMs: 0 });
      workerMs.push(performance.now() - t);
    }
  } finally {
    await engine.dispose();
  }

  // 3. Exact search, the reference: time, and how often HNSW's rollout placed the same token.
  const exactMs: number[] = [];
  const m = db.manifest;
  let same = 0;
  let stepSame = 0;
  let cells = 0;
  const tIndex = performance.now();
  if (exactRuns > 0) db.exactIndex();
  const exactIndexMs = performance.now() - tIndex;
  for (const i of pick(images).slice(0, exactRuns)) {
    const run = await runRollout(retriever, grid(i), { from, k, exact: true });
    exactMs.push(run.elapsedMs);
    const h = hnsw.get(i)!;
    // The keys of the exact rollout (causal: each needs only the cells before it, final in it), searched with HNSW.
    const vectors = codeGrid(run.tokens, db.codebook, m.model.dim);
    const exclude = retriever.selfFilter(grid(i));
    for (let c = 0; c < run.tokens.length; c++) {
      if (!run.sources[c]) continue;
      cells++;
      if (run.tokens[c] === h.tokens[c]) same++;
      const hit = (await retriever.search(db.keyAt(vectors, Math.floor(c / m.model.cols), c % m.model.cols), k, { exclude }))[0];
      if (hit?.token === run.tokens[c]) stepSame++;
    }
  }

  // 4. The sample with the bundled model (16x16 grid): a rollout of every photo.
  if (!fs.existsSync(path.join(sampleRoot, '.patchlens', 'manifest.json'))) {
    fs.mkdirSync(sampleRoot, { recursive: true });
    const media = path.join(repo, 'media', 'sample');
    for (const f of fs.readdirSync(media)) if (/\.(jpe?g|png)$/i.test(f)) fs.copyFileSync(path.join(media, f), path.join(sampleRoot, f));
    console.log('building the sample database…');
    await buildDatabase({ root: sampleRoot, model: bundledModelPath() });
  }
  const sdb = PatchDatabase.open(path.join(sampleRoot, '.patchlens'))!;
  const sr = new PatchRetriever(sdb, sampleRoot);
  const sampleMs: number[] = [];
  await runRollout(sr, { image: sdb.image(0).path, inDatabase: true, tokens: sdb.record(0).tokens }, { from, k });
  for (let i = 0; i < sdb.manifest.images.length; i++)
    sampleMs.push((await runRollout(sr, { image: sdb.image(i).path, inDatabase: true, tokens: sdb.record(i).tokens }, { from, k })).elapsedMs);

  console.log('');
  console.log(
    `Greedy rollout from (0, 0), k = ${k}: ${m.index.entries.toLocaleString('en-US')} entries (${m.images.length} images, ${m.model.rows}x${m.model.cols} grid, causal h=1, key dim ${m.index.keyDim}, HNSW M ${m.index.m} efConstruction ${m.index.efConstruction} ef ${m.index.ef}); database opened in ${(openMs / 1000).toFixed(1)} s`,
  );
  console.log(
    `  HNSW, in the engine:                  ${fmt(hnswMs)}   [searches ${quantile(searchMs, 0.5).toFixed(0)} ms of it; ${cpuMsPerRollout.toFixed(0)} CPU-ms a rollout]`,
  );
  console.log(`  HNSW, host -> engine worker -> host:  ${fmt(workerMs)}`);
  if (exactMs.length) {
    console.log(`  exact search (the reference):         ${fmt(exactMs)}   [exact index built in ${(exactIndexMs / 1000).toFixed(1)} s]`);
    console.log(`  HNSW / exact time: ${(quantile(hnswMs, 0.5) / quantile(exactMs, 0.5)).toFixed(3)}`);
    console.log(
      `  HNSW's nearest token on the exact rollout's keys equals exact's: ${((stepSame / cells) * 100).toFixed(1)}% of ${cells} steps; whole rollouts placing the same token: ${((same / cells) * 100).toFixed(1)}% (a different token changes every later key)`,
    );
  }
  console.log(`  16x16 sample (${sdb.manifest.images.length} photos, ${sdb.entryCount.toLocaleString('en-US')} entries, bundled model): ${fmt(sampleMs)}`);
  console.log(`  target: greedy 24x24 over 1M entries < 1 s with HNSW: ${quantile(hnswMs, 0.5) < 1000 && quantile(workerMs, 0.5) < 1000 ? 'met' : 'NOT met'}`);
  const out = {
    entries: m.index.entries,
    images: m.images.length,
    k,
    hnswMs,
    searchMs,
    cpuMsPerRollout,
    workerMs,
    exactMs,
    exactIndexMs,
    hnswStepAgreesWithExact: cells ? stepSame / cells : null,
    hnswRolloutSameTokenAsExact: cells ? same / cells : null,
    sample: { images: sdb.manifest.images.length, entries: sdb.entryCount, ms: sampleMs },
  };
  fs.mkdirSync(path.join(repo, 'bench', 'results'), { recursive: true });
  fs.writeFileSync(path.join(repo, 'bench', 'results', 'rollout.json'), JSON.stringify(out, null, 2) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
