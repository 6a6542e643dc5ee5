import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ExactPatchIndex } from '../../src/engine/exactPatchIndex';
import { scanKernel, scanModuleBytes } from '../../src/engine/l2ScanKernel';
import { seededRng } from '../../src/core/rng';

/** The definition: the k live, filter-passing entries smallest by (float64 distance summed in order, slot), nearest first, ties by label. */
function reference(keys: Float32Array, labels: readonly number[], dim: number, q: Float32Array, k: number, keep: (l: number) => boolean) {
  const all: { d: number; slot: number }[] = [];
  for (let i = 0; i < labels.length; i++) {
    if (!keep(labels[i])) continue;
    let d = 0;
    for (let j = 0; j < dim; j++) {
      const t = keys[i * dim + j] - q[j];
      d += t * t;
    }
    all.push({ d, slot: i });
  }
  all.sort((a, b) => a.d - b.d || a.slot - b.slot);
  return all
    .slice(0, k)
    .map((x) => ({ label: labels[x.slot], distance: x.d }))
    .sort((a, b) => a.distance - b.distance || a.label - b.label);
}

/** Random keys, or tie-heavy ones: values from {0, 0.5, 1}, so many keys share a distance and many are equal. */
function data(n: number, dim: number, ties: boolean, rng: () => number): Float32Array {
  return Float32Array.from({ length: n * dim }, () => (ties ? Math.round(rng() * 2) / 2 : rng() * 2 - 1));
}

// 40k entries: past the strided sample's threshold and over more than two kernel blocks.
const N = 40_000;

for (const dim of [32, 12, 5]) {
  for (const ties of [false, true]) {
    test(`exact search: kernel and plain scan give the reference's answer (dim ${dim}, ${ties ? 'tie-heavy' : 'random'} keys)`, () => {
      const rng = seededRng(dim * 10 + (ties ? 1 : 0));
      const keys = data(N, dim, ties, rng);
      // Labels out of slot order, so slot and label tie-breaks differ.
      const labels = Array.from({ length: N }, (_, i) => (i * 7919) % N);
      const fast = new ExactPatchIndex(dim, 1000); // grows while adding
      const plain = new ExactPatchIndex(dim, 1000, { kernel: false });
      for (let s = 0; s < N; s += 9000) {
        fast.add(keys.subarray(s * dim, Math.min(N, s + 9000) * dim), labels.slice(s, s + 9000));
        plain.add(keys.subarray(s * dim, Math.min(N, s + 9000) * dim), labels.slice(s, s + 9000));
      }
      assert.ok(fast.accelerated, 'the WebAssembly kernel runs');
      assert.ok(!plain.accelerated);
      const removed = new Set(Array.from({ length: 500 }, (_, i) => (i * 37) % N));
      for (let t = 0; t < 8; t++) {
        if (t === 4) {
          fast.remove(removed);
          plain.remove(removed);
        }
        const q = t % 4 === 3 ? keys.slice(dim * 123, dim * 124) : data(1, dim, ties, rng); // also a query equal to a key
        const k = [1, 10, 100, 2048][t % 4];
        const filter = t % 3 === 0 ? (l: number) => l % 3 !== 0 : undefined;
        const keep = (l: number) => (t < 4 || !removed.has(l)) && (!filter || filter(l));
        const want = reference(keys, labels, dim, q, k, keep);
        assert.deepEqual(fast.search(q, k, filter), want, `kernel, query ${t}, k ${k}`);
        assert.deepEqual(plain.search(q, k, filter), want, `plain, query ${t}, k ${k}`);
      }
    });
  }
}

test('exact search: small indexes, a filter that keeps fewer than k, and values too large for float32 squares', () => {
  const ex = new ExactPatchIndex(3, 2);
  assert.deepEqual(ex.search(new Float32Array(3), 5), []);
  ex.add(new Float32Array([0, 0, 0, 1, 0, 0, 0, 2, 0, 3, 3, 3]), [10, 11, 12, 13]);
  assert.deepEqual(
    ex.search(new Float32Array([0.9, 0.1, 0]), 3).map((h) => h.label),
    [11, 10, 12],
  );
  assert.deepEqual(
    ex.search(new Float32Array([0, 0, 0]), 10, (l) => l > 11).map((h) => h.label),
    [12, 13],
  );
  assert.ok(ex.accelerated);
  ex.add(new Float32Array([1e20, 0, 0]), [14]);
  assert.ok(!ex.accelerated, 'a key beyond float32-safe magnitudes sends searches to the float64 scan');
  assert.deepEqual(ex.search(new Float32Array([1e20, 0, 0]), 1), [{ label: 14, distance: 0 }]);
  assert.throws(() => ex.search(new Float32Array(2), 1), RangeError);
});

test('scan kernel: emits exactly the slots within the threshold, with early abandoning per plane', () => {
  const rng = seededRng(3);
  for (const [vectors, planeVectors] of [
    [8, 2],
    [3, 2],
    [1, 1],
    [5, 4],
  ]) {
    assert.ok(WebAssembly.validate(scanModuleBytes(vectors, planeVectors)));
    const n = 3000;
    const cap = 3100;
    const keysAt = 65536;
    const memory = new WebAssembly.Memory({ initial: Math.ceil((keysAt + cap * 16 * vectors) / 65536) });
    const kernel = scanKernel(vectors, planeVectors, memory)!;
    const f = new Float32Array(memory.buffer);
    const key = (i: number, j: number) => {
      const g = Math.floor(j / (4 * planeVectors));
      const w = 4 * Math.min(planeVectors, vectors - g * planeVectors);
      return keysAt / 4 + cap * 4 * planeVectors * g + i * w + (j % (4 * planeVectors));
    };
    for (let i = 0; i < n; i++) for (let j = 0; j < 4 * vectors; j++) f[key(i, j)] = rng();
    for (let j = 0; j < 4 * vectors; j++) f[j] = rng();
    const threshold = (4 * vectors) / 8;
    const count = kernel.scan(0, keysAt, cap, 5, n, 2, threshold, 1024);
    const slots = Array.from(new Int32Array(memory.buffer, 1024, count * 2).filter((_, i) => i % 2 === 0));
    const want: number[] = [];
    for (let i = 5; i < n; i += 2) {
      let d = 0;
      for (let j = 0; j < 4 * vectors; j++) d += (f[key(i, j)] - f[j]) ** 2;
      if (Math.abs(d - threshold) > 1e-4 && d < threshold) want.push(i);
      else if (Math.abs(d - threshold) <= 1e-4 && slots.includes(i)) want.push(i); // float32 rounding decides at the edge
    }
    assert.deepEqual(slots, want, `${vectors} vectors in planes of ${planeVectors}`);
    assert.ok(count > 0 && count < n / 2);
  }
});
