import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { cellRects, modelRectToSource, planResize } from '../../src/core/geometry';

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
