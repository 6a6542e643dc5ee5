// Duplicate searches as the engine worker keeps them for the side panel and
// the inspector: run, page, one pair's cells, overlaps of one image (reusing a
// kept default search), leaks against another database, and a search that is
// no longer kept.

import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { buildDatabase } from '../../src/engine/indexer';
import { PatchDatabase } from '../../src/engine/database';
import { DuplicateSearches, SearchGoneError } from '../../src/engine/duplicateSearches';
import { writeTinyModel } from '../support/tinyModel';
import { tempDir, texturedImage, writeDataset } from '../support/fixtures';

const work = tempDir('patchlens-dupsearch-');
const root = path.join(work, 'photos');
const other = path.join(work, 'other');
let searches: DuplicateSearches;

before(async () => {
  const model = writeTinyModel(path.join(work, 'model'), { size: 64, patch: 8, dim: 4, codes: 256 });
  await writeDataset(root, 4, { width: 64, height: 64, seed: 5 });
  // a byte-identical copy, and a 4x4-cell block of img-01 pasted onto a new image at cell (2, 3)
  fs.copyFileSync(path.join(root, 'img-00.png'), path.join(root, 'copy.png'));
  const block = await sharp(path.join(root, 'img-01.png')).extract({ left: 0, top: 8, width: 32, height: 32 }).png().toBuffer();
  await (
    await texturedImage(64, 64, 777)
  )
    .composite([{ input: block, left: 24, top: 16 }])
    .png()
    .toFile(path.join(root, 'pasted.png'));
  await buildDatabase({ root, model });
  fs.mkdirSync(other);
  fs.copyFileSync(path.join(root, 'img-02.png'), path.join(other, 'leaked.png'));
  await (await texturedImage(64, 64, 901)).png().toFile(path.join(other, 'own.png'));
  await buildDatabase({ root: other, model });
  const dbs = new Map<string, PatchDatabase>();
  searches = new DuplicateSearches((dbDir) => {
    let db = dbs.get(dbDir);
    if (!db) dbs.set(dbDir, (db = PatchDatabase.open(dbDir)!));
    return db;
  });
});

test("a search is kept: its pages, one pair's cells, its description; progress is reported", async () => {
  const dbDir = path.join(root, '.patchlens');
  const phases = new Set<string>();
  const s = await searches.run({ dbDir }, { onProgress: (p) => phases.add(p.phase) });
  assert.deepEqual([s.rows, s.cols, s.stats.images], [8, 8, 6]);
  assert.ok(phases.has('count') && phases.has('rank'));
  assert.ok(s.pairs >= 2);
  const page = searches.page(s.searchId, 0, 50);
  assert.equal(page.length, s.pairs);
  assert.deepEqual(
    page.map((p) => p.rank),
    page.map((_, i) => i),
  );
  assert.deepEqual([page[0].a, page[0].b, page[0].identical, page[0].score], ['copy.png', 'img-00.png', true, 1]);
  const pasted = page.find((p) => p.a === 'img-01.png' && p.b === 'pasted.png');
  assert.ok(pasted, JSON.stringify(page));
  assert.equal(pasted.sharedCells, 16);
  const { pair, cells } = searches.cells(s.searchId, pasted.rank);
  assert.deepEqual(pair, pasted);
  const a = Array.from({ length: 16 }, (_, i) => cells[2 * i]);
  const b = Array.from({ length: 16 }, (_, i) => cells[2 * i + 1]);
  const block = (r0: number, c0: number) => Array.from({ length: 16 }, (_, i) => (r0 + Math.floor(i / 4)) * 8 + c0 + (i % 4));
  assert.deepEqual(a, block(1, 0));
  assert.deepEqual(b, block(2, 3));
  assert.deepEqual(searches.search(s.searchId), s);
  assert.deepEqual(searches.page(s.searchId, 1, 1), [page[1]]);
  assert.throws(() => searches.cells(s.searchId, s.pairs), /no pair/);
  assert.throws(() => searches.page(s.searchId, -1, 5), RangeError);
});

test('overlaps of one image reuse a kept default search; leaks pair across databases only; old searches are dropped', async () => {
  const dbDir = path.join(root, '.patchlens');
  const first = await searches.overlaps(dbDir, 'pasted.png', 10);
  const again = await searches.overlaps(dbDir, 'pasted.png', 10);
  assert.equal(again.searchId, first.searchId, 'the kept search answers');
  assert.deepEqual(
    first.pairs.map((p) => [p.a, p.b]),
    [['img-01.png', 'pasted.png']],
  );
  assert.deepEqual((await searches.overlaps(dbDir, 'img-03.png', 10)).pairs, []);

  const leaks = await searches.run({ dbDir: path.join(other, '.patchlens'), against: dbDir });
  const pairs = searches.page(leaks.searchId, 0, 50);
  assert.deepEqual(
    pairs.map((p) => [p.a, p.b, p.identical]),
    [['leaked.png', 'img-02.png', true]],
  );
  for (let i = 0; i < 4; i++) await searches.run({ dbDir, window: 2 });
  assert.throws(() => searches.page(leaks.searchId, 0, 1), SearchGoneError);
});
