// Open + first answer at several database sizes, side by side in one run: the
// one-shot CLI (`patchlens query --json`, spawn to exit), the same with
// --verify (every file hashed: what every open did before verified.json), the
// engine worker the extension uses (worker start, open, first query, in a
// fresh process standing in for the extension host), a query through
// `patchlens serve` once it is up, and reading the database's files from the
// page cache (the floor). With a baseline addon (another build of
// hnswlib-node, e.g. main's loader before it mapped level 0), the CLI, the
// open and the engine worker run with both, interleaved. Interleaved rounds,
// medians.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ensureBenchDatabase, type BenchDatabase } from './benchDatabase';
import { ROOT, median, sig } from './common';

const BIN = path.join(ROOT, 'bin', 'patchlens.js');

export interface OpenResult {
  readonly entries: number;
  /** Which hnswlib-node addon: 'this checkout' or the baseline's file name. */
  readonly loader: string;
  readonly databaseMB: number;
  /** Reading every database file from the page cache. */
  readonly readMs: number;
  /** `patchlens query … --json`, spawn to exit, wall and CPU (the child's user + system; Linux). */
  readonly cliMs: number;
  readonly cliCpuMs?: number;
  readonly cliVerifyMs?: number;
  /** The open alone inside one process (the part of cliMs that grows with the database), and what it checked. */
  readonly openMs: number;
  readonly checked: string;
  /** CPU time (robust on a shared machine): reading the files, the open, the open hashing everything (verify: true). */
  readonly readCpuMs: number;
  readonly openCpuMs: number;
  readonly openVerifyCpuMs?: number;
  /** Resident memory of a process that opened the database and answered once: all of it, and its private (anonymous) part (Linux). */
  readonly cliRssMB: number;
  readonly cliAnonMB?: number;
  /** The engine worker: new worker, open, first query answered; the host process's CPU over it (worker start included). */
  readonly engineMs: number;
  readonly engineCpuMs: number;
  /** Growth of the host process's resident memory (the worker is a thread in it). */
  readonly engineRssMB: number;
  /** A query through a running `serve` (the client spawned: its start included). */
  readonly serveClientMs?: number;
}

interface Loader {
  readonly name: string;
  readonly env: NodeJS.ProcessEnv;
}

const cpu = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

