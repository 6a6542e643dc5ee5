// Window hashing and pairing of src/core/duplicates on synthetic token grids.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { findDuplicates, matchCells, pairJson, windowHashes, WindowCounts, type TokenImage, type TokenSource } from '../../src/core/duplicates';
import { seededRng } from '../../src/core/rng';

const R = 12;
const C = 10;

function randomGrid(seed: number, rows = R, cols = C, K = 4096): Int32Array {
  const rng = seededRng(seed);
  return Int32Array.from({ length: rows * cols }, () => Math.floor(rng() * K));
}

function source(images: { path: string; tokens: Int32Array; sha256?: string }[], rows = R, cols = C): TokenSource {
  return {
    rows,
    cols,
    count: images.length,
    *images(): Iterable<TokenImage> {
      for (const i of images) yield { path: i.path, sha256: i.sha256 ?? `sha-${i.path}`, tokens: i.tokens };
    },
  };
}

/** Copies an h x w block of `from` at (r0, c0) into `to` at (r1, c1). */
function paste(from: Int32Array, to: Int32Array, r0: number, c0: number, r1: number, c1: number, h: number, w: number): Int32Array {
  const out = to.slice();
  for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) out[(r1 + r) * C + c1 + c] = from[(r0 + r) * C + c0 + c];
  return out;
}

test('windowHashes: one hash per window, equal content hashes equal wherever it lies, any change shows', () => {
  const g = randomGrid(1);
  const hi = new Uint32Array(R * C);
  const lo = new Uint32Array(R * C);
  assert.equal(windowHashes(g, R, C, 3, hi, lo), (R - 2) * (C - 2));
  const moved = paste(g, randomGrid(2), 0, 0, 5, 4, 3, 3);
  const hi2 = new Uint32Array(R * C);
  const lo2 = new Uint32Array(R * C);
  windowHashes(moved, R, C, 3, hi2, lo2);
  const at = 5 * (C - 2) + 4;
  assert.deepEqual([hi2[at], lo2[at]], [hi[0], lo[0]]);
  const distinct = new Set(Array.from(hi.subarray(0, (R - 2) * (C - 2)), (h, i) => `${h}:${lo[i]}`));
  assert.equal(distinct.size, (R - 2) * (C - 2), 'random windows do not collide');
  const changed = g.slice();
  changed[C + 1] ^= 1; // inside window (0, 0)
  windowHashes(changed, R, C, 3, hi2, lo2);
  assert.notDeepEqual([hi2[0], lo2[0]], [hi[0], lo[0]]);
  // the same tokens in another order are another window
  const t = Int32Array.from([1, 2, 3, 4]);
  const u = Int32Array.from([4, 3, 2, 1]);
  windowHashes(t, 2, 2, 2, hi, lo);
  windowHashes(u, 2, 2, 2, hi2, lo2);
  assert.notDeepEqual([hi[0], lo[0]], [hi2[0], lo2[0]]);
  assert.equal(windowHashes(t, 2, 2, 3, hi, lo), 0, 'a window larger than the grid has no positions');
});

test('WindowCounts: counts survive growth, (0, 0) is a hash like any other, counts saturate', () => {
  const t = new WindowCounts(4);
  const rng = seededRng(7);
  const keys = Array.from({ length: 5000 }, () => [Math.floor(rng() * 2 ** 32), Math.floor(rng() * 2 ** 32)] as const);
  keys.forEach(([h, l], i) => t.add(h, l, (i % 3) + 1));
  assert.equal(t.size, 5000);
  assert.ok(t.capacity >= 5000 / 0.7 && t.bytes === t.capacity * 10);
  keys.forEach(([h, l], i) => assert.equal(t.count(h, l), (i % 3) + 1));
  assert.equal(t.count(123, 456), 0);
  assert.equal(t.slot(123, 456), -1);
  t.add(0, 0);
  t.add(0, 0);
  assert.equal(t.count(0, 0), 2);
  for (let i = 0; i < 70_000; i++) t.add(9, 9);
  assert.equal(t.count(9, 9), 0xffff);
  let seen = 0;
  t.forEach(() => seen++);
  assert.equal(seen, t.size);
});

test('matchCells: one-to-one, the common offset first, single cells too', () => {
  const cells = R * C;
  const code = (a: number, b: number) => a * cells + b + 1;
  // two overlapping windows at the same offset: 3x3 + 3x3 sharing 6 cells = 12 cells
  const m = matchCells([code(0, 22), code(1, 23)], R, C, 3);
  assert.equal(m.length / 2, 12);
  for (let i = 0; i < m.length; i += 2) assert.equal(m[i + 1] - m[i], 22);
  // a window matching two places in b: the offset the others agree with wins
  const m2 = matchCells([code(0, 22), code(1, 23), code(0, 50)], R, C, 3);
  assert.equal(m2.length / 2, 12);
  for (let i = 0; i < m2.length; i += 2) assert.equal(m2[i + 1] - m2[i], 22);
  // a single-cell correspondence (near mode) adds its cell, not a window
  const m3 = matchCells([code(0, 22), -code(100, 5)], R, C, 3);
  assert.equal(m3.length / 2, 10);
  assert.deepEqual([m3[m3.length - 2], m3[m3.length - 1]], [100, 5]);
});

