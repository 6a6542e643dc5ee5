// Shared by the benchmark scripts: arguments, the model and image folder with
// clear messages when missing, the machine's description, statistics, tables
// and result files. Benchmarks print figures; nothing here asserts a time.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Worker } from 'node:worker_threads';
import { cpuCount } from '../../src/engine/encoderPool';
import { startWorker } from '../../src/engine/startWorker';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CACHE = path.join(ROOT, '.cache', 'bench');
export const RESULTS = path.join(ROOT, 'bench', 'results');
export const DEFAULT_MODEL = path.join(ROOT, 'media', 'models', 'patchlens-vq16', 'manifest.json');
export const DEFAULT_IMAGES = path.join(ROOT, 'media', 'sample');
/** Debian's FAISS and numpy live under the system Python, not the first python3 on PATH. */
export const PYTHON = process.env.PATCHLENS_BENCH_PYTHON ?? '/usr/bin/python3';

export class BenchUsageError extends Error {}

export function parseBenchArgs<T extends NonNullable<ParseArgsConfig['options']>>(usage: string, options: T) {
  let parsed;
  try {
    parsed = parseArgs({ args: process.argv.slice(2), options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: false, strict: true });
  } catch (err) {
    fail(`${(err as Error).message}\n\n${usage}`);
  }
  if ((parsed.values as { help?: boolean }).help) {
    console.log(usage);
    process.exit(0);
  }
  return parsed.values;
}

export function fail(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(2);
}

export function intArg(v: string | undefined, name: string, def: number, min = 1): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

export function intListArg(v: string | undefined, name: string, def: number[]): number[] {
  if (v === undefined) return def;
  const out = v.split(',').map((s) => Number(s.trim().replace(/k$/i, '000').replace(/m$/i, '000000')));
  if (out.some((n) => !Number.isInteger(n) || n < 1))
    fail(`--${name} must be a comma-separated list of positive integers (10k, 1m allowed), got ${JSON.stringify(v)}`);
  return out;
}

/**
 * The tokenizer manifest to benchmark: --model, else the bundled one. `tiny`
 * writes the test suite's patchify model (256 px, 16x16, d = 8) into the cache:
 * it runs everywhere but its encoder is far cheaper than a real one.
 */
export async function resolveModel(arg: string | undefined): Promise<string> {
  if (arg === 'tiny') {
    const { writeTinyModel } = await import('../../test/support/tinyModel.js');
    const dir = path.join(CACHE, 'models', 'tiny-256-d8');
    const manifest = path.join(dir, 'manifest.json');
    if (!fs.existsSync(manifest)) writeTinyModel(dir, { size: 256, patch: 16, dim: 8, codes: 4096, seed: 7, name: 'tiny-256-p16-d8-k4096' });
    return manifest;
  }
  const p = path.resolve(arg ?? DEFAULT_MODEL);
  if (!fs.existsSync(p)) {
    fail(
      arg
        ? `the model manifest ${p} does not exist`
        : `the bundled tokenizer is not in this checkout (${path.relative(ROOT, p)}). Pass --model <manifest.json>, or --model tiny for the test suite's patchify model (its encoder is much cheaper than a real one, so encoder-bound figures mean little)`,
    );
  }
  return p;
}

/** The image folder to benchmark: --images, else the bundled sample dataset. */
export function resolveImages(arg: string | undefined): string {
  const p = path.resolve(arg ?? DEFAULT_IMAGES);
  if (!fs.existsSync(p) || !fs.statSync(p).isDirectory()) {
    fail(
      arg ? `the image folder ${p} does not exist` : `the sample dataset is not in this checkout (${path.relative(ROOT, p)}). Pass --images <folder of photos>`,
    );
  }
  return p;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  loadAverageAtStart: number[];
  packages: Record<string, string>;
}

function packageVersion(name: string): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return 'missing';
  }
}

export function machineInfo(): MachineInfo {
  let osName = `${os.type()} ${os.release()}`;
  try {
    const rel = fs.readFileSync('/etc/os-release', 'utf8');
    osName = /^PRETTY_NAME="?([^"\n]*)/m.exec(rel)?.[1] ?? osName;
  } catch {
    /* not Linux */
  }
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: cpuCount(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: osName,
    node: process.version,
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
    packages: Object.fromEntries(['hnswlib-node', 'onnxruntime-node', 'sharp'].map((n) => [n, packageVersion(n)])),
  };
}

/** FAISS and numpy versions of the system Python, or undefined when FAISS is missing. */
export function faissVersion(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import faiss, numpy; print(faiss.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

/** Linear-interpolated percentile (p in 0..100). */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const r = (p / 100) * (s.length - 1);
  const lo = Math.floor(r);
  const hi = Math.ceil(r);
  return s[lo] + (s[hi] - s[lo]) * (r - lo);
}

/** Rounds to `digits` significant digits for printing and JSON. */
export function sig(x: number, digits = 3): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const m = Math.pow(10, digits - Math.ceil(Math.log10(Math.abs(x))));
  return Math.round(x * m) / m;
}

export type Cell = string | number | undefined;

/** A plain-text table with right-aligned numbers. */
export function table(headers: readonly string[], rows: readonly Cell[][]): string {
  const text = rows.map((r) => r.map((c) => (c === undefined ? '' : typeof c === 'number' ? String(sig(c)) : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...text.map(line)].join('\n');
}

/** Writes bench/results/<name>.json and returns its path. */
export function writeResult(name: string, data: unknown): string {
  fs.mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
  return file;
}

export function fileBytes(p: string): number {
  return fs.statSync(p).size;
}

export function mkCache(...parts: string[]): string {
  const dir = path.join(CACHE, ...parts);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Lets the event loop and the garbage collector settle between timed sections. */
export async function settle(): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 50));
}

export const now = () => performance.now();

/** Starts a bench worker thread: compiled next to the bundle (dist/bench/<name>.js), or from source under tsx. */
export const startBenchWorker = (name: string, workerData: unknown): Worker => startWorker(name, workerData, __dirname);

/** CPU milliseconds of a process.cpuUsage() reading or difference. */
export const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;
