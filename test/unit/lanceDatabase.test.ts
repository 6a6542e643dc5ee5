import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildDatabase } from '../../src/engine/indexer';
import { buildLanceDatabase } from '../../src/engine/lanceBuilder';
import { LanceDatabase, RecordFile, recordsDir } from '../../src/engine/lanceDatabase';
import { PatchDatabase } from '../../src/engine/database';
import { PatchRetriever } from '../../src/engine/retrieval';
import { excludeImages } from '../../src/engine/patchStore';
import { entryCount } from '../../src/core/neighbourhood';
import { writeTinyModel } from '../support/tinyModel';
import { tempDir, texturedImage, writeDataset } from '../support/fixtures';

const work = tempDir();
let model = '';
let root = '';
const per = entryCount(8, 8, 'causal', 1, 'skip');

before(async () => {
  model = writeTinyModel(path.join(work, 'model'), { size: 64, patch: 8, dim: 4, codes: 128 });
  root = path.join(work, 'data');
  await writeDataset(root, 24, { seed: 7 });
});

const key = (r: { image: string; row: number; col: number }) => `${r.image}@${r.row},${r.col}`;

test('a local Lance database answers as the HNSW one does with exact search, before and after reopening', async () => {
  const uri = path.join(work, 'flat');
  const res = await buildLanceDatabase({ root, model, uri });
  assert.equal(res.images, 24);
  assert.equal(res.entries, 24 * per);
  assert.equal(res.indexed, undefined, 'a small table is searched flat');
  await buildDatabase({ root, model });
  const hnsw = new PatchRetriever(PatchDatabase.open(path.join(root, '.patchlens'))!, root);
  const lance = await LanceDatabase.connect(uri);
  assert.ok(lance);
  assert.deepEqual(
    lance.manifest.images.map((i) => i.path),
    hnsw.db.manifest.images.map((i) => i.path),
  );
  const r = new PatchRetriever(lance, root);
  for (const image of ['img-02.png', 'img-11.png']) {
    const g = await r.tokenGrid(image);
    assert.equal(g.inDatabase, true);
    assert.deepEqual(Array.from(g.tokens), Array.from((await hnsw.tokenGrid(image)).tokens));
    for (const [row, col] of [
      [1, 1],
      [4, 3],
      [7, 6],
    ]) {
      const want = await hnsw.query(g, row, col, { k: 10, exact: true });
      const got = await r.query(g, row, col, { k: 10 });
      assert.deepEqual(got.results.map(key), want.results.map(key), `${image} ${row},${col}`);
      // the tokens come from the entries table (no record read), and are the records' tokens
      assert.deepEqual(
        got.results.map((h) => h.token),
        want.results.map((h) => h.token),
      );
      for (const h of await lance.index.search(lance.keyAt(g.latents, row, col), 10)) {
        const at: { image: number; row: number; col: number } = lance.locate(h.label)!;
        assert.equal(h.token, lance.record(at.image).tokens[at.row * 8 + at.col]);
      }
      got.results.forEach((h, i) => assert.ok(Math.abs(h.distance - want.results[i].distance) < 1e-4));
      const ex = await r.query(g, row, col, { k: 10, excludeSelf: true });
      assert.ok(ex.results.length === 10 && ex.results.every((h) => h.image !== image), 'the query image never leaks through the filter');
    }
  }
  // reopened: the same records and answers
  lance.close();
  const again = (await LanceDatabase.connect(uri))!;
  const g = await new PatchRetriever(again, root).tokenGrid('img-05.png');
  assert.equal((await new PatchRetriever(again, root).query(g, 3, 3, { k: 1 })).results[0].distance, 0);
  assert.equal(again.locate(again.image(4).firstLabel + per - 1)?.image, 4);
  // every record, read back from the records file, is the HNSW database's (tokens, distances, latents)
  for (let i = 0; i < again.manifest.images.length; i++) {
    const a = again.record(i);
    const b = hnsw.db.record(hnsw.db.imageIndex.get(again.image(i).path)!);
    assert.deepEqual(
      [Array.from(a.tokens), Array.from(a.distances), Array.from(a.latents)],
      [Array.from(b.tokens), Array.from(b.distances), Array.from(b.latents)],
    );
  }
  again.close();
});