test('findDuplicates: a copy, a pasted block with its cells, nothing between unrelated grids', async () => {
  const a = randomGrid(10);
  const b = randomGrid(11);
  const c = randomGrid(12);
  const pasted = paste(a, b, 2, 3, 6, 1, 4, 5); // 4x5 block of a at (2,3) -> b at (6,1)
  const copy = a.slice();
  copy[0] = (copy[0] + 1) % 4096; // one token changed: a near-copy, not identical
  const res = await findDuplicates([
    source([
      { path: 'a', tokens: a },
      { path: 'b', tokens: b },
      { path: 'c', tokens: c },
      { path: 'pasted', tokens: pasted },
      { path: 'copy', tokens: copy },
    ]),
  ]);
  assert.deepEqual(
    res.pairs.map((p) => [p.a, p.b]),
    [
      ['a', 'copy'],
      ['b', 'pasted'],
      ['a', 'pasted'],
      ['pasted', 'copy'],
    ],
  );
  const [cp, bp, ap, pc] = res.pairs;
  assert.equal(pc.sharedCells, 20, 'the copy of a holds the block too');
  assert.equal(cp.sharedCells, R * C - 1, 'every cell but the changed one is covered by an unchanged window');
  assert.equal(cp.score, (R * C - 1) / (R * C));
  assert.equal(cp.identical, false);
  assert.equal(ap.sharedCells, 20);
  const want = [];
  for (let r = 0; r < 4; r++) for (let k = 0; k < 5; k++) want.push({ a: [2 + r, 3 + k], b: [6 + r, 1 + k] });
  assert.deepEqual(pairJson(ap, C).cells, want);
  assert.deepEqual(Object.keys(pairJson(ap, C)), ['a', 'b', 'score', 'sharedCells', 'cells', 'identical']);
  // b keeps the cells covered by some window that misses the block
  const outside = new Set<number>();
  for (let r = 0; r + 3 <= R; r++) {
    for (let k = 0; k + 3 <= C; k++) {
      if (r + 3 > 6 && r < 10 && k + 3 > 1 && k < 6) continue;
      for (let dr = 0; dr < 3; dr++) for (let dk = 0; dk < 3; dk++) outside.add((r + dr) * C + k + dk);
    }
  }
  assert.equal(bp.sharedCells, outside.size);
  assert.ok(pairJson(bp, C).cells.every((x) => x.a[0] === x.b[0] && x.a[1] === x.b[1]));
  assert.ok(res.pairs.every((p, i) => i === 0 || res.pairs[i - 1].score >= p.score));
  assert.equal(res.stats.images, 5);
  assert.equal(res.stats.windows, 5 * (R - 2) * (C - 2));
});

test('findDuplicates: identical files are reported as such whatever their tokens', async () => {
  const flat = new Int32Array(R * C).fill(7); // one window everywhere: dropped as too common
  const res = await findDuplicates([
    source([
      { path: 'x.png', tokens: flat, sha256: 'same' },
      { path: 'y.png', tokens: flat, sha256: 'same' },
      { path: 'z.png', tokens: flat, sha256: 'other' },
    ]),
  ]);
  assert.equal(res.stats.commonWindows, 1);
  assert.deepEqual(
    res.pairs.map((p) => [p.a, p.b, p.identical, p.score, p.sharedCells, p.cells.length]),
    [['x.png', 'y.png', true, 1, R * C, 2 * R * C]],
  );
});

test('findDuplicates: a window in more than maxBucket places is no evidence; minShared and limit apply', async () => {
  const base = randomGrid(20);
  const images = Array.from({ length: 6 }, (_, i) => ({ path: `i${i}`, tokens: paste(base, randomGrid(30 + i), 0, 0, 0, 0, 3, 3) }));
  const all = await findDuplicates([source(images)]);
  assert.equal(all.pairs.length, 15, 'six images sharing one window: 15 pairs');
  assert.ok(all.pairs.every((p) => p.sharedCells === 9));
  const capped = await findDuplicates([source(images)], { maxBucket: 5 });
  assert.equal(capped.pairs.length, 0);
  assert.equal(capped.stats.commonWindows, 1);
  assert.equal((await findDuplicates([source(images)], { minShared: 10 })).pairs.length, 0);
  assert.equal((await findDuplicates([source(images)], { limit: 4 })).pairs.length, 4);
  assert.equal((await findDuplicates([source(images)], { limit: 4 })).totalPairs, 15);
});

test('findDuplicates with two sources pairs across them only, the first source as a', async () => {
  const t = randomGrid(40);
  const train = [
    { path: 'train-1', tokens: t },
    { path: 'train-2', tokens: t.slice(), sha256: 'sha-x' },
  ];
  const testSet = [
    { path: 'test-1', tokens: paste(t, randomGrid(41), 4, 4, 0, 0, 5, 5) },
    { path: 'test-2', tokens: randomGrid(42) },
    { path: 'test-3', tokens: randomGrid(43), sha256: 'sha-x' },
  ];
  const res = await findDuplicates([source(testSet), source(train)]);
  const names = res.pairs.map((p) => `${p.a}|${p.b}`).sort();
  assert.deepEqual(names, ['test-1|train-1', 'test-1|train-2', 'test-3|train-2']);
  assert.ok(res.pairs.every((p) => p.a.startsWith('test') && p.b.startsWith('train')));
  assert.equal(res.pairs.find((p) => p.a === 'test-3')?.identical, true);
  assert.equal(res.pairs.find((p) => p.a === 'test-1')?.sharedCells, 25);
});

test('findDuplicates: bad windows and grids are refused with a clear error; a cancelled search stops', async () => {
  const s = source([{ path: 'a', tokens: randomGrid(1) }]);
  await assert.rejects(findDuplicates([s], { window: 0 }), /window must be an integer from 1 to 10/);
  await assert.rejects(findDuplicates([s], { window: 11 }), /window must be an integer from 1 to 10/);
  await assert.rejects(findDuplicates([s, source([{ path: 'b', tokens: randomGrid(2, 4, 4) }], 4, 4)]), /token grids differ/);
  const ctl = new AbortController();
  ctl.abort();
  await assert.rejects(findDuplicates([s], { signal: ctl.signal }), /cancelled/);
});
