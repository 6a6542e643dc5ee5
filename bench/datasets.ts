// Archives against plain files: build throughput (images/s) from WebDataset
// tar shards against the same images as files (target >= 0.95x), and the
// time to open one member of a 1,000-member shard (member index kept with
// the database; cold listing; .tar.gz for contrast). Prints figures; asserts
// nothing.
//
//   node --import tsx bench/datasets.ts [--images 400] [--shard 1000] [--runs 2]
//
// Builds use a small ONNX VQ model (128 px input, 8 px patches, d = 8) so the
// reading of the bytes weighs as much as it can against the encoding.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { buildDatabase } from '../src/engine/indexer';
import { DatasetCatalog, sourcesDir } from '../src/engine/datasetCatalog';
import { texturedImage } from '../test/support/fixtures';
import { writeTinyModel } from '../test/support/tinyModel';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const n = arg('images', 400);
  const shardSize = arg('shard', 1000);
  const runs = arg('runs', 2);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'patchlens-bench-datasets-'));
  const model = writeTinyModel(path.join(work, 'model'), { size: 128, patch: 8, dim: 8, codes: 1024 });
  const files = path.join(work, 'files');
  const shards = path.join(work, 'shards');
  fs.mkdirSync(files);
  fs.mkdirSync(shards);
  const names: string[] = [];
  for (let i = 0; i < Math.max(n, shardSize); i++) {
    const name = `${String(i).padStart(9, '0')}.jpg`;
    await (await texturedImage(160 + (i % 5) * 16, 128 + (i % 3) * 16, i)).jpeg({ quality: 85 }).toFile(path.join(files, name));
    fs.writeFileSync(path.join(files, name.replace('.jpg', '.txt')), `caption ${i}`);
    names.push(name);
  }
  // the first n images as WebDataset shards of 100 (GNU tar), the rest stay out of the build comparison
  const built = names.slice(0, n);
  const buildFiles = path.join(work, 'build-files');
  fs.mkdirSync(buildFiles);
  for (const name of built) fs.copyFileSync(path.join(files, name), path.join(buildFiles, name));
  for (let s = 0; s * 100 < n; s++) {
    const members = built.slice(s * 100, (s + 1) * 100).flatMap((m) => [m, m.replace('.jpg', '.txt')]);
    const r = spawnSync('tar', ['--format=gnu', '-cf', path.join(shards, `${String(s).padStart(5, '0')}.tar`), ...members], { cwd: files });
    if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
  }
  const rate = async (root: string) => {
    const res = await buildDatabase({ root, model, rebuild: true });
    if (res.images !== n) throw new Error(`indexed ${res.images} of ${n} images in ${root}`);
    return { perSecond: n / (res.timings.pipelineMs / 1000), elapsedMs: res.elapsedMs };
  };
  const fileRates: number[] = [];
  const tarRates: number[] = [];
  for (let r = 0; r < runs; r++) {
    // alternated, so drift in the machine's load hits both alike
    fileRates.push((await rate(buildFiles)).perSecond);
    tarRates.push((await rate(shards)).perSecond);
  }
  const bestFiles = Math.max(...fileRates);
  const bestTar = Math.max(...tarRates);
  console.log(`build, ${n} JPEGs (${os.availableParallelism()} cores, best of ${runs}):`);
  console.log(`  files        ${bestFiles.toFixed(1)} images/s   (runs: ${fileRates.map((x) => x.toFixed(1)).join(', ')})`);
  console.log(`  tar shards   ${bestTar.toFixed(1)} images/s   (runs: ${tarRates.map((x) => x.toFixed(1)).join(', ')})`);
  console.log(`  ratio        ${(bestTar / bestFiles).toFixed(3)}x   (target >= 0.95x)`);

  // one shard of shardSize members with captions
  const big = path.join(work, 'big');
  fs.mkdirSync(big);
  const members = names.slice(0, shardSize).flatMap((m) => [m, m.replace('.jpg', '.txt')]);
  spawnSync('tar', ['--format=gnu', '-cf', path.join(big, 'big.tar'), ...members], { cwd: files });
  spawnSync('tar', ['--format=gnu', '-czf', path.join(big, 'big.tgz'), ...members], { cwd: files });
  const db = path.join(big, '.patchlens');
  fs.mkdirSync(db);
  for (const archive of ['big.tar', 'big.tgz']) {
    const t0 = performance.now();
    const listing = new DatasetCatalog(big, { cacheDir: sourcesDir(db) });
    await listing.index(archive);
    const listMs = performance.now() - t0;
    await listing.close();
    const opens: number[] = [];
    const picks = archive.endsWith('.tgz') ? [0, Math.floor(shardSize / 2), shardSize - 1] : Array.from({ length: 50 }, (_, i) => (i * 7919) % shardSize);
    for (const k of picks) {
      // a fresh catalog each time: what opening one member in a new inspector costs (member index from the database folder)
      const t = performance.now();
      const c = new DatasetCatalog(big, { cacheDir: sourcesDir(db) });
      const r = await c.resolve(`${archive}/${names[k]}`);
      if (!r) throw new Error(`no member ${names[k]}`);
      await c.read(r);
      opens.push(performance.now() - t);
      await c.close();
    }
    const size = (fs.statSync(path.join(big, archive)).size / 2 ** 20).toFixed(1);
    console.log(
      `${archive} (${shardSize} images + captions, ${size} MiB): first listing ${listMs.toFixed(0)} ms; open one member ${archive.endsWith('.tgz') ? `first/middle/last ${opens.map((x) => x.toFixed(1)).join(' / ')} ms` : `median ${median(opens).toFixed(2)} ms, max ${Math.max(...opens).toFixed(2)} ms over ${opens.length}`}`,
    );
  }
  fs.rmSync(work, { recursive: true, force: true });
}

void main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
