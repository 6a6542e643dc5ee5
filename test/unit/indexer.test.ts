import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildDatabase, BuildCancelledError } from '../../src/engine/indexer';
import { encoderLayout } from '../../src/engine/encoderPool';
import { DatabaseError, DatabaseLockedError, PatchDatabase, clearDatabase } from '../../src/engine/database';
import { acquireLock } from '../../src/engine/buildLock';
import { PatchRetriever } from '../../src/engine/retrieval';
import { Tokenizer } from '../../src/engine/tokenizer';
import { entryCount } from '../../src/core/neighbourhood';
import { writeTinyModel } from '../support/tinyModel';
import { tempDir, texturedImage, writeDataset } from '../support/fixtures';

const work = tempDir();
let model = '';
let model2 = '';

before(async () => {
  model = writeTinyModel(path.join(work, 'model'), { size: 64, patch: 8, dim: 4, codes: 128, decoder: true });
  model2 = writeTinyModel(path.join(work, 'model2'), { size: 64, patch: 8, dim: 4, codes: 128, seed: 99 });
});

async function dataset(name: string, n: number): Promise<string> {
  const root = path.join(work, name);
  await writeDataset(root, n, { seed: n + name.length });
  return root;
}

function retriever(root: string): PatchRetriever {
  const db = PatchDatabase.open(path.join(root, '.patchlens'))!;
  return new PatchRetriever(db, root, () => Tokenizer.load(model));
}

test('a build indexes every image: entries = images x entries per image; a corrupt file is skipped with a reason', async () => {
  const root = await dataset('basic', 6);
  fs.writeFileSync(path.join(root, 'broken.jpg'), 'not a jpeg');
  fs.mkdirSync(path.join(root, 'sub'));
  await (await texturedImage(70, 90, 77)).jpeg().toFile(path.join(root, 'sub', 'nested photo.jpg'));
  const res = await buildDatabase({ root, model });
  const per = entryCount(8, 8, 'causal', 1, 'skip');
  assert.equal(per, 7 * 6);
  assert.equal(res.images, 7);
  assert.equal(res.entries, 7 * per);
  assert.deepEqual(
    res.skipped.map((s) => s.path),
    ['broken.jpg'],
  );
  assert.match(res.skipped[0].error, /not a readable image/);
  const db = PatchDatabase.open(res.db)!;
  assert.deepEqual(
    db.manifest.images.map((i) => i.path),
    ['img-00.png', 'img-01.png', 'img-02.png', 'img-03.png', 'img-04.png', 'img-05.png', 'sub/nested photo.jpg'],
  );
  assert.equal(db.manifest.images[6].width, 70);
  // labels map back to the right image and position
  const img = db.manifest.images[3];
  assert.deepEqual(db.locate(img.firstLabel), { image: 3, row: 1, col: 1 });
  assert.deepEqual(db.locate(img.firstLabel + per - 1), { image: 3, row: 7, col: 6 });
});

test('a patch of an indexed image finds itself first at distance 0; HNSW agrees with exact search', async () => {
  const root = await dataset('self', 8);
  await buildDatabase({ root, model });
  const r = retriever(root);
  const g = await r.tokenGrid('img-03.png');
  assert.equal(g.inDatabase, true);
  let agree = 0;
  let total = 0;
  for (let row = 1; row < 8; row++) {
    for (let col = 1; col < 7; col++) {
      const exact = await r.query(g, row, col, { k: 10, exact: true });
      assert.equal(exact.results[0].image, 'img-03.png');
      assert.deepEqual([exact.results[0].row, exact.results[0].col], [row, col]);
      assert.equal(exact.results[0].distance, 0);
      assert.equal(exact.query.token, g.tokens[row * 8 + col]);
      const approx = await r.query(g, row, col, { k: 10 });
      const truth = new Set(exact.results.map((x) => `${x.image}:${x.row}:${x.col}`));
      agree += approx.results.filter((x) => truth.has(`${x.image}:${x.row}:${x.col}`)).length;
      total += 10;
      // distances are squared L2 and sorted
      for (let i = 1; i < exact.results.length; i++) assert.ok(exact.results[i].distance >= exact.results[i - 1].distance);
    }
  }
  assert.ok(agree / total >= 0.95, `recall@10 ${agree / total}`);
  const excl = await r.query(g, 4, 4, { k: 20, exact: true, excludeSelf: true });
  assert.ok(excl.results.every((x) => x.image !== 'img-03.png'));
  // DAiD: the distribution covers exactly the retrieved tokens and sums to 1
  assert.deepEqual(new Set(excl.distribution.map((d) => d.token)), new Set(excl.results.map((x) => x.token)));
  assert.ok(Math.abs(excl.distribution.reduce((a, d) => a + d.p, 0) - 1) < 1e-9);
  await assert.rejects(() => r.query(g, 8, 0), RangeError);
});

