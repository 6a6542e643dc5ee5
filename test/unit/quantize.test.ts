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

test("the d = 8 fast path gives the general loop's tokens and distances", () => {
  const rng = seededRng(11);
  const K = 300;
  const n = 100;
  const cb = Float32Array.from({ length: K * 8 }, () => rng() * 2 - 1);
  const z = Float32Array.from({ length: n * 8 }, () => rng() * 2 - 1);
  const fast = { t: new Int32Array(n), d: new Float32Array(n) };
  nearestCodes(z, cb, rowSquaredNorms(cb, 8), 8, fast.t, fast.d);
  // the same vectors padded to d = 9 with a zero take the general loop
  const pad = (a: Float32Array, rows: number) => {
    const out = new Float32Array(rows * 9);
    for (let r = 0; r < rows; r++) out.set(a.subarray(r * 8, r * 8 + 8), r * 9);
    return out;
  };
  const cb9 = pad(cb, K);
  const slow = { t: new Int32Array(n), d: new Float32Array(n) };
  nearestCodes(pad(z, n), cb9, rowSquaredNorms(cb9, 9), 9, slow.t, slow.d);
  assert.deepEqual(Array.from(fast.t), Array.from(slow.t));
  assert.deepEqual(Array.from(fast.d), Array.from(slow.d));
});
