// What an open checks when a verified record (verified.json) is there, and
// what the background check of long-lived sessions catches: a rewrite through
// the file system (even of the same size with its mtime set back) is hashed
// and reported before anything is read; damage the record cannot see (as if
// from beneath the file system: contents changed, identity kept) is caught by
// verifyContents, after which the engine worker stops answering from the
// database and the next open hashes everything again.

import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatabaseError, PatchDatabase, recordVerified, manifestChecksum } from '../../src/engine/database';
import { buildDatabase } from '../../src/engine/indexer';
import { EngineClient } from '../../src/engine/engineClient';
import { VERIFIED_FILE } from '../../src/engine/integrity';
import { writeTinyModel } from '../support/tinyModel';
import { tempDir, writeDataset } from '../support/fixtures';

const work = tempDir('patchlens-faults-integrity-');
const base = path.join(work, 'base');
let model = '';
let copies = 0;

before(async () => {
  model = writeTinyModel(path.join(work, 'model'), { size: 64, patch: 8, dim: 4, codes: 64 });
  await writeDataset(base, 4, { seed: 41 });
  await buildDatabase({ root: base, model, workers: 1 });
});

/** A copy of the built database, opened once so that its own verified record is written. */
function copy(): { root: string; db: string; manifest: { index: { file: string }; segments: { file: string }[]; prototypes: { file: string } } } {
  const root = path.join(work, `copy-${copies++}`);
  fs.cpSync(base, root, { recursive: true, preserveTimestamps: true });
  const db = path.join(root, '.patchlens');
  assert.equal(PatchDatabase.open(db)!.checked, 'full', 'a copy has other inodes: the record does not match, everything is hashed');
  return { root, db, manifest: JSON.parse(fs.readFileSync(path.join(db, 'manifest.json'), 'utf8')) };
}

/** Flips one bit in the middle of a file without changing its size, then sets its mtime (and atime) back. */
function flipKeepingMtime(file: string): void {
  const st = fs.statSync(file);
  const fd = fs.openSync(file, 'r+');
  const b = Buffer.alloc(1);
  const at = Math.floor(st.size / 2);
  fs.readSync(fd, b, 0, 1, at);
  b[0] ^= 0x10;
  fs.writeSync(fd, b, 0, 1, at);
  fs.closeSync(fd);
  fs.utimesSync(file, st.atime, st.mtime);
  assert.equal(fs.statSync(file).mtimeMs, st.mtimeMs);
  assert.equal(fs.statSync(file).size, st.size);
}

/** Damage the record cannot see: the contents changed, and the record rewritten to the file's identity as it is now. */
function flipBeneathTheFileSystem(db: string, file: string): void {
  flipKeepingMtime(path.join(db, file));
  const text = fs.readFileSync(path.join(db, 'manifest.json'), 'utf8');
  recordVerified(db, PatchDatabase.open(db, { verify: false })!.manifest, manifestChecksum(text));
}

test('a build records its files; opens after it check sizes and identities only', () => {
  const db = path.join(base, '.patchlens');
  const rec = JSON.parse(fs.readFileSync(path.join(db, VERIFIED_FILE), 'utf8'));
  assert.equal(rec.files.length, 3, 'index, codes, one segment');
  assert.equal(PatchDatabase.open(db)!.checked, 'identity');
  assert.equal(PatchDatabase.open(db, { verify: true })!.checked, 'full', 'verify: true still hashes everything');
  assert.equal(PatchDatabase.open(db, { verify: false })!.checked, 'sizes');
});

test('a same-size bit flip with the mtime set back is caught at open (ctime moved), in every file', () => {
  for (const which of ['index', 'segment', 'codes'] as const) {
    const { db, manifest } = copy();
    assert.equal(PatchDatabase.open(db)!.checked, 'identity');
    const file = which === 'index' ? manifest.index.file : which === 'segment' ? manifest.segments[0].file : manifest.prototypes.file;
    flipKeepingMtime(path.join(db, file));
    assert.throws(
      () => PatchDatabase.open(db),
      (e: unknown) =>
        e instanceof DatabaseError &&
        e.message === `the database file ${path.join(db, file)} is damaged (checksum mismatch). Rebuild the database (patchlens index --rebuild)`,
      which,
    );
  }
});

test('a file replaced by another of the same size is caught at open (another inode)', () => {
  const { db, manifest } = copy();
  const f = path.join(db, manifest.segments[0].file);
  const st = fs.statSync(f);
  const b = fs.readFileSync(f);
  b[7] ^= 0x01;
  fs.writeFileSync(`${f}.new`, b);
  fs.renameSync(`${f}.new`, f);
  fs.utimesSync(f, st.atime, st.mtime);
  assert.throws(() => PatchDatabase.open(db), /is damaged \(checksum mismatch\)/);
});

test('damage the record cannot see: open answers, the background check finds it, the record is dropped', async () => {
  for (const which of ['index', 'segment'] as const) {
    const { db, manifest } = copy();
    flipBeneathTheFileSystem(db, which === 'index' ? manifest.index.file : manifest.segments[0].file);
    const opened = PatchDatabase.open(db)!;
    assert.equal(opened.checked, 'identity', 'not caught at open: the identity is what was recorded');
    opened.assertIntact();
    const found = await opened.verifyContents();
    assert.ok(found instanceof DatabaseError, which);
    assert.match(found.message, /is damaged \(checksum mismatch\)\. Rebuild the database/);
    assert.throws(() => opened.assertIntact(), /is damaged/);
    assert.equal(fs.existsSync(path.join(db, VERIFIED_FILE)), false, 'the record is gone');
    assert.throws(() => PatchDatabase.open(db), /is damaged \(checksum mismatch\)/, 'the next open hashes everything');
  }
  const { db } = copy();
  assert.equal(await PatchDatabase.open(db)!.verifyContents(), undefined, 'an intact database passes');
});

