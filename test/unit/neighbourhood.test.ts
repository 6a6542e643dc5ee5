import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  entryCount,
  entryRange,
  imageKeys,
  keyDimension,
  neighbourCount,
  neighbourOffsets,
  neighbourPositions,
  writeKey,
  codeGrid,
} from '../../src/core/neighbourhood';
import { HOPS, MAX_HOPS, MIN_HOPS } from '../../src/core/vocabulary';

const pairs = (shape: 'causal' | 'ring', h: number) => neighbourOffsets(shape, h).map((o) => [o.dr, o.dc]);

test('causal h=1 is the four already-generated neighbours in raster order', () => {
  assert.deepEqual(pairs('causal', 1), [
    [-1, -1],
    [-1, 0],
    [-1, 1],
    [0, -1],
  ]);
});

test('causal h=2: rows -2..-1 over columns -2..2, then row 0 over columns -2..-1', () => {
  assert.deepEqual(pairs('causal', 2), [
    [-2, -2],
    [-2, -1],
    [-2, 0],
    [-2, 1],
    [-2, 2],
    [-1, -2],
    [-1, -1],
    [-1, 0],
    [-1, 1],
    [-1, 2],
    [0, -2],
    [0, -1],
  ]);
});

test('ring h=1 is the 8-neighbourhood in row-major order', () => {
  assert.deepEqual(pairs('ring', 1), [
    [-1, -1],
    [-1, 0],
    [-1, 1],
    [0, -1],
    [0, 1],
    [1, -1],
    [1, 0],
    [1, 1],
  ]);
});

test('neighbour counts and key dimensions for every h of the vocabulary, none beyond', () => {
  for (const h of HOPS) {
    assert.equal(neighbourOffsets('causal', h).length, neighbourCount('causal', h));
    assert.equal(neighbourOffsets('ring', h).length, (2 * h + 1) ** 2 - 1);
    assert.equal(neighbourCount('causal', h), h * (2 * h + 1) + h);
  }
  assert.equal(keyDimension('causal', 1, 8), 32);
  assert.equal(keyDimension('ring', 1, 8), 64);
  assert.throws(() => neighbourOffsets('causal', MIN_HOPS - 1), RangeError);
  assert.throws(() => neighbourOffsets('ring', MAX_HOPS + 1), RangeError);
});

test('a 24x24 grid gives 23x22 = 506 causal h=1 entries with skip (AR-RAG for Janus-Pro)', () => {
  assert.equal(entryCount(24, 24, 'causal', 1, 'skip'), 506);
  assert.deepEqual(entryRange(24, 24, 'causal', 1, 'skip'), { rowStart: 1, rowEnd: 24, colStart: 1, colEnd: 23 });
  assert.equal(entryCount(24, 24, 'ring', 1, 'skip'), 22 * 22);
  assert.equal(entryCount(24, 24, 'causal', 3, 'skip'), 21 * 18);
  assert.equal(entryCount(24, 24, 'ring', 2, 'zero'), 576);
  assert.equal(entryCount(2, 2, 'ring', 1, 'skip'), 0);
});

// A 4x5 grid of 2-d vectors whose values encode their position: (10r + c, -(10r + c)).
const rows = 4,
  cols = 5,
  dim = 2;
const grid = new Float32Array(rows * cols * dim);
for (let r = 0; r < rows; r++)
  for (let c = 0; c < cols; c++) {
    grid[(r * cols + c) * 2] = 10 * r + c;
    grid[(r * cols + c) * 2 + 1] = r + c === 0 ? 0 : -(10 * r + c);
  }
const key = (shape: 'causal' | 'ring', h: number, r: number, c: number) => {
  const offs = neighbourOffsets(shape, h);
  const out = new Float32Array(offs.length * dim);
  writeKey(grid, rows, cols, dim, offs, r, c, out);
  return Array.from(out);
};
const v = (p: number) => [p, p === 0 ? 0 : -p];

test('causal h=1 key at (2,3) concatenates (1,2) (1,3) (1,4) (2,2)', () => {
  assert.deepEqual(key('causal', 1, 2, 3), [...v(12), ...v(13), ...v(14), ...v(22)]);
});

test('ring h=1 key at (1,1) is the full square around it', () => {
  assert.deepEqual(key('ring', 1, 1, 1), [0, 1, 2, 10, 12, 20, 21, 22].flatMap(v));
});

test('zero border: neighbours off the grid contribute zeros', () => {
  assert.deepEqual(key('causal', 1, 0, 0), [0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(key('causal', 1, 1, 0), [0, 0, ...v(0), ...v(1), 0, 0]);
  assert.deepEqual(key('ring', 1, 3, 4), [...v(23), ...v(24), 0, 0, ...v(33), 0, 0, 0, 0, 0, 0, 0, 0]);
});

test('causal h=2 key at (2,2) and ring h=2 at (2,2)', () => {
  assert.deepEqual(key('causal', 2, 2, 2), [0, 1, 2, 3, 4, 10, 11, 12, 13, 14, 20, 21].flatMap(v));
  const ring = key('ring', 2, 2, 2);
  assert.equal(ring.length, 24 * 2);
  // last row (r = 4) is off the grid: 5 zero vectors at the end
  assert.deepEqual(ring.slice(-10), new Array(10).fill(0));
  assert.deepEqual(ring.slice(0, 10), [0, 1, 2, 3, 4].flatMap(v));
});

test('causal h=3 key at (3,3) has 24 neighbours, out-of-grid columns zero', () => {
  const k = key('causal', 3, 3, 3);
  assert.equal(k.length, 24 * 2);
  // first row of the key: (0,0)..(0,6); columns 5 and 6 are off the 5-column grid
  assert.deepEqual(k.slice(0, 14), [0, 1, 2, 3, 4].flatMap(v).concat([0, 0, 0, 0]));
  assert.deepEqual(k.slice(-6), [30, 31, 32].flatMap(v));
});

test('imageKeys enumerates entries row-major with their positions', () => {
  const ik = imageKeys(grid, rows, cols, dim, { shape: 'causal', hops: 1, border: 'skip' });
  assert.equal(ik.rows.length, 3 * 3);
  assert.deepEqual(Array.from(ik.rows), [1, 1, 1, 2, 2, 2, 3, 3, 3]);
  assert.deepEqual(Array.from(ik.cols), [1, 2, 3, 1, 2, 3, 1, 2, 3]);
  assert.deepEqual(Array.from(ik.keys.subarray(5 * 8, 6 * 8)), key('causal', 1, 2, 3));
  const z = imageKeys(grid, rows, cols, dim, { shape: 'ring', hops: 1, border: 'zero' });
  assert.equal(z.rows.length, 20);
});

test('neighbourPositions clips to the grid', () => {
  assert.deepEqual(neighbourPositions(4, 5, 'causal', 1, 0, 0), []);
  assert.deepEqual(neighbourPositions(4, 5, 'ring', 1, 0, 0), [
    { row: 0, col: 1 },
    { row: 1, col: 0 },
    { row: 1, col: 1 },
  ]);
});

test('codeGrid maps tokens to codebook rows', () => {
  const cb = new Float32Array([0, 0, 1, 2, 3, 4]);
  assert.deepEqual(Array.from(codeGrid(new Int32Array([2, 0, 1]), cb, 2)), [3, 4, 0, 0, 1, 2]);
});
