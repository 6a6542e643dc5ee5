// npm run bench:update — what updating a small share of a database costs
// against building it from scratch, side by side in one run, through the two
// ways updates happen: the CLI (`patchlens index`, a new process: start,
// model, database open, encode, write) and the extension's watcher (a build
// request to the engine worker that is already running, as the watcher sends
// it after its debounce).
//
//  1. The sample photos cropped and flipped to ~N entries (bench/lib/augment),
//     linked into a scratch folder.
//  2. A full build through the CLI (what `index --rebuild` costs).
//  3. Rounds: 1 % of the images replaced by other pixels, then `patchlens
//     index` (CLI); another 1 %, then a build request to the engine worker.
//  4. bench/results/update.json: each update's wall time and its share of the
//     full build, and what it wrote (a delta beside the index, or a new index).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import sharp from 'sharp';
import { EngineClient } from '../src/engine/engineClient';
import { PatchDatabase } from '../src/engine/database';
import { seededRng, shuffled } from '../src/core/rng';
import { augmentedSet } from './lib/augment';
import { loadModelInfo } from './lib/realKeys';
import { entryCount } from '../src/core/neighbourhood';
import { DEFAULT_KEYS } from '../src/engine/indexer';
import { ROOT, fail, intArg, intListArg, machineInfo, now, parseBenchArgs, resolveImages, resolveModel, sig, table, writeResult } from './lib/common';

const USAGE = `npm run bench:update -- [options]
  --model M        tokenizer manifest (default: media/models/patchlens-vq16/manifest.json; tiny: the test model)
  --images DIR     photos to crop and flip (default: media/sample)
  --entries N      database entries (default 100k; 1m for the large figure)
  --share X        share of the images each update replaces, in percent (default 1)
  --rounds N       CLI and watcher updates each (default 2)
  --backend B      hnsw (default) or lance (CLI updates only: the watcher builds HNSW databases)
  --out NAME       results name under bench/results (default update, or update-<entries>)
  --keep           leave the scratch dataset and database in place (printed) to profile further updates`;

interface Run {
  ms: number;
  added: number;
  updated: number;
  removed: number;
  /** What the update wrote for the index: a delta file or a whole new index. */
  wrote: 'delta' | 'index' | 'rows';
  indexBytes: number;
  timings?: Record<string, number>;
}

function cli(args: string[]): Promise<{ ms: number; out: string }> {
  return new Promise((resolve, reject) => {
    const t0 = now();
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'patchlens.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve({ ms: now() - t0, out }) : reject(new Error(`patchlens ${args[0]} exited with ${code}: ${err}`))));
  });
}

/** Replaces `count` images of the folder (not yet replaced) with other pixels: a different crop, flipped. */
async function replaceImages(root: string, pool: string[], count: number): Promise<string[]> {
  const chosen = pool.splice(0, count);
  for (const name of chosen) {
    const p = path.join(root, name);
    const buf = await sharp(fs.readFileSync(p)).flop().modulate({ brightness: 1.1 }).jpeg({ quality: 90 }).toBuffer();
    fs.rmSync(p); // a link to the cached original: unlink, then write a new file
    fs.writeFileSync(p, buf);
  }
  return chosen;
}

function describe(dbDir: string, ms: number, r: { added: number; updated: number; removed: number; timings?: Record<string, number>; backend?: string }): Run {
  // a Lance update appends and deletes rows; its vector index is rebuilt only past 10% unindexed
  if (r.backend === 'lance') return { ms, added: r.added, updated: r.updated, removed: r.removed, wrote: 'rows', indexBytes: 0, timings: r.timings };
  const m = PatchDatabase.open(dbDir, { verify: false })!.manifest;
  const wrote = m.index.delta && m.index.delta.file.endsWith(`-${m.generation}.hnsw`) ? 'delta' : 'index';
  return {
    ms,
    added: r.added,
    updated: r.updated,
    removed: r.removed,
    wrote,
    indexBytes: wrote === 'delta' ? m.index.delta!.bytes : m.index.bytes,
    timings: r.timings,
  };
}

