// Open + first answer at several database sizes, side by side in one run: the
// one-shot CLI (`patchlens query --json`, spawn to exit), the same with
// --verify (every file hashed: what every open did before verified.json), the
// engine worker the extension uses (worker start, open, first query), a query
// through `patchlens serve` once it is up, and reading the database's files
// from the page cache (the floor). Interleaved rounds, medians.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { EngineClient } from '../../src/engine/engineClient';
import { ensureBenchDatabase, type BenchDatabase } from './benchDatabase';
import { ROOT, median, sig } from './common';

const BIN = path.join(ROOT, 'bin', 'patchlens.js');

export interface OpenResult {
  readonly entries: number;
  readonly databaseMB: number;
  /** Reading every database file from the page cache. */
  readonly readMs: number;
  /** `patchlens query … --json`, spawn to exit. */
  readonly cliMs: number;
  readonly cliVerifyMs: number;
  /** The open alone inside one process (the part of cliMs that grows with the database), and what it checked. */
  readonly openMs: number;
  readonly checked: string;
  /** CPU time (robust on a shared machine): reading the files, the open, the open hashing everything (verify: true). */
  readonly readCpuMs: number;
  readonly openCpuMs: number;
  readonly openVerifyCpuMs: number;
  /** The extension host process's CPU until the engine worker's first answer (worker start included). */
  readonly engineCpuMs: number;
  /** Resident memory of a process that opened the database and answered once. */
  readonly cliRssMB: number;
  /** The engine worker: new worker, open, first query answered. */
  readonly engineMs: number;
  /** Growth of the extension host process's resident memory (the worker is a thread in it). */
  readonly engineRssMB: number;
  /** A query through a running `serve` (the client spawned: its start included). */
  readonly serveClientMs: number;
}

const cpu = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

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

function cliQuery(db: BenchDatabase, extra: string[]): number {
  const img = path.join(db.root, 'photo-00001.png');
  const t = performance.now();
  const r = spawnSync(process.execPath, [BIN, 'query', img, '--at', '5,5', '--json', '--db', db.dbDir, ...extra], { encoding: 'utf8' });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`patchlens query failed: ${r.stderr}`);
  return ms;
}

/** Opens and queries in a fresh process; its open time, what it checked and its resident memory after answering. */
function probe(db: BenchDatabase, verify: boolean): { openMs: number; cpuMs: number; checked: string; rssMB: number } {
  const script = `
    const { PatchDatabase } = require(${JSON.stringify(path.join(__dirname, 'openProbe.js'))});
    const c = process.cpuUsage();
    const t = performance.now();
    const db = PatchDatabase.open(${JSON.stringify(db.dbDir)}, ${verify ? '{ verify: true }' : '{}'});
    const openMs = performance.now() - t;
    const u = process.cpuUsage(c);
    db.index.search(new Float32Array(db.keyDim), 10);
    console.log(JSON.stringify({ openMs, cpuMs: (u.user + u.system) / 1000, checked: db.checked, rssMB: process.memoryUsage().rss / 2 ** 20 }));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`open probe failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim()) as { openMs: number; cpuMs: number; checked: string; rssMB: number };
}

async function engineFirstAnswer(db: BenchDatabase): Promise<{ ms: number; cpuMs: number; rssMB: number }> {
  const rss0 = process.memoryUsage().rss;
  const engine = new EngineClient();
  try {
    const c = process.cpuUsage();
    const t = performance.now();
    await engine.request('query', { dbDir: db.dbDir, image: path.join(db.root, 'photo-00001.png'), row: 5, col: 5, options: { k: 10 } }, { timeoutMs: 0 });
    const ms = performance.now() - t;
    return { ms, cpuMs: cpu(process.cpuUsage(c)), rssMB: (process.memoryUsage().rss - rss0) / 2 ** 20 };
  } finally {
    await engine.dispose();
  }
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
    for (let i = 0; i < rounds; i++) out.push(cliQuery(db, ['--server', socket]));
    return out;
  } finally {
    child.kill('SIGTERM');
  }
}

