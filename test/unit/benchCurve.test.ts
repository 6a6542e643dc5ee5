import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { clusterOrder, fastestAt, parseGraphs } from '../../bench/lib/curve';

test('parseGraphs reads M/efConstruction and the clustered-order mark', () => {
  assert.deepEqual(parseGraphs('16/100, 32/200c'), [
    { m: 16, efConstruction: 100, order: 'input' },
    { m: 32, efConstruction: 200, order: 'cluster' },
  ]);
  assert.throws(() => parseGraphs('16'), /M\/efConstruction/);
});

test('clusterOrder is a permutation that groups keys of one cluster together', () => {
  // Two far-apart groups, interleaved in the input.
  const dim = 4;
  const n = 400;
  const keys = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) keys[i * dim + d] = (i % 2) * 100 + ((i * 7 + d) % 5) * 0.01;
  const order = clusterOrder(keys, dim, 2);
  assert.deepEqual(
    [...order].sort((a, b) => a - b),
    Array.from({ length: n }, (_, i) => i),
  );
  // Interleaved input becomes two runs: the parity changes exactly once along the order.
  let changes = 0;
  for (let i = 1; i < n; i++) if (order[i] % 2 !== order[i - 1] % 2) changes++;
  assert.equal(changes, 1);
});

test('fastestAt picks the most queries per CPU-second among points at the target', () => {
  const sweep = [
    { ef: 16, qps1: 9, qps1Cpu: 50, recall10: 0.94 },
    { ef: 32, qps1: 9, qps1Cpu: 30, recall10: 0.96 },
    { ef: 48, qps1: 9, qps1Cpu: 40, recall10: 0.97 },
  ];
  assert.equal(fastestAt(sweep, 0.95)?.ef, 48);
  assert.equal(fastestAt(sweep, 0.99), undefined);
});