async function main(): Promise<void> {
  const v = parseBenchArgs(USAGE, {
    model: { type: 'string' },
    images: { type: 'string' },
    entries: { type: 'string' },
    share: { type: 'string' },
    rounds: { type: 'string' },
    out: { type: 'string' },
    backend: { type: 'string' },
    keep: { type: 'boolean' },
  });
  const lance = v.backend === 'lance';
  if (v.backend !== undefined && !lance && v.backend !== 'hnsw') fail('--backend must be hnsw or lance');
  const backendArgs = lance ? ['--backend', 'lance'] : [];
  const log = (l: string) => console.error(l);
  const model = await resolveModel(v.model);
  const images = resolveImages(v.images);
  const entries = intListArg(v.entries, 'entries', [100_000])[0];
  const share = Number(v.share ?? 1) / 100;
  if (!(share > 0 && share < 1)) fail('--share must be a percentage between 0 and 100');
  const rounds = intArg(v.rounds, 'rounds', 2);
  const info = await loadModelInfo(model);
  const perImage = entryCount(info.rows, info.cols, DEFAULT_KEYS.shape, DEFAULT_KEYS.hops, DEFAULT_KEYS.border);
  const photos = fs.readdirSync(images).length;
  const variants = Math.max(1, Math.ceil(entries / perImage / Math.max(1, photos - Math.floor(photos / 10))));
  const set = await augmentedSet({ images, variants, holdOutEvery: 10, queryVariants: 1, size: info.manifest.input.width, log });

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'patchlens-bench-update-'));
  const root = path.join(work, 'data');
  const dbDir = path.join(work, 'db');
  fs.mkdirSync(root);
  const names = fs.readdirSync(set.dbImages).sort();
  for (const n of names) fs.linkSync(path.join(set.dbImages, n), path.join(root, n));
  const perUpdate = Math.max(1, Math.round(names.length * share));
  const pool = shuffled(names, seededRng(18));
  const engine = new EngineClient();
  try {
    log(`== full build: ${names.length} images (~${names.length * perImage} entries), patchlens index (CLI)`);
    const full = await cli(['index', root, '--db', dbDir, '--model', model, ...backendArgs, '--json', '--quiet']);
    const fullRes = JSON.parse(full.out);
    log(`  ${(full.ms / 1000).toFixed(1)} s (${fullRes.entries} entries)`);
    const runs: { via: 'cli' | 'watcher'; run: Run }[] = [];
    for (let r = 0; r < rounds; r++) {
      await replaceImages(root, pool, perUpdate);
      const c = await cli(['index', root, '--db', dbDir, '--model', model, ...backendArgs, '--json', '--quiet']);
      runs.push({ via: 'cli', run: describe(dbDir, c.ms, JSON.parse(c.out)) });
      log(
        `  update ${perUpdate} images via the CLI: ${(c.ms / 1000).toFixed(2)} s (${((c.ms / full.ms) * 100).toFixed(1)} % of the full build), wrote ${runs.at(-1)!.run.wrote}`,
      );
      if (lance) continue;
      await replaceImages(root, pool, perUpdate);
      const t0 = now();
      const w = await engine.request('build', { root, dbDir, model }, { timeoutMs: 0 });
      const ms = now() - t0;
      runs.push({ via: 'watcher', run: describe(dbDir, ms, w as unknown as Run) });
      log(
        `  update ${perUpdate} images via the engine worker (the watcher's path): ${(ms / 1000).toFixed(2)} s (${((ms / full.ms) * 100).toFixed(1)} %), wrote ${runs.at(-1)!.run.wrote}`,
      );
    }
    const med = (via: 'cli' | 'watcher') => {
      const xs = runs
        .filter((x) => x.via === via)
        .map((x) => x.run.ms)
        .sort((a, b) => a - b);
      return xs.length ? xs[Math.floor((xs.length - 1) / 2)] : NaN;
    };
    const result = {
      benchmark: 'update',
      date: new Date().toISOString(),
      machine: machineInfo(),
      backend: lance ? 'lance' : 'hnsw',
      data: { model: path.relative(ROOT, model), images: names.length, entries: fullRes.entries, perUpdateImages: perUpdate, share },
      fullBuild: { ms: sig(full.ms), timings: fullRes.timings },
      updates: runs.map((x) => ({ via: x.via, ...x.run, ms: sig(x.run.ms), shareOfFull: sig(x.run.ms / full.ms) })),
      cli: { medianMs: sig(med('cli')), shareOfFull: sig(med('cli') / full.ms) },
      watcher: { medianMs: sig(med('watcher')), shareOfFull: sig(med('watcher') / full.ms) },
    };
    const file = writeResult(v.out ?? `${entries === 100_000 ? 'update' : `update-${entries}`}${lance ? '-lance' : ''}`, result);
    console.log(
      table(
        ['', 'wall s', 'of the full build', 'index bytes written'],
        [
          [`full build, ${names.length} images`, sig(full.ms / 1000), '100 %', ''],
          ...runs.map((x) => [
            `update ${perUpdate} images (${(share * 100).toFixed(0)} %) via ${x.via === 'cli' ? 'patchlens index' : 'the engine worker (watcher)'}`,
            sig(x.run.ms / 1000),
            `${((x.run.ms / full.ms) * 100).toFixed(1)} %`,
            `${x.run.indexBytes} (${x.run.wrote})`,
          ]),
        ],
      ),
    );
    console.log(`wrote ${file}`);
  } finally {
    await engine.dispose();
    if (v.keep) log(`kept the dataset ${root} and the database ${dbDir}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => fail(err instanceof Error ? (err.stack ?? err.message) : String(err)));
