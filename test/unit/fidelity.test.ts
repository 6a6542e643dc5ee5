// `patchlens fidelity` on a real database (sample photos, bundled tokenizer):
// the JSON fields `fidelity --help` documents, repeatable for its seed, recall 1 for exact
// search as the index, k and --queries honoured, clear errors.

import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { PatchDatabase } from '../../src/engine/database';
import { EngineClient } from '../../src/engine/engineClient';
import { buildLanceDatabase } from '../../src/engine/lanceBuilder';
import { bundledModelPath } from '../../src/engine/locations';
import { FidelityCancelledError, hnswSubject, knobText, measureFidelity, type FidelitySubject } from '../../src/engine/fidelity';
import { tempDir } from '../support/fixtures';
import { runCli, sampleDatabase } from '../support/sampleDatabase';

const work = tempDir('patchlens-fidelity-');
let dbDir: string;
let single: string;

before(() => {
  dbDir = sampleDatabase(work, 12);
  single = sampleDatabase(work, 1, { first: 30, name: 'one' });
});

const pointKeys = ['params', 'recall', 'p50Ms'];

test('fidelity --json: exactly the fields of the contract, recall of the current ef among the curve, AR-RAG below it', () => {
  const r = runCli(['fidelity', '--db', dbDir, '--queries', '60', '--json'], work);
  assert.equal(r.code, 0, r.stderr);
  const j = r.json();
  assert.deepEqual(Object.keys(j), ['backend', 'entries', 'k', 'queries', 'current', 'sweep', 'arrag']);
  assert.equal(j.backend, 'hnsw');
  assert.equal(j.entries, 12 * 210, '12 photos, 15 x 14 causal keys each');
  assert.equal(j.k, 10);
  assert.equal(j.queries, 60);
  assert.deepEqual(Object.keys(j.current), pointKeys);
  assert.deepEqual(j.current.params, { m: 16, efConstruction: 100, ef: 64 });
  for (const p of j.sweep) {
    assert.deepEqual(Object.keys(p), pointKeys);
    assert.ok(p.recall >= 0 && p.recall <= 1 && p.p50Ms >= 0);
  }
  assert.deepEqual(
    j.sweep.map((p: { params: { ef: number } }) => p.params.ef),
    [10, 16, 24, 32, 48, 64, 96, 128, 256, 512],
  );
  assert.equal(j.sweep.find((p: { params: { ef: number } }) => p.params.ef === 64).recall, j.current.recall);
  assert.deepEqual(Object.keys(j.arrag), ['params', 'recall']);
  assert.deepEqual(j.arrag.params, {
    factory: 'OPQ8,IVF64,PQ8np',
    nlist: 64,
    subQuantizers: 8,
    bits: 8,
    nprobe: 4096,
    rerank: false,
    trainingKeys: 2520,
    opqIterations: 10,
  });
  assert.ok(j.arrag.recall > 0 && j.arrag.recall < j.current.recall, `AR-RAG ${j.arrag.recall} against HNSW ${j.current.recall}`);
  // the same seeded sample and training: the same figures
  const again = runCli(['fidelity', '--db', dbDir, '--queries', '60', '--json'], work).json();
  assert.equal(again.current.recall, j.current.recall);
  assert.deepEqual(
    again.sweep.map((p: { recall: number }) => p.recall),
    j.sweep.map((p: { recall: number }) => p.recall),
  );
  assert.equal(again.arrag.recall, j.arrag.recall);
});

test('fidelity --k 5 measures recall@5 over ef >= 5; the text report says what AR-RAG loses', () => {
  const r = runCli(['fidelity', '--db', path.dirname(dbDir), '--queries', '20', '--k', '5', '--json'], work);
  assert.equal(r.code, 0, r.stderr);
  const j = r.json();
  assert.equal(j.k, 5);
  assert.equal(j.sweep[0].params.ef, 5);
  assert.ok(j.sweep.every((p: { params: { ef: number } }) => p.params.ef >= 5));
  const t = runCli(['fidelity', '--db', dbDir, '--queries', '20', '--quiet'], work);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /recall@10 against exact search on 20 of its own keys/);
  assert.match(t.stdout, /AR-RAG's FAISS database \(OPQ8,IVF64,PQ8np, nprobe 4096, no re-ranking\) finds \d+\.\d% of the true 10 nearest patches/);
  assert.equal(t.stderr, '', '--quiet: no progress');
});

test('exact search measured as the index has recall 1 everywhere', async () => {
  const db = PatchDatabase.open(dbDir)!;
  const h = hnswSubject(db);
  const exact: FidelitySubject = {
    ...h,
    index: { backend: 'exact', current: { none: 0 }, sweep: () => [{ none: 0 }], search: (q, k, f) => db.exactIndex().search(q, k, f) },
  };
  const r = await measureFidelity(exact, { queries: 40 });
  assert.equal(r.current.recall, 1);
  assert.deepEqual(
    r.sweep.map((p) => p.recall),
    [1],
  );
});

