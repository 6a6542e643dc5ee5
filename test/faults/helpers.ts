// Shared by the fault suite: the bundled CLI run as a user runs it (a child
// process), builds stopped at a named point (PATCHLENS_TEST_PAUSE_AT, see
// src/engine/testHooks.ts), and snapshots of database folders.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export const repo = path.resolve(__dirname, '..', '..');
export const bin = path.join(repo, 'bin', 'patchlens.js');

/** Bundles the CLI and the encode worker (npm test builds them too; this keeps a suite run self-contained). */
export function buildCli(): void {
  const b = spawnSync(process.execPath, [path.join(repo, 'scripts', 'build.mjs'), '--only=cli,encodeWorker'], { cwd: repo, encoding: 'utf8' });
  assert.equal(b.status, 0, b.stderr);
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  json(): any;
  /** The `patchlens: ...` reason line on stderr (the last such line). */
  readonly reason: string;
}

export interface CliOptions {
  readonly cwd?: string;
  readonly env?: Record<string, string>;
  /** Run as another user: the prefix command, e.g. ['setpriv', '--reuid=nobody', ...]. */
  readonly prefix?: readonly string[];
}

function result(code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string): CliResult {
  const reasons = stderr.split('\n').filter((l) => l.startsWith('patchlens: '));
  return {
    code,
    signal,
    stdout,
    stderr,
    reason: reasons[reasons.length - 1] ?? '',
    json: () => {
      try {
        return JSON.parse(stdout);
      } catch {
        assert.fail(`not JSON on stdout (exit ${code}): ${stdout}\n${stderr}`);
      }
    },
  };
}

const childEnv = (extra?: Record<string, string>) => {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), ONNXRUNTIME_NODE_INSTALL: 'skip', ...extra };
  delete env.PATCHLENS_TEST_PAUSE_AT;
  if (extra?.PATCHLENS_TEST_PAUSE_AT) env.PATCHLENS_TEST_PAUSE_AT = extra.PATCHLENS_TEST_PAUSE_AT;
  return env;
};

export function cli(args: readonly string[], opts: CliOptions = {}): CliResult {
  const [cmd, ...pre] = opts.prefix?.length ? [...opts.prefix, process.execPath] : [process.execPath];
  const r = spawnSync(cmd, [...pre, bin, ...args], {
    cwd: opts.cwd ?? repo,
    encoding: 'utf8',
    env: childEnv(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
  });
  return result(r.status, r.signal, r.stdout, r.stderr);
}

/** A CLI child stopped at a pause point: resume it, or kill it there. */
export interface PausedCli {
  readonly child: ChildProcess;
  /** Lets the build go on; resolves with its result. */
  resume(): Promise<CliResult>;
  /** SIGKILL (kill -9); resolves once the process is gone and reaped. */
  kill9(): Promise<CliResult>;
  /** Sends a signal, then resumes (a paused build cannot run signal handlers). */
  signalThenResume(sig: NodeJS.Signals): Promise<CliResult>;
}

const live = new Set<ChildProcess>();

/** Kills every paused child still running (call from `after`, so a failed test cannot leave one behind). */
export function killStragglers(): void {
  for (const c of live) c.kill('SIGKILL');
  live.clear();
}

export async function startPaused(args: readonly string[], point: string, opts: CliOptions = {}): Promise<PausedCli> {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: opts.cwd ?? repo,
    env: childEnv({ ...opts.env, PATCHLENS_TEST_PAUSE_AT: point }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  child.on('exit', () => live.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve(result(code, signal, stdout, stderr))));
  const marker = `patchlens-test: paused at ${point}`;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no pause at ${point} within 60 s; stderr:\n${stderr}`)), 60_000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (stderr.includes(marker)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void done.then((r) => {
      clearTimeout(timer);
      reject(new Error(`exited (${r.code ?? r.signal}) before pausing at ${point}:\n${r.stderr}`));
    });
  });
  return {
    child,
    resume: () => {
      child.stdin!.end('\n');
      return done;
    },
    kill9: () => {
      child.kill('SIGKILL');
      return done;
    },
    signalThenResume: (sig) => {
      child.kill(sig);
      // give the signal time to be delivered before the main thread runs again
      return new Promise((r) => setTimeout(r, 100)).then(() => {
        child.stdin!.end('\n');
        return done;
      });
    },
  };
}

/**
 * File name -> SHA-256 of every file in a folder (not recursive), but for
 * verified.json: the record of the last full check, which any open that hashed
 * everything may write (it holds no data; a stale one only makes the next open
 * hash again).
 */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fs.readdirSync(dir).sort()) {
    if (f === 'verified.json') continue;
    const p = path.join(dir, f);
    if (fs.statSync(p).isFile()) out[f] = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
  }
  return out;
}

/** The files a database manifest names, plus the manifest itself. */
export function namedFiles(dbDir: string): string[] {
  const m = JSON.parse(fs.readFileSync(path.join(dbDir, 'manifest.json'), 'utf8'));
  // verified.json: the record of the last full check, written by the build at its commit
  const record = fs.existsSync(path.join(dbDir, 'verified.json')) ? ['verified.json'] : [];
  return [
    '.gitignore',
    'manifest.json',
    ...record,
    m.index.file,
    ...(m.index.delta ? [m.index.delta.file] : []),
    m.prototypes.file,
    ...m.segments.map((s: { file: string }) => s.file),
  ].sort();
}

/** Files anywhere under dir (and dir itself) whose name is `name`. */
export function findNamed(dir: string, name: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name === name) out.push(path.join(d, e.name));
      if (e.isDirectory()) walk(path.join(d, e.name));
    }
  };
  walk(dir);
  return out;
}

/** Whether this process can mount filesystems (root with CAP_SYS_ADMIN, e.g. CI containers run as root). */
export function canMount(scratch: string): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const dir = path.join(scratch, 'mount-probe');
  fs.mkdirSync(dir, { recursive: true });
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' }).status === 0;
  if (ok) spawnSync('umount', [dir], { stdio: 'ignore' });
  return ok;
}

/** Mounts a tmpfs of the given size (root only); returns an unmount function. */
export function mountTmpfs(dir: string, size: string, readOnly = false): () => void {
  fs.mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}${readOnly ? ',ro' : ''}`, 'tmpfs', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  let mounted = true;
  const unmount = () => {
    if (!mounted) return;
    mounted = false;
    spawnSync('umount', ['-l', dir], { stdio: 'ignore' });
  };
  process.once('exit', unmount);
  return unmount;
}

/** A command prefix that runs a program as `nobody`, when this process is root and setpriv exists. */
export function asNobody(): string[] | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
  const probe = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'true'], { stdio: 'ignore' });
  if (probe.status !== 0) {
    const alt = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true'], { stdio: 'ignore' });
    return alt.status === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : undefined;
  }
  return ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];
}