test('an image outside the database is tokenized on the fly and gets the same tokens as when indexed', async () => {
  const root = await dataset('outside', 5);
  await buildDatabase({ root, model });
  const extra = path.join(work, 'outside-extra.png');
  fs.copyFileSync(path.join(root, 'img-02.png'), extra);
  const r = retriever(root);
  const inside = await r.tokenGrid('img-02.png');
  const outside = await r.tokenGrid(extra);
  assert.equal(outside.inDatabase, false);
  assert.deepEqual(Array.from(outside.tokens), Array.from(inside.tokens));
  const q = await r.query(outside, 3, 3, { k: 1, exact: true });
  assert.deepEqual([q.results[0].image, q.results[0].row, q.results[0].col, q.results[0].distance], ['img-02.png', 3, 3, 0]);
});

test('incremental: only new and changed images are encoded, removed ones dropped, and it says so', async () => {
  const root = await dataset('incr', 6);
  const first = await buildDatabase({ root, model });
  assert.equal(first.added, 6);
  const again = await buildDatabase({ root, model });
  assert.equal(again.upToDate, true);
  assert.equal(again.unchanged, 6);
  // touch without change: not re-encoded
  const now = new Date(Date.now() + 5000);
  fs.utimesSync(path.join(root, 'img-00.png'), now, now);
  fs.rmSync(path.join(root, 'img-01.png'));
  await (await texturedImage(100, 100, 4242)).png().toFile(path.join(root, 'img-02.png'));
  await writeDataset(root, 2, { prefix: 'new', seed: 5 });
  const second = await buildDatabase({ root, model });
  assert.deepEqual([second.added, second.updated, second.removed, second.unchanged], [2, 1, 1, 4]);
  assert.equal(second.images, 7);
  const per = entryCount(8, 8, 'causal', 1, 'skip');
  assert.equal(second.entries, 7 * per);
  const r = retriever(root);
  // the removed image never comes back; the changed one answers with its new content
  const g = await r.tokenGrid('img-02.png');
  const fresh = await r.tokenGrid(path.join(root, 'img-02.png'));
  assert.deepEqual(Array.from(g.tokens), Array.from(fresh.tokens));
  for (let row = 1; row < 8; row += 2) {
    const q = await r.query(g, row, 3, { k: 50, exact: true });
    assert.ok(q.results.every((x) => x.image !== 'img-01.png'));
    assert.deepEqual([q.results[0].image, q.results[0].distance], ['img-02.png', 0]);
    const h = await r.query(g, row, 3, { k: 50 });
    assert.ok(h.results.every((x) => x.image !== 'img-01.png'));
  }
  assert.equal((await buildDatabase({ root, model })).upToDate, true);
});