test('RecordFile: records read back as written, a bounded number kept in memory, no file left behind, closed after the grace time', async () => {
  const dir = recordsDir();
  if (process.platform === 'linux') assert.notEqual(dir, os.tmpdir(), 'not /tmp, often a tmpfs: memory');
  const before = new Set(fs.readdirSync(dir).filter((f) => f.startsWith('patchlens-records-')));
  const rb = 64;
  const f = new RecordFile(rb, 16 * rb);
  const all = new Uint8Array(100 * rb);
  for (let i = 0; i < all.length; i++) all[i] = (i * 31 + 7) & 0xff;
  assert.equal(f.append(all.subarray(0, 40 * rb)), 0);
  assert.equal(f.append(all.subarray(40 * rb)), 40);
  assert.throws(() => f.append(new Uint8Array(rb + 1)), RangeError);
  assert.equal(f.count, 100);
  if (process.platform !== 'win32')
    assert.deepEqual(
      fs.readdirSync(dir).filter((n) => n.startsWith('patchlens-records-') && !before.has(n)),
      [],
      'unlinked at once: nothing is left even if the process is killed',
    );
  for (const i of [0, 99, 57, 0, 13, 40]) assert.deepEqual(Array.from(f.read(i)), Array.from(all.subarray(i * rb, (i + 1) * rb)), `record ${i}`);
  // a second read of a cached record is the same copy; after 16 others it was dropped and is read again
  const first = f.read(3);
  assert.equal(f.read(3), first);
  for (let i = 60; i < 76; i++) f.read(i);
  assert.notEqual(f.read(3), first);
  assert.deepEqual(Array.from(f.read(3)), Array.from(first));
  assert.throws(() => f.read(100), RangeError);
  f.close(50);
  assert.equal(f.read(99).length, rb, 'readable until the grace time ends');
  await new Promise((r) => setTimeout(r, 120));
  assert.throws(() => f.read(98), /the Lance database was closed/);
});

test('IVF-PQ with re-ranking finds what flat search finds; a re-run is up to date; an update touches only what changed', async () => {
  const data = path.join(work, 'upd');
  await writeDataset(data, 40, { seed: 11 });
  const uri = path.join(work, 'ivf');
  const res = await buildLanceDatabase({ root: data, model, uri, minIndexRows: 1000 });
  assert.ok(res.indexed && res.indexed.partitions > 1, 'a vector index is built');
  const db = (await LanceDatabase.connect(uri))!;
  assert.equal(db.manifest.index.lance?.partitions, res.indexed.partitions);
  let found = 0;
  let total = 0;
  for (let i = 0; i < 40; i += 3) {
    const q = db.keyAt(db.sourceGrid(i, 'latent'), 2 + (i % 5), 1 + (i % 6));
    const exact = new Set((await db.exactIndex().search(q, 10)).map((h) => h.label));
    const approx = await db.index.search(q, 10);
    found += approx.filter((h) => exact.has(h.label)).length;
    total += 10;
    const flt = await db.index.search(q, 10, excludeImages(db, [i]));
    assert.ok(flt.every((h) => db.locate(h.label)!.image !== i));
  }
  assert.ok(found / total >= 0.9, `recall@10 ${found / total}`);
  db.close();

  assert.equal((await buildLanceDatabase({ root: data, model, uri, minIndexRows: 1000 })).upToDate, true);
  fs.rmSync(path.join(data, 'img-00.png'));
  await (await texturedImage(64, 64, 5)).png().toFile(path.join(data, 'new.png'));
  await (await texturedImage(64, 64, 6)).png().toFile(path.join(data, 'img-01.png'));
  const upd = await buildLanceDatabase({ root: data, model, uri, minIndexRows: 1000 });
  assert.deepEqual([upd.added, upd.updated, upd.removed, upd.unchanged], [1, 1, 1, 38]);
  assert.equal(upd.entries, 40 * per);
  const after = (await LanceDatabase.connect(uri))!;
  assert.ok(after.imageIndex.has('new.png') && !after.imageIndex.has('img-00.png'));
  const r = new PatchRetriever(after, data);
  const g = await r.tokenGrid('img-01.png');
  assert.equal((await r.query(g, 4, 4, { k: 1 })).results[0].image, 'img-01.png');
  after.close();
});
