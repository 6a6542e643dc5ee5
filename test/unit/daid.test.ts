import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { isProbabilityVector, mergeDistributions, retrievalDistribution, softmax, topK } from '../../src/core/daid';

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

test("DAiD keeps each token's nearest hit and takes softmax(-d / T)", () => {
  const p = retrievalDistribution([
    { token: 5, distance: 1 },
    { token: 7, distance: 2 },
    { token: 5, distance: 0.5 },
    { token: 9, distance: 3 },
    { token: 7, distance: 0.1 },
  ]);
  assert.deepEqual(
    p.map((x) => x.token),
    [7, 5, 9],
  );
  assert.deepEqual(
    p.map((x) => x.distance),
    [0.1, 0.5, 3],
  );
  const z = Math.exp(-0.1) + Math.exp(-0.5) + Math.exp(-3);
  close(p[0].p, Math.exp(-0.1) / z);
  close(p[1].p, Math.exp(-0.5) / z);
  close(p[2].p, Math.exp(-3) / z);
});

test('temperature sharpens or flattens the distribution', () => {
  const hits = [
    { token: 1, distance: 1 },
    { token: 2, distance: 2 },
  ];
  const cold = retrievalDistribution(hits, 0.1);
  const hot = retrievalDistribution(hits, 10);
  close(cold[0].p, 1 / (1 + Math.exp(-10)));
  close(hot[0].p, 1 / (1 + Math.exp(-0.1)));
  assert.throws(() => retrievalDistribution(hits, 0), RangeError);
  assert.deepEqual(retrievalDistribution([]), []);
});

test('large distances do not underflow to NaN', () => {
  const p = retrievalDistribution([
    { token: 1, distance: 5000 },
    { token: 2, distance: 5001 },
  ]);
  close(p[0].p + p[1].p, 1);
  close(p[0].p, 1 / (1 + Math.exp(-1)));
});

test('merge: p = (1 - lambda) p_model + lambda p_ret', () => {
  const pModel = softmax([0, Math.log(3), 0, 0]); // [1/6, 1/2, 1/6, 1/6]
  const pRet = retrievalDistribution([{ token: 2, distance: 0 }]); // all mass on token 2
  const p = mergeDistributions(pModel, pRet, 0.2);
  close(p[0], 0.8 / 6);
  close(p[1], 0.8 / 2);
  close(p[2], 0.8 / 6 + 0.2);
  assert.ok(isProbabilityVector(p));
  assert.deepEqual(topK(p, 2), [1, 2]);
  assert.throws(() => mergeDistributions(pModel, pRet, 1.5), RangeError);
  assert.throws(() => mergeDistributions([1], pRet, 0.5), RangeError);
});