test('removing most images compacts the segments; nothing stray is left in the folder', async () => {
  const root = await dataset('compact', 8);
  await buildDatabase({ root, model });
  for (let i = 0; i < 6; i++) fs.rmSync(path.join(root, `img-0${i}.png`));
  const res = await buildDatabase({ root, model });
  assert.equal(res.images, 2);
  const db = PatchDatabase.open(res.db)!;
  assert.equal(db.manifest.segments.length, 1);
  assert.equal(db.manifest.segments[0].bytes, 2 * 8 * 8 * 4 * (2 + 4));
  const files = fs.readdirSync(res.db).sort();
  assert.deepEqual(files, [
    '.gitignore',
    `codes-${res.generation}.bin`,
    `index-${res.generation}.hnsw`,
    'manifest.json',
    `seg-${res.generation}.bin`,
    'verified.json',
  ]);
  assert.match(fs.readFileSync(path.join(res.db, '.gitignore'), 'utf8'), /^\*$/m, 'git ignores the whole database folder');
  const g = await retriever(root).tokenGrid('img-07.png');
  assert.equal((await retriever(root).query(g, 2, 2, { k: 1, exact: true })).results[0].distance, 0);
});

test('other key parameters or another model are never mixed in: clear error, or rebuild explicitly', async () => {
  const root = await dataset('mix', 3);
  await buildDatabase({ root, model });
  await assert.rejects(
    buildDatabase({ root, model, keys: { hops: 2 } }),
    (e: unknown) => e instanceof DatabaseError && /built with keys causal h=1.*not causal h=2/.test(e.message) && /--rebuild/.test(e.message),
  );
  await assert.rejects(buildDatabase({ root, model: model2 }), (e: unknown) => e instanceof DatabaseError && /built with model/.test(e.message));
  const res = await buildDatabase({ root, model, keys: { shape: 'ring', hops: 2, border: 'zero', source: 'code' }, rebuild: true });
  assert.equal(res.entries, 3 * 64);
  const db = PatchDatabase.open(res.db)!;
  assert.deepEqual(db.keys, { shape: 'ring', hops: 2, border: 'zero', source: 'code' });
  assert.equal(db.keyDim, 24 * 4);
  // code keys: a query built from codes matches the stored code keys exactly
  const r = new PatchRetriever(db, root);
  const g = await r.tokenGrid('img-01.png');
  const q = await r.query(g, 0, 0, { k: 1, exact: true, queryKeys: 'code' });
  assert.equal(q.results[0].distance, 0);
});

test('a cancelled build leaves the previous database exactly as it was', async () => {
  const root = await dataset('cancel', 4);
  await buildDatabase({ root, model });
  const before = fs.readFileSync(path.join(root, '.patchlens', 'manifest.json'), 'utf8');
  const q0 = await retriever(root).query(await retriever(root).tokenGrid('img-01.png'), 3, 3, { k: 5 });
  await writeDataset(root, 6, { prefix: 'more', seed: 8 });
  const controller = new AbortController();
  const run = buildDatabase({
    root,
    model,
    signal: controller.signal,
    batchSize: 1,
    onProgress: (p) => p.phase === 'encode' && p.done === 2 && controller.abort(),
  });
  await assert.rejects(run, BuildCancelledError);
  assert.equal(fs.readFileSync(path.join(root, '.patchlens', 'manifest.json'), 'utf8'), before);
  assert.ok(!fs.existsSync(path.join(root, '.patchlens', 'lock')), 'the lock is released');
  assert.deepEqual(
    fs.readdirSync(path.join(root, '.patchlens')).filter((f) => f.includes('-2.')),
    [],
    'no files of the cancelled generation',
  );
  const q1 = await retriever(root).query(await retriever(root).tokenGrid('img-01.png'), 3, 3, { k: 5 });
  assert.deepEqual(q1.results, q0.results);
});

test("one build at a time: a second is refused, or waits with `wait`; a dead holder's lock is recovered", async () => {
  const root = await dataset('lock', 2);
  const dbDir = path.join(root, '.patchlens');
  fs.mkdirSync(dbDir, { recursive: true });
  const release = await acquireLock(dbDir, 'test holder');
  await assert.rejects(buildDatabase({ root, model }), (e: unknown) => e instanceof DatabaseLockedError && /being built by process \d+/.test(e.message));
  const waiting = buildDatabase({ root, model, wait: true });
  setTimeout(release, 300);
  assert.equal((await waiting).images, 2);
  // a lock left by a process that no longer exists
  fs.writeFileSync(
    path.join(dbDir, 'lock'),
    JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname(), startedAt: 'then', what: 'killed' }),
  );
  fs.writeFileSync(path.join(root, 'img-00.png'), fs.readFileSync(path.join(root, 'img-01.png')));
  assert.equal((await buildDatabase({ root, model })).updated, 1);
});

