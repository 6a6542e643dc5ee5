// What VS Code does with a database patchlens.databases names, through the
// engine worker: a build onto a Lance database (a folder elsewhere, or an
// s3:// URI on an S3 fake on 127.0.0.1) with the storage options the
// extension hands over from its secret storage, the dataset folder on this
// machine given for a database built from another path, and one clear line
// for wrong credentials and an unreachable endpoint.

import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { EngineClient, EngineError } from '../../src/engine/engineClient';
import { buildDatabase } from '../../src/engine/indexer';
import { entryCount } from '../../src/core/neighbourhood';
import { credentialPairs } from '../../src/extension/storeCredentials';
import { DEFAULT_KEYS } from '../../src/core/vocabulary';
import { writeTinyModel } from '../support/tinyModel';
import { tempDir, writeDataset } from '../support/fixtures';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (o: object) => { run(): Promise<{ port: number }>; close(): Promise<void> };

const work = tempDir('pl-engine-shared-');
const per = entryCount(8, 8, 'causal', 1, 'skip');
// enough keys for AR-RAG's 8-bit codebooks in the fidelity report (256 training points)
const N = 8;
let model = '';
let root = '';
let server: InstanceType<typeof S3rver>;
let endpoint = '';
let engine: EngineClient;

const build = (dbDir: string, backend?: 'hnsw' | 'lance', at = root) =>
  engine.request(
    'build',
    { root: at, dbDir, model, keys: DEFAULT_KEYS, hnsw: { m: 16, efConstruction: 100, ef: 64 }, workers: 1, ...(backend ? { backend } : {}) },
    { timeoutMs: 0 },
  );

before(async () => {
  server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: path.join(work, 's3'), configureBuckets: [{ name: 'bucket' }] });
  endpoint = `http://127.0.0.1:${(await server.run()).port}`;
  model = writeTinyModel(path.join(work, 'model'), { size: 64, patch: 8, dim: 4, codes: 64 });
  root = path.join(work, 'data');
  await writeDataset(root, N, { seed: 7 });
  engine = new EngineClient();
});

after(async () => {
  await engine.dispose();
  await server.close();
});

test('a Lance folder outside the dataset: built with backend lance, read from another copy of the dataset', async () => {
  const db = path.join(work, 'shared-lance');
  const res = await build(db, 'lance');
  assert.deepEqual([res.images, res.entries], [N, N * per]);
  assert.ok(fs.existsSync(path.join(db, 'meta.lance')) && !fs.existsSync(path.join(db, 'manifest.json')));
  // another machine's copy of the dataset, at another path (other file times: the content says they are the indexed images)
  const mine = path.join(work, 'my-copy');
  fs.cpSync(root, mine, { recursive: true });
  assert.equal(await engine.request('storageOptions', { dbDir: db, options: [], root: mine }), true);
  const s = (await engine.request('summary', { dbDir: db }))!;
  assert.deepEqual([s.backend, s.root, s.images, s.entries, s.index.lance?.partitions], ['lance', mine, N, N * per, 0]);
  const grid = await engine.request('grid', { dbDir: db, image: path.join(mine, 'img-02.png') });
  assert.equal(grid.inDatabase, true);
  const q = await engine.request('query', { dbDir: db, image: path.join(mine, 'img-02.png'), row: 3, col: 3, options: { k: 4, excludeSelf: true } });
  assert.equal(q.results.length, 4);
  assert.ok(q.results.every((r) => r.image !== 'img-02.png'));
  const uses = await engine.request('tokenUses', { dbDir: db, token: grid.tokens[0] });
  assert.ok(uses.some((u) => u.image === 'img-02.png'));
  const cb = await engine.request('codebook', { dbDir: db });
  assert.equal(
    cb.counts.reduce((a, b) => a + b, 0),
    N * 64,
  );
  // the pixels come from this machine's copy: a thumbnail reads it
  const th = await engine.request('thumbnail', { dbDir: db, image: 'img-02.png', size: 32 });
  assert.ok(th.png.byteLength > 0);
  // a build from this copy re-encodes nothing: same sizes, other times, the same content
  const again = await build(db, 'lance', mine);
  assert.deepEqual([again.added, again.updated, again.removed, again.unchanged], [0, 0, 0, N]);
});

test('a Lance build refuses a folder that holds an HNSW database', async () => {
  const hnsw = path.join(work, 'hnsw-db');
  await buildDatabase({ root, dbDir: hnsw, model, workers: 1 });
  await assert.rejects(build(hnsw, 'lance'), (e: EngineError) => e.kind === 'DatabaseError' && /holds an HNSW database/.test(e.message));
});

test('an s3:// database with the credentials VS Code keeps: build, summary, query; wrong credentials and an unreachable endpoint are one line each', async () => {
  const db = 's3://bucket/vscode/db';
  const creds = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', region: 'us-east-1', endpoint };
  await engine.request('storageOptions', { dbDir: db, options: credentialPairs(creds), root });
  const res = await build(db);
  assert.deepEqual([res.images, res.entries], [N, N * per]);
  const s = (await engine.request('summary', { dbDir: db }))!;
  assert.deepEqual([s.backend, s.images], ['lance', N]);
  const q = await engine.request('query', { dbDir: db, image: path.join(root, 'img-01.png'), row: 2, col: 2, options: { k: 3 } });
  assert.deepEqual([q.results[0].image, q.results[0].distance], ['img-01.png', 0]);
  const f = await engine.request('fidelity', { dbDir: db, queries: 20, k: 5 }, { timeoutMs: 0 });
  assert.deepEqual([f.backend, f.queries, f.current.recall], ['lance', 20, 1], 'a flat Lance database is exact');

  await engine.request('storageOptions', { dbDir: db, options: credentialPairs({ ...creds, accessKeyId: 'NOBODY', secretAccessKey: 'not-the-secret' }), root });
  const wrong = await engine.request('summary', { dbDir: db }).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.ok(wrong instanceof EngineError);
  assert.match(wrong.message, /^cannot open the Lance database s3:\/\/bucket\/vscode\/db: the store refused the credentials/);
  assert.equal(wrong.message.split('\n').length, 1);
  assert.ok(!wrong.message.includes('not-the-secret'));

  const closed = await new Promise<number>((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
  await engine.request('storageOptions', { dbDir: db, options: credentialPairs({ ...creds, endpoint: `http://127.0.0.1:${closed}` }), root });
  const down = await engine.request('summary', { dbDir: db }, { timeoutMs: 0 }).then(
    () => undefined,
    (e: Error) => e,
  );
  assert.ok(down instanceof EngineError);
  assert.match(down.message, /the store cannot be reached \(endpoint http:\/\/127\.0\.0\.1:\d+\)/);
  assert.equal(down.message.split('\n').length, 1);
});
