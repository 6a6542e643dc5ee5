import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { codebookStats, perplexity } from '../../src/core/codebookStats';
import { accumulatePrototypes, cellPools, prototypeOf } from '../../src/core/prototypes';

test('usage, dead codes, perplexity and distinct tokens per image', () => {
  const { stats, counts } = codebookStats([new Int32Array([0, 0, 1, 2]), new Int32Array([2, 2, 2, 2])], 5);
  assert.deepEqual(Array.from(counts), [2, 1, 5, 0, 0]);
  assert.equal(stats.usedCodes, 3);
  assert.equal(stats.deadCodes, 2);
  assert.equal(stats.usageFraction, 0.6);
  assert.equal(stats.meanDistinctTokensPerImage, 2);
  assert.deepEqual(stats.topCodes, [
    { token: 2, count: 5 },
    { token: 0, count: 2 },
    { token: 1, count: 1 },
  ]);
  const p = [2 / 8, 1 / 8, 5 / 8];
  assert.ok(Math.abs(stats.perplexity - Math.exp(-p.reduce((a, x) => a + x * Math.log(x), 0))) < 1e-12);
  assert.equal(perplexity([4, 4, 4, 4]), 4);
});

test('prototypes are the mean pooled pixels of the cells assigned to a code', () => {
  // 4x2 image, 1x2 grid, cells 2x2 pooled to 1x1
  const rgb = new Uint8Array([10, 0, 0, 20, 0, 0, 100, 0, 0, 100, 0, 0, 30, 0, 0, 40, 0, 0, 100, 0, 0, 100, 0, 0]);
  const pools = cellPools(rgb, 4, 2, 1, 2, 1);
  assert.deepEqual(Array.from(pools), [25, 0, 0, 100, 0, 0]);
  const sums = new Float32Array(3 * 3);
  const counts = new Uint32Array(3);
  accumulatePrototypes([2, 2], pools, 1, sums, counts);
  accumulatePrototypes([2], new Uint8Array([55, 3, 0]), 1, sums, counts);
  assert.deepEqual(Array.from(prototypeOf(2, 1, sums, counts)!), [60, 1, 0]);
  assert.equal(prototypeOf(0, 1, sums, counts), undefined);
});
