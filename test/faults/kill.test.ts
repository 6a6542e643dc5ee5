// kill -9 of the indexer (the CLI in a child process) at each point of an
// incremental build: the previous database still opens and answers queries
// byte-for-byte as before, and the next build recovers the stale lock, removes
// the dead build's files and completes.

import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeTinyModel } from '../support/tinyModel';
import { tempDir, texturedImage, writeDataset } from '../support/fixtures';
import { buildCli, cli, killStragglers, namedFiles, snapshot, startPaused } from './helpers';

const work = tempDir('patchlens-faults-kill-');
const base = path.join(work, 'base');
let model = '';
let answers: string[] = [];

/** The query answers the tests compare (HNSW and exact, a few positions and options). */
function queries(root: string): string[] {
  const out: string[] = [];
  for (const [img, at, extra] of [
    ['img-01.png', '3,3', []],
    ['img-03.png', '1,6', ['--exact', '--k', '20', '--exclude-self', '--query-keys', 'code']],
  ] as const) {
    const r = cli(['query', path.join(root, img), '--at', at, '--json', ...extra]);
    assert.equal(r.code, 0, r.stderr);
    out.push(r.stdout);
  }
  return out;
}

/** A copy of the built base dataset, then changed so that the next build has work: 3 new images, 1 changed. */
async function changedCopy(name: string): Promise<string> {
  const root = path.join(work, name);
  fs.cpSync(base, root, { recursive: true, preserveTimestamps: true });
  await writeDataset(root, 3, { prefix: 'new', seed: 9 });
  await (await texturedImage(90, 90, 4242)).png().toFile(path.join(root, 'img-00.png'));
  return root;
}

before(async () => {
  buildCli();
  model = writeTinyModel(path.join(work, 'model'), { size: 64, patch: 8, dim: 4, codes: 64 });
  await writeDataset(base, 5, { seed: 21 });
  // whole-second mtimes, so that copies (cpSync preserveTimestamps) keep them exactly and stay "indexed"
  for (const f of fs.readdirSync(base)) fs.utimesSync(path.join(base, f), 1.6e9, 1.6e9);
  const r = cli(['index', base, '--model', model, '--json', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  answers = queries(base);
});

after(killStragglers);

for (const point of ['encode', 'index', 'manifest'] as const) {
  test(`kill -9 during ${point}: the previous database is untouched and answers identically; the next build recovers`, async () => {
    const root = await changedCopy(`kill-${point}`);
    const db = path.join(root, '.patchlens');
    const before = snapshot(db);
    const p = await startPaused(['index', root, '--model', model, '--json', '--batch', '1'], point);
    // the dead build's files are there, next to the previous generation's
    const strays = Object.keys(snapshot(db)).filter((f) => !(f in before));
    assert.ok(strays.includes('lock'), `a lock while building: ${strays}`);
    if (point === 'encode') assert.ok(strays.includes('seg-2.bin'));
    if (point === 'index') {
      assert.ok(strays.includes('index-2.hnsw'));
      // and, as if the kill had come halfway through writing it, a torn index file
      const f = path.join(db, 'index-2.hnsw');
      fs.truncateSync(f, Math.floor(fs.statSync(f).size / 2));
    }
    if (point === 'manifest')
      assert.ok(
        strays.some((f) => /^manifest\.json\.tmp-\d+-\d+$/.test(f)),
        `a temp manifest: ${strays}`,
      );
    // readers are not blocked by a running build and see the previous generation
    assert.deepEqual(queries(root), answers);

    const killed = await p.kill9();
    assert.equal(killed.signal, 'SIGKILL');
    const after = snapshot(db);
    for (const [f, sha] of Object.entries(before)) assert.equal(after[f], sha, `${f} is unchanged`);
    assert.deepEqual(queries(root), answers, 'the same answers after the kill');
    const stats = cli(['stats', '--db', db, '--json']);
    assert.equal(stats.code, 0, stats.stderr);
    assert.equal(stats.json().images, 5);
    assert.equal(stats.json().generation, 1);

    // the next build: stale lock recovered, strays removed, the work done
    const next = cli(['index', root, '--model', model, '--json', '--quiet']);
    assert.equal(next.code, 0, next.stderr);
    const j = next.json();
    assert.deepEqual([j.added, j.updated, j.unchanged, j.images], [3, 1, 4, 8]);
    assert.deepEqual(fs.readdirSync(db).sort(), namedFiles(db), 'only the files the new manifest names');
    const q = cli(['query', path.join(root, 'new-01.png'), '--at', '2,2', '--exact', '--json']).json();
    assert.deepEqual([q.results[0].image, q.results[0].distance], ['new-01.png', 0]);
  });
}

test('kill -9 during a --rebuild: the previous database is untouched too', async () => {
  const root = await changedCopy('kill-rebuild');
  const db = path.join(root, '.patchlens');
  const before = snapshot(db);
  const p = await startPaused(['index', root, '--model', model, '--rebuild'], 'manifest');
  await p.kill9();
  const after = snapshot(db);
  for (const [f, sha] of Object.entries(before)) assert.equal(after[f], sha, `${f} is unchanged`);
  assert.deepEqual(queries(root), answers);
});

test('kill -9 right after the commit: the new database is in place; its leftovers go with the next build', async () => {
  const root = await changedCopy('kill-commit');
  const db = path.join(root, '.patchlens');
  const p = await startPaused(['index', root, '--model', model, '--json'], 'commit');
  await p.kill9();
  const q = cli(['query', path.join(root, 'new-02.png'), '--at', '4,4', '--exact', '--json']);
  assert.equal(q.code, 0, q.stderr);
  assert.deepEqual([q.json().results[0].image, q.json().results[0].distance], ['new-02.png', 0]);
  assert.equal(cli(['stats', '--db', db, '--json']).json().images, 8);
  assert.ok(fs.existsSync(path.join(db, 'seg-1.bin')) && fs.existsSync(path.join(db, 'lock')), 'the previous generation and the lock are still there');
  const next = cli(['index', root, '--model', model, '--json', '--quiet']);
  assert.equal(next.code, 0, next.stderr);
  assert.equal(next.json().upToDate, true);
  assert.deepEqual(fs.readdirSync(db).sort(), namedFiles(db), 'an up-to-date build still collects the garbage');
});

test('SIGINT / SIGTERM cancel a build: exit 130, the previous database unchanged, the lock released, nothing left', async () => {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    const root = await changedCopy(`cancel-${sig}`);
    const db = path.join(root, '.patchlens');
    const before = snapshot(db);
    const p = await startPaused(['index', root, '--model', model, '--batch', '1'], 'encode');
    const r = await p.signalThenResume(sig);
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.reason, /^patchlens: build cancelled; the previous database is unchanged$/);
    assert.deepEqual(snapshot(db), before);
    assert.deepEqual(queries(root), answers);
  }
});
