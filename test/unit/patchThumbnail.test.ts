// The engine's `thumbnail` request (a retrieved patch's surroundings in one
// call) against a real database: the same PNG the grid-then-crop round trip
// made, the window of core/geometry, refused outside the grid.

import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import sharp from 'sharp';
import { tempDir, writeDataset } from '../support/fixtures';
import { writeTinyModel } from '../support/tinyModel';
import { buildDatabase } from '../../src/engine/indexer';
import { EngineClient } from '../../src/engine/engineClient';
import { thumbnailWindow, windowRect } from '../../src/core/geometry';

const work = tempDir();
const root = path.join(work, 'photos');
const dbDir = path.join(root, '.patchlens');
let engine: EngineClient;
let names: string[] = [];

before(async () => {
  const model = writeTinyModel(path.join(work, 'model'), { size: 64, patch: 16, dim: 4, codes: 32 });
  // Not square: the centre crop leaves the sides out, so cells are not a plain division of the image.
  names = await writeDataset(root, 3, { width: 120, height: 80, seed: 9 });
  await buildDatabase({ root, model, workers: 1 });
  engine = new EngineClient();
});

after(async () => {
  await engine?.dispose();
});

test('thumbnail: one request gives the PNG the grid and crop requests made, and the 3x3 window shifted inside the grid', async () => {
  const image = names[1];
  const g = await engine.request('grid', { dbDir, image });
  assert.equal(g.inDatabase, true);
  for (const [row, col] of [[0, 0], [1, 2], [g.rows - 1, g.cols - 1]]) {
    const t = await engine.request('thumbnail', { dbDir, image, row, col, size: 96 });
    const window = thumbnailWindow(g.rows, g.cols, row, col);
    assert.deepEqual(t.window, window);
    assert.ok(t.window.row <= row && row < t.window.row + t.window.rows && t.window.col <= col && col < t.window.col + t.window.cols, 'the patch is in its window');
    const twoCalls = await engine.request('crop', { file: path.join(root, image), rect: windowRect(g.cells, g.cols, window), size: 96 });
    assert.deepEqual(Buffer.from(t.png), Buffer.from(twoCalls));
    const meta = await sharp(t.png).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 96, 96]);
  }
});

test('thumbnail: a patch outside the grid is refused with the grid named', async () => {
  await assert.rejects(engine.request('thumbnail', { dbDir, image: names[0], row: 99, col: 0, size: 96 }), /outside the 4x4 grid/);
});
