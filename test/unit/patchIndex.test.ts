import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { ExactPatchIndex, HnswPatchIndex, DEFAULT_HNSW } from '../../src/engine/patchIndex';
import { seededRng } from '../../src/core/rng';
import { tempDir } from '../support/fixtures';

const dim = 32;
/**
 * Keys like real patch keys: a low intrinsic dimension (a 6-d latent through a
 * fixed random map and tanh) plus small noise. Uniform high-dimensional noise
 * has no meaningful nearest neighbours and is a poor test of any ANN index.
 */
function clustered(n: number, seed: number): Float32Array {
  const map = seededRng(1234);
  const w = Float32Array.from({ length: 6 * dim }, () => map() * 2 - 1);
  const rng = seededRng(seed);
  const out = new Float32Array(n * dim);
  const z = new Float32Array(6);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < 6; a++) z[a] = rng() * 2 - 1;
    for (let j = 0; j < dim; j++) {
      let s = 0;
      for (let a = 0; a < 6; a++) s += z[a] * w[a * dim + j];
      out[i * dim + j] = Math.tanh(s) + (rng() - 0.5) * 0.02;
    }
  }
  return out;
}

test('exact search returns the true nearest neighbours in order', () => {
  const ex = new ExactPatchIndex(2, 2);
  ex.add(new Float32Array([0, 0, 1, 0, 0, 2, 3, 3]), [10, 11, 12, 13]);
  const hits = ex.search(new Float32Array([0.9, 0.1]), 3);
  assert.deepEqual(
    hits.map((h) => h.label),
    [11, 10, 12],
  );
  assert.ok(Math.abs(hits[0].distance - 0.02) < 1e-6, 'squared L2');
  ex.remove([11]);
  assert.deepEqual(
    ex.search(new Float32Array([0.9, 0.1]), 2).map((h) => h.label),
    [10, 12],
  );
  assert.deepEqual(
    ex.search(new Float32Array([0, 0]), 5, (l) => l !== 10).map((h) => h.label),
    [12, 13],
  );
  assert.equal(ex.size, 3);
});

test('HNSW recall@10 against exact search is >= 0.95 on seeded clustered keys', () => {
  const n = 10000;
  const keys = clustered(n, 1);
  const labels = Float64Array.from({ length: n }, (_, i) => i * 3 + 7);
  const ex = new ExactPatchIndex(dim, n);
  ex.add(keys, labels);
  const hn = HnswPatchIndex.create(dim, 1000, { ...DEFAULT_HNSW, seed: 42 }); // grows as it fills
  hn.add(keys, labels);
  assert.equal(hn.size, n);
  const queries = clustered(200, 2);
  let found = 0;
  for (let q = 0; q < 200; q++) {
    const query = queries.subarray(q * dim, (q + 1) * dim);
    const truth = new Set(ex.search(query, 10).map((h) => h.label));
    for (const h of hn.search(query, 10)) if (truth.has(h.label)) found++;
  }
  const recall = found / 2000;
  assert.ok(recall >= 0.95, `recall@10 ${recall}`);
});

test('HNSW: removed entries are never returned, filters apply, files round-trip', () => {
  const n = 2000;
  const keys = clustered(n, 3);
  const labels = Float64Array.from({ length: n }, (_, i) => i);
  const hn = HnswPatchIndex.create(dim, n, DEFAULT_HNSW);
  hn.add(keys, labels);
  const removed = Array.from({ length: 500 }, (_, i) => i * 2);
  hn.remove(removed);
  assert.equal(hn.size, 1500);
  const q = keys.subarray(0, dim); // the key of removed label 0
  const hits = hn.search(q, 50);
  assert.equal(hits.length, 50);
  assert.ok(
    hits.every((h) => h.label >= 1000 || h.label % 2 === 1),
    'no removed label',
  );
  assert.ok(hn.search(q, 20, (l) => l % 3 === 0).every((h) => h.label % 3 === 0));
  // removed slots are reused by later adds
  hn.add(
    clustered(500, 4),
    Float64Array.from({ length: 500 }, (_, i) => 5000 + i),
  );
  assert.equal(hn.slots, 2000);
  const file = path.join(tempDir(), 'x.hnsw');
  hn.save(file);
  const again = HnswPatchIndex.load(file, dim, 64, hn.size);
  assert.deepEqual(again.search(q, 10), hn.search(q, 10));
});