export async function runOpenBench(opts: { sizes: readonly number[]; rounds: number; log: (line: string) => void }): Promise<OpenResult[]> {
  const dbs: BenchDatabase[] = [];
  for (const size of opts.sizes) dbs.push(await ensureBenchDatabase(ROOT, size, opts.log));
  const runs = dbs.map(() => ({
    read: [] as number[],
    readCpu: [] as number[],
    cli: [] as number[],
    verify: [] as number[],
    open: [] as number[],
    openCpu: [] as number[],
    openVerifyCpu: [] as number[],
    rss: [] as number[],
    engine: [] as number[],
    engineCpu: [] as number[],
    engineRss: [] as number[],
    checked: '',
  }));
  for (const db of dbs) {
    readAll(db.dbDir); // page cache warm
    cliQuery(db, []); // writes verified.json if a database predates it
  }
  for (let r = 0; r < opts.rounds; r++) {
    for (const [i, db] of dbs.entries()) {
      opts.log(`open round ${r + 1}/${opts.rounds}: ${db.images} images`);
      const run = runs[i];
      const read = readAll(db.dbDir);
      run.read.push(read.ms);
      run.readCpu.push(read.cpuMs);
      run.cli.push(cliQuery(db, []));
      run.verify.push(cliQuery(db, ['--verify']));
      const p = probe(db, false);
      run.open.push(p.openMs);
      run.openCpu.push(p.cpuMs);
      run.rss.push(p.rssMB);
      run.checked = p.checked;
      run.openVerifyCpu.push(probe(db, true).cpuMs);
      const e = await engineFirstAnswer(db);
      run.engine.push(e.ms);
      run.engineCpu.push(e.cpuMs);
      run.engineRss.push(e.rssMB);
    }
  }
  const out: OpenResult[] = [];
  for (const [i, db] of dbs.entries()) {
    const run = runs[i];
    const manifest = JSON.parse(fs.readFileSync(path.join(db.dbDir, 'manifest.json'), 'utf8')) as { index: { entries: number } };
    out.push({
      entries: manifest.index.entries,
      databaseMB: sig(readAll(db.dbDir).bytes / 1e6),
      readMs: sig(median(run.read)),
      cliMs: sig(median(run.cli)),
      cliVerifyMs: sig(median(run.verify)),
      openMs: sig(median(run.open)),
      checked: run.checked,
      readCpuMs: sig(median(run.readCpu)),
      openCpuMs: sig(median(run.openCpu)),
      openVerifyCpuMs: sig(median(run.openVerifyCpu)),
      engineCpuMs: sig(median(run.engineCpu)),
      cliRssMB: sig(median(run.rss)),
      engineMs: sig(median(run.engine)),
      engineRssMB: sig(median(run.engineRss)),
      serveClientMs: sig(median(await serveClient(db, opts.rounds))),
    });
  }
  return out;
}

export function openTable(rows: readonly OpenResult[]): (string | number)[][] {
  return rows.map((r) => [
    r.entries.toLocaleString('en-US'),
    r.databaseMB,
    r.readMs,
    r.openMs,
    r.cliMs,
    r.cliVerifyMs,
    r.engineMs,
    r.serveClientMs,
    r.cliRssMB,
    r.engineRssMB,
  ]);
}

export const OPEN_HEADERS = [
  'entries',
  'files MB',
  'read files ms',
  'open ms',
  'CLI query ms',
  'CLI --verify ms',
  'engine worker ms',
  'serve client ms',
  'CLI RSS MB',
  'engine RSS +MB',
];

/** The same in CPU time, which a shared machine's load does not inflate. */
export function openCpuTable(rows: readonly OpenResult[]): (string | number)[][] {
  return rows.map((r) => [
    r.entries.toLocaleString('en-US'),
    r.readCpuMs,
    r.openCpuMs,
    sig(r.openCpuMs / r.readCpuMs),
    r.openVerifyCpuMs,
    r.engineCpuMs,
    r.checked,
  ]);
}

export const OPEN_CPU_HEADERS = [
  'entries',
  'read files CPU ms',
  'open CPU ms',
  'open / read',
  'open --verify CPU ms',
  'engine first answer CPU ms',
  'open checked',
];