test('file names with markup, quotes, shell syntax and unicode are kept verbatim, never interpreted', async () => {
  const root = path.join(work, 'names');
  fs.mkdirSync(root);
  const names = ['<img src=x onerror=alert(1)>.png', '$(touch pwned).png', 'it\'s "quoted".png', 'café ☕ 写真.png', 'a b; rm -rf ~.png'];
  for (const [i, n] of names.entries()) await (await texturedImage(64, 64, 300 + i)).png().toFile(path.join(root, n));
  const res = await buildDatabase({ root, model });
  assert.equal(res.images, names.length);
  const db = PatchDatabase.open(res.db)!;
  assert.deepEqual(new Set(db.manifest.images.map((i) => i.path)), new Set(names));
  assert.ok(!fs.existsSync(path.join(root, 'pwned')) && !fs.existsSync('pwned'));
});

test('skip and zero borders, ring and causal, h = 1..3 give the documented entry counts', async () => {
  const root = await dataset('shapes', 2);
  for (const [shape, hops, border] of [
    ['causal', 3, 'skip'],
    ['ring', 1, 'skip'],
    ['ring', 3, 'zero'],
    ['causal', 2, 'zero'],
  ] as const) {
    const res = await buildDatabase({ root, model, keys: { shape, hops, border }, rebuild: true });
    assert.equal(res.entries, 2 * entryCount(8, 8, shape, hops, border), `${shape} h=${hops} ${border}`);
  }
});

test('the default encoder layout: one single-thread worker per core, at most 4; threads from the cores left', () => {
  assert.deepEqual(encoderLayout(undefined, undefined, 1), { workers: 1, threads: 1 });
  assert.deepEqual(encoderLayout(undefined, undefined, 2), { workers: 2, threads: 1 });
  assert.deepEqual(encoderLayout(undefined, undefined, 8), { workers: 4, threads: 1 });
  assert.deepEqual(encoderLayout(undefined, undefined, 16), { workers: 4, threads: 3 });
  // Asked for: one worker gets the cores but one; never more workers than cores.
  assert.deepEqual(encoderLayout(1, undefined, 8), { workers: 1, threads: 7 });
  assert.deepEqual(encoderLayout(6, 2, 4), { workers: 4, threads: 2 });
});

test('the database does not depend on the number of workers: same labels, tokens and index bytes', async () => {
  const root = await dataset('layout', 9);
  // Batches of 1 over 3 workers finish out of order; their images still get labels in file order.
  const dbs = await Promise.all(
    [1, 3].map(async (workers) => {
      const dbDir = path.join(work, `layout-db-${workers}`);
      await buildDatabase({ root, dbDir, model, workers, threads: 1, batchSize: 1 });
      return PatchDatabase.open(dbDir)!;
    }),
  );
  const [a, b] = dbs;
  const strip = (db: PatchDatabase) => db.manifest.images.map(({ path: p, firstLabel, sha256, entries }) => ({ p, firstLabel, sha256, entries }));
  assert.deepEqual(strip(a), strip(b));
  for (let i = 0; i < a.manifest.images.length; i++) assert.deepEqual(a.record(i).tokens, b.record(i).tokens);
  const bytes = (db: PatchDatabase, dir: string) => fs.readFileSync(path.join(dir, db.manifest.index.file));
  assert.ok(bytes(a, path.join(work, 'layout-db-1')).equals(bytes(b, path.join(work, 'layout-db-3'))), 'index files differ');
});