test('an index file written in place while a session has it open (answered from in place: mapped) stops the session', () => {
  const { db, manifest } = copy();
  const opened = PatchDatabase.open(db)!;
  const key = new Float32Array(opened.keyDim);
  const answer = opened.index.search(key, 5);
  opened.assertIntact();
  flipKeepingMtime(path.join(db, manifest.index.file));
  assert.throws(() => opened.assertIntact(), /index-\d+\.hnsw was changed while open \(it is never rewritten in place\)\. Rebuild the database/);
  assert.throws(() => opened.assertIntact(), /was changed while open/, 'and stays stopped');
  assert.equal(fs.existsSync(path.join(db, VERIFIED_FILE)), false, 'the record is gone: the next open hashes everything');
  assert.throws(() => PatchDatabase.open(db), /is damaged \(checksum mismatch\)/);
  // a file removed (a build committed a new generation) is not damage: the mapping keeps the old contents
  const { db: db2, manifest: m2 } = copy();
  const other = PatchDatabase.open(db2)!;
  fs.rmSync(path.join(db2, m2.index.file));
  other.assertIntact();
  assert.deepEqual(other.index.search(key, 5).length, answer.length);
});

let engine: EngineClient | undefined;
after(() => engine?.dispose());

test('the engine worker stops answering from a database its background check found damaged', async () => {
  const { root, db, manifest } = copy();
  flipBeneathTheFileSystem(db, manifest.index.file);
  engine = new EngineClient();
  const image = path.join(
    root,
    fs.readdirSync(root).find((f) => f.endsWith('.png'))!,
  );
  const ask = () => engine!.request('query', { dbDir: db, image, row: 2, col: 2, options: { k: 3 } });
  // The first answer may come before the check ends; within seconds every request fails with the damage.
  let failure: Error | undefined;
  const deadline = Date.now() + 60_000;
  while (!failure && Date.now() < deadline) {
    failure = await ask().then(
      () => undefined,
      (e: Error) => e,
    );
    if (!failure) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(failure, 'the damage was reported');
  assert.equal(failure.name, 'RebuildNeededError');
  assert.match(failure.message, new RegExp(`the database file .*${manifest.index.file} is damaged \\(checksum mismatch\\)\\. Rebuild the database`));
  await assert.rejects(engine.request('summary', { dbDir: db }), /is damaged/, 'every request on it');
});

/** A copy of a dataset with its database, opened once so that the copy's own verified record is written. */
function copyTree(src: string): { root: string; db: string; manifest: { index: { file: string }; prototypes: { file: string } } } {
  const root = path.join(work, `copy-${copies++}`);
  fs.cpSync(src, root, { recursive: true, preserveTimestamps: true });
  const db = path.join(root, '.patchlens');
  PatchDatabase.open(db);
  return { root, db, manifest: JSON.parse(fs.readFileSync(path.join(db, 'manifest.json'), 'utf8')) };
}

test('an update hashes the files it copies bytes from, not the whole index: damage there stops it; damage in a file it only names stays findable', async () => {
  const src = path.join(work, 'updates');
  await writeDataset(src, 12, { seed: 43, width: 64, height: 64 });
  await buildDatabase({ root: src, model, workers: 1 });
  const addOne = (root: string, n = 1, opts: { verify?: boolean } = {}) =>
    writeDataset(root, n, { seed: 47, width: 64, height: 64, prefix: 'new' }).then(() => buildDatabase({ root, model, workers: 1, ...opts }));

  // The codes (prototype sums) are carried into every update's new codes file.
  {
    const { root, db, manifest } = copyTree(src);
    flipBeneathTheFileSystem(db, manifest.prototypes.file);
    const before = fs.readFileSync(path.join(db, 'manifest.json'), 'utf8');
    await assert.rejects(
      addOne(root),
      (e: Error) => e.name === 'RebuildNeededError' && e.message.includes(`${manifest.prototypes.file} is damaged (checksum mismatch)`),
    );
    assert.equal(fs.readFileSync(path.join(db, 'manifest.json'), 'utf8'), before, 'the previous database stays');
    assert.equal(fs.existsSync(path.join(db, VERIFIED_FILE)), false, 'the record is gone: the next open hashes everything');
  }
  // A small update writes a delta beside the base index and names the base as it was: the base is not hashed.
  {
    const { root, db, manifest } = copyTree(src);
    flipBeneathTheFileSystem(db, manifest.index.file);
    const res = await addOne(root);
    assert.equal(res.images, 13);
    const after = JSON.parse(fs.readFileSync(path.join(db, 'manifest.json'), 'utf8')) as { index: { file: string; delta?: unknown } };
    assert.ok(after.index.delta, 'a delta update');
    assert.equal(after.index.file, manifest.index.file, 'the base index is named, not copied');
    assert.throws(
      () => PatchDatabase.open(db, { verify: true }),
      new RegExp(`${manifest.index.file} is damaged \\(checksum mismatch\\)`),
      'a full check still finds it',
    );
  }
  // index --verify hashes everything first.
  {
    const { root, db, manifest } = copyTree(src);
    flipBeneathTheFileSystem(db, manifest.index.file);
    await assert.rejects(addOne(root, 1, { verify: true }), new RegExp(`${manifest.index.file} is damaged`));
  }
  // A larger update folds into a new index from the base and the records: both are hashed first.
  {
    const { root, db, manifest } = copyTree(src);
    flipBeneathTheFileSystem(db, manifest.index.file);
    await assert.rejects(addOne(root, 4), new RegExp(`${manifest.index.file} is damaged`));
  }
});