test('k larger than ef still returns k results', () => {
  const hn = HnswPatchIndex.create(dim, 600, { m: 8, efConstruction: 50, ef: 10 });
  hn.add(
    clustered(600, 5),
    Float64Array.from({ length: 600 }, (_, i) => i),
  );
  assert.equal(hn.search(clustered(1, 6), 200).length, 200);
});

const fileHash = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');

test('a loaded index (level 0 mapped from its file) takes removals, adds and growth without ever writing the file', () => {
  const n = 1500;
  const keys = clustered(n, 7);
  const labels = Float64Array.from({ length: n }, (_, i) => i);
  // spare capacity: slots past the file's elements lie outside the mapped part
  const hn = HnswPatchIndex.create(dim, n + 200, DEFAULT_HNSW);
  hn.add(keys, labels);
  hn.remove([1]); // saved removed: the first search after loading must skip it before the loader has counted removals
  const file = path.join(tempDir(), 'x.hnsw');
  hn.save(file);
  const before = fileHash(file);
  const q = keys.subarray(dim, 2 * dim); // the key of label 1
  const loaded = HnswPatchIndex.load(file, dim, 64, n - 1);
  assert.deepEqual(loaded.search(q, 10), hn.search(q, 10));
  assert.ok(loaded.search(q, 10).every((h) => h.label !== 1));
  loaded.remove([2, 3]); // writes a flag into level 0
  assert.ok(loaded.search(q, 10).every((h) => h.label > 3 || h.label === 0));
  loaded.add(
    clustered(100, 8),
    Float64Array.from({ length: 100 }, (_, i) => 10_000 + i),
  ); // fills the spare slots
  loaded.add(
    clustered(400, 9),
    Float64Array.from({ length: 400 }, (_, i) => 20_000 + i),
  ); // grows: level 0 leaves the mapping
  assert.equal(loaded.size, n - 3 + 500);
  assert.equal(loaded.slots, n + 500 - 3, 'the removed slots were reused, the one removed before saving included');
  const extra = clustered(400, 9).subarray(0, dim);
  assert.equal(loaded.search(extra, 1)[0].label, 20_000);
  assert.ok(loaded.search(q, 10).every((h) => h.label > 3 || h.label === 0));
  assert.equal(fileHash(file), before, 'the index file is unchanged');
  // and a second process opening the same file sees the saved index, not this one's changes
  assert.deepEqual(HnswPatchIndex.load(file, dim, 64, n - 1).search(q, 10), hn.search(q, 10));
});

test('a truncated index file, or one whose header disagrees with itself or the key dimension, is refused with an error', () => {
  const n = 300;
  const hn = HnswPatchIndex.create(dim, n, DEFAULT_HNSW);
  hn.add(
    clustered(n, 10),
    Float64Array.from({ length: n }, (_, i) => i),
  );
  const dir = tempDir();
  const good = path.join(dir, 'good.hnsw');
  hn.save(good);
  const full = fs.readFileSync(good);
  const bad = path.join(dir, 'bad.hnsw');
  const perElement = Number(full.readBigUInt64LE(24));
  // inside the header, inside level 0 (the mapped part), inside the upper-level links, the last byte
  for (const cut of [50, 96 + perElement * 10 + 7, 96 + perElement * n + 9, full.length - 1]) {
    fs.writeFileSync(bad, full.subarray(0, cut));
    assert.throws(() => HnswPatchIndex.load(bad, dim, 64, n), /corrupted or unsupported/, `cut at ${cut}`);
  }
  const withHeader = (offset: number, value: bigint) => {
    const b = Buffer.from(full);
    b.writeBigUInt64LE(value, offset);
    fs.writeFileSync(bad, b);
  };
  withHeader(24, BigInt(perElement + 4)); // size_data_per_element_
  assert.throws(() => HnswPatchIndex.load(bad, dim, 64, n), /corrupted or unsupported/, 'element size');
  withHeader(32, full.readBigUInt64LE(32) + 8n); // label_offset_
  assert.throws(() => HnswPatchIndex.load(bad, dim, 64, n), /corrupted or unsupported/, 'label offset');
  withHeader(8, BigInt(n - 1)); // max_elements_ below the element count
  assert.throws(() => HnswPatchIndex.load(bad, dim, 64, n), /corrupted or unsupported/, 'capacity');
  // read with another key dimension, its elements would be misread: refused, not answered from
  assert.throws(() => HnswPatchIndex.load(good, dim / 2, 64, n), /corrupted or unsupported/, 'dimension');
  assert.equal(HnswPatchIndex.load(good, dim, 64, n).size, n);
});
