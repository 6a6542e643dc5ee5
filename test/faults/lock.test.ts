// Two builds of one database at once: the second is refused with a message
// naming the holder, or waits (--wait) and then runs; a lock left by a killed
// build is recovered. The extension's engine worker calls the same
// buildDatabase (same lock file), so the in-process call stands in for it.

import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { buildDatabase } from '../../src/engine/indexer';
import { DatabaseLockedError } from '../../src/engine/database';
import { writeTinyModel } from '../support/tinyModel';
import { tempDir, writeDataset } from '../support/fixtures';
import { bin, buildCli, cli, killStragglers, snapshot, startPaused, type CliResult } from './helpers';

const work = tempDir('patchlens-faults-lock-');
let model = '';

before(async () => {
  buildCli();
  model = writeTinyModel(path.join(work, 'model'), { size: 64, patch: 8, dim: 4, codes: 64 });
});
after(killStragglers);

async function dataset(name: string): Promise<string> {
  const root = path.join(work, name);
  await writeDataset(root, 3, { seed: 5 });
  assert.equal(cli(['index', root, '--model', model, '--quiet']).code, 0);
  await writeDataset(root, 3, { prefix: 'new', seed: 6 });
  return root;
}

/** Starts `index` in the background; resolves when it exits. */
function background(args: string[]): { done: Promise<CliResult>; exited: () => boolean } {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let gone = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code, signal) => {
      gone = true;
      const reasons = stderr.split('\n').filter((l) => l.startsWith('patchlens: '));
      resolve({ code, signal, stdout, stderr, reason: reasons[reasons.length - 1] ?? '', json: () => JSON.parse(stdout) });
    }),
  );
  return { done, exited: () => gone };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a second build is refused with the holder named (CLI and in-process); it writes nothing', async () => {
  const root = await dataset('refuse');
  const db = path.join(root, '.patchlens');
  const a = await startPaused(['index', root, '--model', model, '--batch', '1'], 'encode');
  const during = snapshot(db);
  const b = cli(['index', root, '--model', model, '--json']);
  assert.equal(b.code, 1);
  assert.match(
    b.reason,
    new RegExp(
      `^patchlens: the database ${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is being built by process ${a.child.pid} on ${os.hostname()} \\(index .*\\)\\. Wait for it to finish, or cancel it$`,
    ),
  );
  assert.equal(b.stdout, '', 'no JSON result for a refused build');
  await assert.rejects(buildDatabase({ root, model }), (e: unknown) => e instanceof DatabaseLockedError && e.message.includes(`process ${a.child.pid}`));
  assert.deepEqual(snapshot(db), during, 'the refused builds touched nothing');
  const r = await a.resume();
  assert.equal(r.code, 0, r.stderr);
  assert.equal(cli(['stats', '--db', db, '--json']).json().images, 6);
});

test('--wait waits for the running build, then runs (and finds the work done)', async () => {
  const root = await dataset('wait');
  const a = await startPaused(['index', root, '--model', model, '--json', '--batch', '1'], 'encode');
  const c = background(['index', root, '--model', model, '--json', '--wait', '--quiet']);
  await sleep(1500);
  assert.equal(c.exited(), false, 'the waiting build is still waiting');
  const ra = await a.resume();
  assert.equal(ra.code, 0, ra.stderr);
  assert.equal(ra.json().added, 3);
  const rc = await c.done;
  assert.equal(rc.code, 0, rc.stderr);
  assert.equal(rc.json().upToDate, true);
});

test('a build killed with -9 leaves a stale lock; a waiting build and a new build both recover it', async () => {
  const root = await dataset('stale');
  const db = path.join(root, '.patchlens');
  const a = await startPaused(['index', root, '--model', model, '--batch', '1'], 'index');
  const c = background(['index', root, '--model', model, '--json', '--wait', '--quiet']);
  await sleep(800);
  assert.equal(c.exited(), false);
  await a.kill9();
  const rc = await c.done;
  assert.equal(rc.code, 0, rc.stderr);
  assert.equal(rc.json().added, 3, "the waiting build did the killed build's work");
  assert.ok(!fs.existsSync(path.join(db, 'lock')));

  // a lock file naming a dead process (e.g. after a reboot), without anyone waiting
  const dead = await startPaused(['index', root, '--model', model, '--rebuild'], 'encode');
  const pid = dead.child.pid;
  await dead.kill9();
  assert.equal(JSON.parse(fs.readFileSync(path.join(db, 'lock'), 'utf8')).pid, pid);
  const next = cli(['index', root, '--model', model, '--json', '--quiet']);
  assert.equal(next.code, 0, next.stderr);
  assert.equal(next.json().upToDate, true);
  assert.ok(!fs.existsSync(path.join(db, 'lock')));
});

test('an unreadable lock is respected while fresh and recovered after 30 s; a lock from another host is respected', () => {
  const root = path.join(work, 'garbage-lock');
  const db = path.join(root, '.patchlens');
  fs.mkdirSync(db, { recursive: true });
  fs.writeFileSync(path.join(root, 'x.png'), '');
  const lock = path.join(db, 'lock');
  fs.writeFileSync(lock, '{"pid": 12'); // a crash while the lock was being written
  const fresh = cli(['index', root, '--model', model]);
  assert.equal(fresh.code, 1);
  assert.match(fresh.reason, /is being built by another process/);
  const old = new Date(Date.now() - 60_000);
  fs.utimesSync(lock, old, old);
  const recovered = cli(['index', root, '--model', model, '--json', '--quiet']);
  assert.equal(recovered.code, 0, recovered.stderr);
  fs.writeFileSync(lock, JSON.stringify({ pid: 1, host: 'some-other-host', startedAt: 'then', what: 'index elsewhere' }));
  const other = cli(['index', root, '--model', model]);
  assert.equal(other.code, 1);
  assert.match(other.reason, /being built by process 1 on some-other-host/);
});
