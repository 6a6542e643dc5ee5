import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { cellRects, modelRectToSource, planResize, thumbnailWindow, windowRect } from '../../src/core/geometry';

test('crop resizes the shorter side to the target and centres the crop', () => {
  const p = planResize(800, 600, 384, 384, 'crop');
  assert.equal(p.resizedHeight, 384);
  assert.equal(p.resizedWidth, 512);
  assert.equal(p.offsetX, 64);
  assert.equal(p.offsetY, 0);
  // the model's left edge is 64 resized px = 100 source px in
  const r = modelRectToSource(p, { x: 0, y: 0, width: 16, height: 16 });
  assert.deepEqual(r, { x: 100, y: 0, width: 25, height: 25 });
});

test('pad fits the image inside and maps padding cells to nothing', () => {
  const p = planResize(400, 200, 256, 256, 'pad');
  assert.equal(p.resizedWidth, 256);
  assert.equal(p.resizedHeight, 128);
  assert.equal(p.offsetY, 64);
  const top = modelRectToSource(p, { x: 0, y: 0, width: 16, height: 16 });
  assert.equal(top.height, 0, 'a cell entirely in the padding covers no source pixels');
  const mid = modelRectToSource(p, { x: 0, y: 64, width: 16, height: 16 });
  assert.deepEqual(mid, { x: 0, y: 0, width: 25, height: 25 });
});

test('stretch maps cells proportionally on each axis', () => {
  const p = planResize(100, 50, 64, 64, 'stretch');
  const cells = cellRects(p, 4, 4);
  assert.equal(cells.length, 16);
  assert.deepEqual(cells[5], { row: 1, col: 1, x: 25, y: 12.5, width: 25, height: 12.5 });
});

test('cells of a crop tile the cropped region without gaps', () => {
  const p = planResize(1000, 700, 256, 256, 'crop');
  const cells = cellRects(p, 16, 16);
  const first = cells[0];
  const last = cells[cells.length - 1];
  assert.ok(Math.abs(first.x - (1000 - 700) / 2) < 2, `crop starts near the centre offset, got ${first.x}`);
  assert.ok(Math.abs(last.y + last.height - 700) < 0.01);
  for (let c = 1; c < 16; c++) assert.ok(Math.abs(cells[c].x - (cells[c - 1].x + cells[c - 1].width)) < 0.01);
});

test('a tiny image is upscaled, never cropped to zero', () => {
  const p = planResize(1, 1, 64, 64, 'crop');
  assert.equal(p.resizedWidth, 64);
  assert.equal(p.offsetX, 0);
  assert.throws(() => planResize(0, 5, 64, 64, 'crop'), RangeError);
});

test('a thumbnail shows the 3x3 cells around its patch, shifted inside the grid at the borders; its rectangle covers them', () => {
  // (0, 4) in a 4x5 grid: rows 0-2, columns 2-4.
  assert.deepEqual(thumbnailWindow(4, 5, 0, 4), { row: 0, col: 2, rows: 3, cols: 3 });
  assert.deepEqual(thumbnailWindow(4, 5, 2, 2), { row: 1, col: 1, rows: 3, cols: 3 });
  assert.deepEqual(thumbnailWindow(4, 5, 3, 0), { row: 1, col: 0, rows: 3, cols: 3 });
  // A grid smaller than 3 on a side: the whole side.
  assert.deepEqual(thumbnailWindow(2, 1, 1, 0), { row: 0, col: 0, rows: 2, cols: 1 });
  // Reaching h cells (an h-hop neighbourhood): (2h + 1)² cells, shifted inside the grid, clipped to it.
  assert.deepEqual(thumbnailWindow(24, 24, 10, 10, 2), { row: 8, col: 8, rows: 5, cols: 5 });
  assert.deepEqual(thumbnailWindow(24, 24, 0, 23, 3), { row: 0, col: 17, rows: 7, cols: 7 });
  assert.deepEqual(thumbnailWindow(4, 5, 2, 2, 3), { row: 0, col: 0, rows: 4, cols: 5 });
  const cells = Array.from({ length: 20 }, (_, i) => ({ x: (i % 5) * 20, y: Math.floor(i / 5) * 20, width: 20, height: 20 }));
  assert.deepEqual(windowRect(cells, 5, thumbnailWindow(4, 5, 0, 4)), { x: 40, y: 0, width: 60, height: 60 });
  // Cells that cover only padding (empty) still give a 1x1 rectangle.
  const empty = Array.from({ length: 9 }, () => ({ x: 7, y: 3, width: 0, height: 0 }));
  assert.deepEqual(windowRect(empty, 3, thumbnailWindow(3, 3, 1, 1)), { x: 7, y: 3, width: 1, height: 1 });
});