test('clearDatabase: refused while a build holds the lock (nothing removed); then removes the database and its folder', async () => {
  const root = await dataset('clear', 3);
  const dbDir = path.join(work, 'clear-db');
  await buildDatabase({ root, dbDir, model });
  fs.writeFileSync(path.join(dbDir, 'notes.txt'), 'not ours');
  const before = fs.readdirSync(dbDir).sort();
  const release = await acquireLock(dbDir, 'a build');
  await assert.rejects(clearDatabase(dbDir), DatabaseLockedError);
  release();
  assert.deepEqual(fs.readdirSync(dbDir).sort(), before);
  const freed = await clearDatabase(dbDir);
  assert.ok(freed > 0);
  // Only what a database writes is removed; a stranger's file keeps the folder.
  assert.deepEqual(fs.readdirSync(dbDir), ['notes.txt']);
  fs.rmSync(path.join(dbDir, 'notes.txt'));
  await buildDatabase({ root, dbDir, model });
  await clearDatabase(dbDir);
  assert.equal(fs.existsSync(dbDir), false);
});

test('a small update writes a delta beside the unchanged index file; searches see both; a larger one folds them into a new index', async () => {
  const root = await dataset('delta', 50);
  const first = await buildDatabase({ root, model });
  const base = PatchDatabase.open(first.db)!.manifest.index;
  assert.equal(base.delta, undefined);
  fs.rmSync(path.join(root, 'img-01.png'));
  await (await texturedImage(100, 100, 4243)).png().toFile(path.join(root, 'img-02.png'));
  await writeDataset(root, 1, { prefix: 'new', seed: 6 });
  const second = await buildDatabase({ root, model });
  assert.deepEqual([second.added, second.updated, second.removed, second.unchanged], [1, 1, 1, 48]);
  const db = PatchDatabase.open(second.db)!;
  const mi = db.manifest.index;
  assert.equal(db.manifest.format, 'patchlens.db/v2');
  assert.deepEqual([mi.file, mi.sha256], [base.file, base.sha256], "the index file is the first build's");
  assert.ok(mi.delta && mi.delta.file === `delta-${second.generation}.hnsw` && mi.delta.entries === 2 * 42);
  assert.equal(
    mi.delta.baseRemoved.reduce((a, r) => a + r[1], 0),
    2 * 42,
  );
  assert.deepEqual(
    fs.readdirSync(second.db).sort(),
    [
      '.gitignore',
      `codes-${second.generation}.bin`,
      mi.delta.file,
      base.file,
      'manifest.json',
      `seg-${first.generation}.bin`,
      `seg-${second.generation}.bin`,
      'verified.json',
    ].sort(),
  );
  assert.equal(db.index.size, 50 * 42);
  // Every image's own patches come back first, from the base and from the delta; the removed image never.
  const r = retriever(root);
  for (const name of ['img-02.png', 'new-00.png', 'img-30.png']) {
    const g = await r.tokenGrid(name);
    for (const [row, col] of [
      [1, 1],
      [4, 5],
      [7, 6],
    ]) {
      const h = await r.query(g, row, col, { k: 30 });
      assert.deepEqual([h.results[0].image, h.results[0].distance], [name, 0], `${name} ${row},${col}`);
      assert.ok(h.results.every((x) => x.image !== 'img-01.png'));
      assert.deepEqual(
        (await r.query(g, row, col, { k: 1, exact: true })).results.map((x) => [x.image, x.distance]),
        [[name, 0]],
      );
    }
  }
  // Ten more images: past the delta's share, so a new base holds everything and the delta is gone.
  await writeDataset(root, 10, { prefix: 'more', seed: 7 });
  const third = await buildDatabase({ root, model });
  const m3 = PatchDatabase.open(third.db)!.manifest;
  assert.equal(m3.format, 'patchlens.db/v1');
  assert.equal(m3.index.delta, undefined);
  assert.equal(m3.index.file, `index-${third.generation}.hnsw`);
  assert.equal(m3.index.entries, 60 * 42);
  const r3 = retriever(root);
  for (const name of ['new-00.png', 'more-03.png', 'img-40.png']) {
    const g = await r3.tokenGrid(name);
    assert.deepEqual([(await r3.query(g, 3, 3, { k: 5 })).results[0].image, (await r3.query(g, 3, 3, { k: 5 })).results[0].distance], [name, 0]);
  }
  assert.ok(!fs.readdirSync(third.db).some((f) => f.startsWith('delta-')), 'no stray delta');
});
