import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { l2NormalizeRows, nearestCodes, rowSquaredNorms, squaredL2 } from '../../src/core/quantize';
import { seededRng } from '../../src/core/rng';

test('l2NormalizeRows makes unit rows and leaves zero rows at zero', () => {
  const v = l2NormalizeRows(new Float32Array([3, 4, 0, 0]), 2);
  assert.deepEqual(Array.from(v), [0.6000000238418579, 0.800000011920929, 0, 0]);
});

test('nearestCodes agrees with a brute-force argmin of squared L2', () => {
  const rng = seededRng(7);
  const dim = 8;
  const K = 97;
  const n = 200;
  const cb = Float32Array.from({ length: K * dim }, () => rng() * 2 - 1);
  const z = Float32Array.from({ length: n * dim }, () => rng() * 2 - 1);
  const tokens = new Int32Array(n);
  const dist = new Float32Array(n);
  nearestCodes(z, cb, rowSquaredNorms(cb, dim), dim, tokens, dist);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestD = Infinity;
    for (let c = 0; c < K; c++) {
      const d = squaredL2(z, i * dim, cb, c * dim, dim);
      if (d < bestD) {
        bestD = d;
        best = c;
      }
    }
    assert.equal(tokens[i], best);
    assert.ok(Math.abs(dist[i] - bestD) < 1e-5);
  }
});
