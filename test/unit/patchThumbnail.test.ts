// The engine's `thumbnail` request (a retrieved patch's surroundings, or the
// part of an image the model sees, in one call) against a real database: the
// same PNG the grid-then-crop round trip made, the window of core/geometry,
// refused outside the grid.

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
  for (const [row, col] of [
    [0, 0],
    [1, 2],
    [g.rows - 1, g.cols - 1],
  ]) {
    const t = await engine.request('thumbnail', { dbDir, image, cell: { row, col }, size: 96 });
    const window = thumbnailWindow(g.rows, g.cols, row, col);
    assert.deepEqual(t.window, window);
    assert.ok(
      t.window.row <= row && row < t.window.row + t.window.rows && t.window.col <= col && col < t.window.col + t.window.cols,
      'the patch is in its window',
    );
    const twoCalls = await engine.request('crop', { file: path.join(root, image), rect: windowRect(g.cells, g.cols, window), size: 96 });
    assert.deepEqual(Buffer.from(t.png), Buffer.from(twoCalls));
    const meta = await sharp(t.png).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 96, 96]);
  }
});

test('thumbnail reaching h cells: one request gives the whole h-hop neighbourhood, clipped to the grid', async () => {
  const image = names[1];
  const g = await engine.request('grid', { dbDir, image });
  const t = await engine.request('thumbnail', { dbDir, image, cell: { row: 1, col: 1 }, reach: 2, size: 160 });
  // the 4x4 grid is smaller than 5x5: all of it
  assert.deepEqual(t.window, { row: 0, col: 0, rows: g.rows, cols: g.cols });
  const twoCalls = await engine.request('crop', { file: path.join(root, image), rect: windowRect(g.cells, g.cols, t.window), size: 160 });
  assert.deepEqual(Buffer.from(t.png), Buffer.from(twoCalls));
  await assert.rejects(engine.request('thumbnail', { dbDir, image, cell: { row: 1, col: 1 }, reach: 0, size: 96 }), /cannot reach 0 cells/);
});

test('thumbnail without a cell: all the cells the model sees (the part of the image it encodes), as grid then crop made it', async () => {
  const image = path.join(root, names[2]);
  const g = await engine.request('grid', { dbDir, image });
  const t = await engine.request('thumbnail', { dbDir, image, size: 64 });
  assert.deepEqual(t.window, { row: 0, col: 0, rows: g.rows, cols: g.cols });
  const x0 = Math.min(...g.cells.map((c) => c.x));
  const y0 = Math.min(...g.cells.map((c) => c.y));
  const x1 = Math.max(...g.cells.map((c) => c.x + c.width));
  const y1 = Math.max(...g.cells.map((c) => c.y + c.height));
  // the centre crop of a 120x80 image to a square input: the middle 80x80
  assert.deepEqual([x0, y0, x1 - x0, y1 - y0], [20, 0, 80, 80]);
  const twoCalls = await engine.request('crop', { file: image, rect: { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, size: 64 });
  assert.deepEqual(Buffer.from(t.png), Buffer.from(twoCalls));
});

test('thumbnail: a patch outside the grid is refused with the grid named', async () => {
  await assert.rejects(engine.request('thumbnail', { dbDir, image: names[0], cell: { row: 99, col: 0 }, size: 96 }), /outside the 4x4 grid/);
});