test('a cancelled report stops with FidelityCancelledError', async () => {
  const db = PatchDatabase.open(dbDir)!;
  const c = new AbortController();
  c.abort();
  await assert.rejects(measureFidelity(hnswSubject(db), { queries: 40, signal: c.signal }), FidelityCancelledError);
});

test('fidelity errors: a bad --queries is a usage error; a one-image database says why in one line', () => {
  const bad = runCli(['fidelity', '--db', dbDir, '--queries', '0'], work);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--queries must be an integer from 1/);
  const one = runCli(['fidelity', '--db', single, '--json'], work);
  assert.equal(one.code, 1);
  assert.equal(one.stderr.trim().split('\n').length, 1, one.stderr);
  assert.match(one.stderr, /needs at least two indexed images/);
});

test('the engine worker measures it off the extension host: phase steps while it runs, the same report as the CLI, and a cancel', async () => {
  const engine = new EngineClient();
  try {
    const phases = new Set<string>();
    const r = await engine.request('fidelity', { dbDir, queries: 60 }, { timeoutMs: 0, onSteps: (_done, _total, phase) => phase && phases.add(phase) });
    assert.deepEqual([...phases], ['exact', 'sweep', 'opq', 'coarse', 'pq', 'add', 'arrag']);
    const cli = runCli(['fidelity', '--db', dbDir, '--queries', '60', '--json'], work).json();
    assert.deepEqual([r.current.recall, r.arrag.recall, r.arrag.params], [cli.current.recall, cli.arrag.recall, cli.arrag.params]);
    await assert.rejects(
      engine.request('fidelity', { dbDir, queries: 60 }, { timeoutMs: 0, onStart: (id) => void engine.request('cancel', { buildId: id }) }),
      (e: Error) => e.name === 'FidelityCancelledError',
    );
  } finally {
    await engine.dispose();
  }
});

test('a Lance database is measured over nprobes x refine factor: refining 10x gives more of the exact answer than refining 1x', async () => {
  const uri = path.join(work, 'lance');
  const res = await buildLanceDatabase({ root: path.dirname(dbDir), model: bundledModelPath(), uri, minIndexRows: 1000 });
  assert.ok(res.indexed && res.indexed.partitions > 1, 'a vector index is built');
  const r = runCli(['fidelity', '--db', uri, '--queries', '40', '--json'], work);
  assert.equal(r.code, 0, r.stderr);
  const j = r.json();
  assert.deepEqual(Object.keys(j), ['backend', 'entries', 'k', 'queries', 'current', 'sweep', 'arrag']);
  assert.equal(j.backend, 'lance');
  assert.equal(j.entries, 12 * 210);
  const { partitions, subVectors, nprobes, refineFactor } = res.indexed;
  assert.deepEqual(j.current.params, { partitions, subVectors, nprobes, refineFactor });
  type P = { params: { nprobes: number; refineFactor: number }; recall: number };
  const at = (n: number, rf: number) => (j.sweep as P[]).find((p) => p.params.nprobes === n && p.params.refineFactor === rf)!;
  assert.deepEqual([...new Set((j.sweep as P[]).map((p) => p.params.refineFactor))], [1, 10]);
  assert.ok((j.sweep as P[]).every((p) => p.params.nprobes <= partitions));
  const most = Math.max(...(j.sweep as P[]).map((p) => p.params.nprobes));
  assert.ok(at(most, 10).recall >= at(most, 1).recall, `refine 10: ${at(most, 10).recall}, refine 1: ${at(most, 1).recall}`);
  assert.ok(j.current.recall >= 0.9, `recall@10 at the database's settings: ${j.current.recall}`);
  assert.equal(j.arrag.params.factory, 'OPQ8,IVF64,PQ8np');
});

test('a Lance database without a vector index reads as flat (exact) search, not as zero partitions and probes', () => {
  const flat = { partitions: 0, subVectors: 0, nprobes: 0, refineFactor: 0 };
  assert.equal(knobText(flat), 'flat (exact) search');
  assert.equal(knobText(flat, [{ params: flat, recall: 1, p50Ms: 1 }]), 'flat (exact) search');
  assert.equal(
    knobText({ partitions: 8, subVectors: 16, nprobes: 3, refineFactor: 10 }, [
      { params: { partitions: 8, subVectors: 16, nprobes: 5, refineFactor: 10 }, recall: 1, p50Ms: 1 },
    ]),
    'nprobes=3',
  );
});