/** CPU ms of this process's waited-for children so far (/proc/self/stat cutime + cstime); undefined off Linux. */
function childrenCpuMs(): number | undefined {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields 16 and 17 of proc(5), counted from 1 with pid and comm: here from 3
    return ((Number(f[13]) + Number(f[14])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

function readAll(dbDir: string): { ms: number; cpuMs: number; bytes: number } {
  const c = process.cpuUsage();
  const t = performance.now();
  let bytes = 0;
  for (const f of fs.readdirSync(dbDir)) {
    const p = path.join(dbDir, f);
    if (fs.statSync(p).isFile()) bytes += fs.readFileSync(p).length;
  }
  return { ms: performance.now() - t, cpuMs: cpu(process.cpuUsage(c)), bytes };
}

function cliQuery(db: BenchDatabase, extra: string[], env: NodeJS.ProcessEnv = {}): { ms: number; cpuMs?: number } {
  const img = path.join(db.root, 'photo-00001.png');
  const c0 = childrenCpuMs();
  const t = performance.now();
  const r = spawnSync(process.execPath, [BIN, 'query', img, '--at', '5,5', '--json', '--db', db.dbDir, ...extra], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  const ms = performance.now() - t;
  const c1 = childrenCpuMs();
  if (r.status !== 0) throw new Error(`patchlens query failed: ${r.stderr}`);
  return { ms, cpuMs: c0 === undefined || c1 === undefined ? undefined : c1 - c0 };
}

const PROBE = path.join(__dirname, 'openProbe.js');
const ANON = `(() => { try { return Number(/RssAnon:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]) / 1024; } catch { return undefined; } })()`;

function node(script: string, env: NodeJS.ProcessEnv): string {
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`probe failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** Opens and queries in a fresh process; its open time, what it checked and its resident memory after answering. */
function probe(db: BenchDatabase, verify: boolean, env: NodeJS.ProcessEnv) {
  const script = `
    const { PatchDatabase } = require(${JSON.stringify(PROBE)});
    const c = process.cpuUsage();
    const t = performance.now();
    const db = PatchDatabase.open(${JSON.stringify(db.dbDir)}, ${verify ? '{ verify: true }' : '{}'});
    const openMs = performance.now() - t;
    const u = process.cpuUsage(c);
    db.index.search(new Float32Array(db.keyDim), 10);
    console.log(JSON.stringify({ openMs, cpuMs: (u.user + u.system) / 1000, checked: db.checked, rssMB: process.memoryUsage().rss / 2 ** 20, anonMB: ${ANON} }));`;
  return JSON.parse(node(script, env)) as { openMs: number; cpuMs: number; checked: string; rssMB: number; anonMB?: number };
}

/** The engine worker's first answer in a fresh process (as in an extension host that just started). */
function engineFirstAnswer(db: BenchDatabase, env: NodeJS.ProcessEnv) {
  const params = { dbDir: db.dbDir, image: path.join(db.root, 'photo-00001.png'), row: 5, col: 5, options: { k: 10 } };
  const script = `
    const { EngineClient } = require(${JSON.stringify(PROBE)});
    (async () => {
      const rss0 = process.memoryUsage().rss;
      const engine = new EngineClient();
      const c = process.cpuUsage();
      const t = performance.now();
      await engine.request('query', ${JSON.stringify(params)}, { timeoutMs: 0 });
      const ms = performance.now() - t;
      const u = process.cpuUsage(c);
      const rssMB = (process.memoryUsage().rss - rss0) / 2 ** 20;
      await engine.dispose();
      console.log(JSON.stringify({ ms, cpuMs: (u.user + u.system) / 1000, rssMB }));
    })();`;
  return JSON.parse(node(script, env)) as { ms: number; cpuMs: number; rssMB: number };
}

async function serveClient(db: BenchDatabase, rounds: number): Promise<number[]> {
  const socket = path.join(db.dir, 'bench-serve.sock');
  const child = spawn(process.execPath, [BIN, 'serve', '--db', db.dbDir, '--socket', socket, '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', () => resolve());
      child.once('exit', (code) => reject(new Error(`serve exited (${code})`)));
    });
    const out: number[] = [];
    for (let i = 0; i < rounds; i++) out.push(cliQuery(db, ['--server', socket]).ms);
    return out;
  } finally {
    child.kill('SIGTERM');
  }
}

const medianOf = (xs: (number | undefined)[]) => {
  const ok = xs.filter((x): x is number => x !== undefined);
  return ok.length ? sig(median(ok)) : undefined;
};

export async function runOpenBench(opts: {
  sizes: readonly number[];
  rounds: number;
  log: (line: string) => void;
  /** Another build of hnswlib-node's addon.node to measure beside this checkout's. */
  baselineAddon?: string;
}): Promise<OpenResult[]> {
  const loaders: Loader[] = [{ name: 'this checkout', env: {} }];
  if (opts.baselineAddon) {
    const file = path.resolve(opts.baselineAddon);
    if (!fs.existsSync(file)) throw new Error(`no baseline addon ${file}`);
    const preload = path.join(__dirname, 'baselineAddon.js');
    const nodeOptions = [process.env.NODE_OPTIONS, `--require ${JSON.stringify(preload)}`].filter(Boolean).join(' ');
    loaders.push({ name: `baseline ${path.relative(ROOT, file)}`, env: { NODE_OPTIONS: nodeOptions, PATCHLENS_BENCH_HNSWLIB_ADDON: file } });
  }
  const dbs: BenchDatabase[] = [];
  for (const size of opts.sizes) dbs.push(await ensureBenchDatabase(ROOT, size, opts.log));
  const runs = dbs.map(() =>
    loaders.map(() => ({
      read: [] as number[],
      readCpu: [] as number[],
      cli: [] as number[],
      cliCpu: [] as (number | undefined)[],
      verify: [] as number[],
      open: [] as number[],
      openCpu: [] as number[],
      openVerifyCpu: [] as number[],
      rss: [] as number[],
      anon: [] as (number | undefined)[],
      engine: [] as number[],
      engineCpu: [] as number[],
      engineRss: [] as number[],
      checked: '',
    })),
  );
  for (const db of dbs) {
    readAll(db.dbDir); // page cache warm
    cliQuery(db, []); // writes verified.json if a database predates it
  }
  for (let r = 0; r < opts.rounds; r++) {
    for (const [i, db] of dbs.entries()) {
      opts.log(`open round ${r + 1}/${opts.rounds}: ${db.images} images`);
      for (const [j, loader] of loaders.entries()) {
        const run = runs[i][j];
        const read = readAll(db.dbDir);
        run.read.push(read.ms);
        run.readCpu.push(read.cpuMs);
        const q = cliQuery(db, [], loader.env);
        run.cli.push(q.ms);
        run.cliCpu.push(q.cpuMs);
        const p = probe(db, false, loader.env);
        run.open.push(p.openMs);
        run.openCpu.push(p.cpuMs);
        run.rss.push(p.rssMB);
        run.anon.push(p.anonMB);
        run.checked = p.checked;
        const e = engineFirstAnswer(db, loader.env);
        run.engine.push(e.ms);
        run.engineCpu.push(e.cpuMs);
        run.engineRss.push(e.rssMB);
        if (j === 0) {
          // hashing every file: the same whichever loader follows
          run.verify.push(cliQuery(db, ['--verify']).ms);
          run.openVerifyCpu.push(probe(db, true, loader.env).cpuMs);
        }
      }
    }
  }
  const out: OpenResult[] = [];
  for (const [i, db] of dbs.entries()) {
    const manifest = JSON.parse(fs.readFileSync(path.join(db.dbDir, 'manifest.json'), 'utf8')) as { index: { entries: number } };
    const databaseMB = sig(readAll(db.dbDir).bytes / 1e6);
    const serve = sig(median(await serveClient(db, opts.rounds)));
    for (const [j, loader] of loaders.entries()) {
      const run = runs[i][j];
      out.push({
        entries: manifest.index.entries,
        loader: loader.name,
        databaseMB,
        readMs: sig(median(run.read)),
        cliMs: sig(median(run.cli)),
        cliCpuMs: medianOf(run.cliCpu),
        cliVerifyMs: medianOf(run.verify),
        openMs: sig(median(run.open)),
        checked: run.checked,
        readCpuMs: sig(median(run.readCpu)),
        openCpuMs: sig(median(run.openCpu)),
        openVerifyCpuMs: medianOf(run.openVerifyCpu),
        cliRssMB: sig(median(run.rss)),
        cliAnonMB: medianOf(run.anon),
        engineMs: sig(median(run.engine)),
        engineCpuMs: sig(median(run.engineCpu)),
        engineRssMB: sig(median(run.engineRss)),
        serveClientMs: j === 0 ? serve : undefined,
      });
    }
  }
  return out;
}

const dash = (x: number | undefined) => (x === undefined ? '-' : x);

export function openTable(rows: readonly OpenResult[]): (string | number)[][] {
  return rows.map((r) => [
    r.entries.toLocaleString('en-US'),
    r.loader,
    r.databaseMB,
    r.readMs,
    r.openMs,
    r.cliMs,
    dash(r.cliVerifyMs),
    r.engineMs,
    dash(r.serveClientMs),
    r.cliRssMB,
    dash(r.cliAnonMB),
    r.engineRssMB,
  ]);
}

export const OPEN_HEADERS = [
  'entries',
  'loader',
  'files MB',
  'read files ms',
  'open ms',
  'CLI query ms',
  'CLI --verify ms',
  'engine worker ms',
  'serve client ms',
  'CLI RSS MB',
  'CLI private MB',
  'engine RSS +MB',
];

/** The same in CPU time, which a shared machine's load does not inflate. */
export function openCpuTable(rows: readonly OpenResult[]): (string | number)[][] {
  return rows.map((r) => [
    r.entries.toLocaleString('en-US'),
    r.loader,
    r.readCpuMs,
    r.openCpuMs,
    sig(r.openCpuMs / r.readCpuMs),
    dash(r.openVerifyCpuMs),
    dash(r.cliCpuMs),
    r.engineCpuMs,
    r.checked,
  ]);
}

export const OPEN_CPU_HEADERS = [
  'entries',
  'loader',
  'read files CPU ms',
  'open CPU ms',
  'open / read',
  'open --verify CPU ms',
  'CLI query CPU ms',
  'engine first answer CPU ms',
  'open checked',
];
