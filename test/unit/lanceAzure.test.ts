// The Lance backend on Azure Blob Storage as users run it: the bundled CLI
// against Azurite (Microsoft's Azure Storage emulator) that the test starts on
// 127.0.0.1, with credentials from --storage-option and from the AZURE_*
// environment variables; and through the engine worker with the credentials
// VS Code keeps in its secret storage.

import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { entryCount } from '../../src/core/neighbourhood';
import { DEFAULT_KEYS } from '../../src/core/vocabulary';
import { EngineClient, EngineError } from '../../src/engine/engineClient';
import { credentialPairs } from '../../src/extension/storeCredentials';
import { storeProblem } from '../../src/extension/storeProblem';
import { spawnCli, type CliRun } from '../support/cliProcess';
import { writeTinyModel } from '../support/tinyModel';
import { tempDir, texturedImage, writeDataset } from '../support/fixtures';

const repo = path.resolve(__dirname, '..', '..');
const work = tempDir();
const per = entryCount(8, 8, 'causal', 1, 'skip');
// Azurite's one account and its documented key (https://learn.microsoft.com/azure/storage/common/storage-use-azurite)
const ACCOUNT = 'devstoreaccount1';
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const WRONG_KEY = Buffer.from('not-the-account-key-of-devstoreaccount1').toString('base64');
const store = path.join(work, 'azurite');
let model = '';
let root = '';
let azurite: ChildProcess;
let blob = '';

const cli = (args: string[], env: Record<string, string> = {}) => spawnCli(work, args, env);

/** The account as --storage-option pairs (Azurite takes the account as the endpoint's first path segment). */
const options = (key = KEY) =>
  [`azure_storage_account_name=${ACCOUNT}`, `azure_storage_account_key=${key}`, `azure_storage_endpoint=${blob}/${ACCOUNT}`, 'allow_http=true'].flatMap((p) => [
    '--storage-option',
    p,
  ]);
/** The same account as the standard environment variables. */
const azureEnv = () => ({
  AZURE_STORAGE_ACCOUNT_NAME: ACCOUNT,
  AZURE_STORAGE_ACCOUNT_KEY: KEY,
  AZURE_STORAGE_ENDPOINT: `${blob}/${ACCOUNT}`,
  AZURE_ALLOW_HTTP: 'true',
});

/** Creates a container with a SharedKey-signed request (object_store does not create containers, as S3 clients do not create buckets). */
async function createContainer(name: string): Promise<void> {
  const headers = { 'x-ms-date': new Date().toUTCString(), 'x-ms-version': '2021-08-06' };
  const canonical = Object.entries(headers)
    .map(([k, v]) => `${k}:${v}`)
    .sort()
    .join('\n');
  // PUT, then the 11 standard headers (all empty), then the x-ms headers and the resource
  const toSign = ['PUT', ...Array(11).fill(''), canonical, `/${ACCOUNT}/${ACCOUNT}/${name}\nrestype:container`].join('\n');
  const signature = crypto.createHmac('sha256', Buffer.from(KEY, 'base64')).update(toSign, 'utf8').digest('base64');
  const res = await fetch(`${blob}/${ACCOUNT}/${name}?restype=container`, {
    method: 'PUT',
    headers: { ...headers, Authorization: `SharedKey ${ACCOUNT}:${signature}` },
  });
  assert.equal(res.status, 201, await res.text());
}

before(async () => {
  const b = spawnSync(process.execPath, [path.join(repo, 'scripts', 'build.mjs'), '--only=cli,encodeWorker'], { cwd: repo, encoding: 'utf8' });
  assert.equal(b.status, 0, b.stderr);
  fs.mkdirSync(store);
  azurite = spawn(
    process.execPath,
    [
      require.resolve('azurite/dist/src/blob/main.js'),
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      '0',
      '--location',
      store,
      '--silent',
      '--skipApiVersionCheck',
      '--loose',
      '--disableTelemetry',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  blob = await new Promise<string>((resolve, reject) => {
    let out = '';
    azurite.once('exit', (code) => reject(new Error(`azurite exited (${code}): ${out}`)));
    azurite.stdout!.on('data', (d) => {
      out += d;
      const m = /listens on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]);
    });
  });
  await createContainer('box');
  model = writeTinyModel(path.join(work, 'model'), { size: 64, patch: 8, dim: 4, codes: 64 });
  root = path.join(work, 'data');
  await writeDataset(root, 10, { seed: 5 });
});

after(() => {
  azurite?.kill();
});

const answer = (r: CliRun) =>
  JSON.parse(r.stdout).results.map((x: { image: string; row: number; col: number; distance: number }) => [x.image, x.row, x.col, x.distance]);

test('on Azure (Azurite): build, query, reopen and update through the CLI, the same answers as a local folder; the key appears nowhere', async () => {
  const db = 'az://box/team/db';
  const local = path.join(work, 'local');
  const [built, builtLocal] = await Promise.all([
    cli(['index', root, '--db', db, '--model', model, '--json', ...options()]),
    cli(['index', root, '--db', local, '--backend', 'lance', '--model', model, '--json']),
  ]);
  assert.equal(built.code, 0, built.stderr);
  assert.equal(builtLocal.code, 0, builtLocal.stderr);
  assert.deepEqual([JSON.parse(built.stdout).images, JSON.parse(built.stdout).entries], [10, 10 * per]);
  // a fresh process opens it again, this time with the environment's credentials
  const at = [path.join(root, 'img-04.png'), '--at', '3,3', '--k', '5', '--json'];
  const [q, exact, qLocal] = await Promise.all([
    cli(['query', ...at, '--db', db], azureEnv()),
    cli(['query', ...at, '--db', db, '--exact', ...options()]),
    cli(['query', ...at, '--db', local]),
  ]);
  for (const r of [q, exact, qLocal]) assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(q.stdout).query.inDatabase, true);
  assert.deepEqual(answer(q)[0], ['img-04.png', 3, 3, 0]);
  assert.deepEqual(answer(q), answer(qLocal), 'the same answer as the same build on a local folder');
  assert.deepEqual(answer(q), answer(exact), 'the same answer as exact search');
  // an update: one image added
  await (await texturedImage(64, 64, 41)).png().toFile(path.join(root, 'added.png'));
  const upd = await cli(['index', root, '--db', db, '--model', model, '--json'], azureEnv());
  assert.equal(upd.code, 0, upd.stderr);
  const u = JSON.parse(upd.stdout);
  assert.deepEqual([u.added, u.removed, u.unchanged, u.entries], [1, 0, 10, 11 * per]);
  const stats = await cli(['stats', '--db', db, '--json', ...options()]);
  assert.equal(stats.code, 0, stats.stderr);
  assert.equal(JSON.parse(stats.stdout).images, 11);
  const found = await cli(['query', path.join(root, 'added.png'), '--at', '2,2', '--k', '1', '--db', db, '--json'], azureEnv());
  assert.deepEqual(answer(found)[0], ['added.png', 2, 2, 0], 'the added image is searched');
  for (const r of [built, q, exact, upd, stats, found]) assert.ok(!`${r.stdout}${r.stderr}`.includes(KEY), 'no key in any output');
  // nor in the store: nothing written there holds it
  const files = fs
    .readdirSync(store, { recursive: true })
    .map(String)
    .filter((f) => fs.statSync(path.join(store, f)).isFile());
  assert.ok(
    files.some((f) => f.includes('__blobstorage__')),
    'Azurite holds the database',
  );
  for (const f of files) assert.ok(!fs.readFileSync(path.join(store, f)).includes(KEY), f);
});

test('on Azure: a wrong account key, a key that is not base64 and a missing container each give one clear line naming the store', async () => {
  const wrong = await cli(['stats', '--db', 'az://box/team/db', ...options(WRONG_KEY)]);
  assert.equal(wrong.code, 1);
  assert.equal(wrong.stderr.trim().split('\n').length, 1, wrong.stderr);
  assert.match(
    wrong.stderr,
    /^patchlens: cannot open the Lance database az:\/\/box\/team\/db: the store refused the credentials\. Check AZURE_STORAGE_ACCOUNT_NAME and AZURE_STORAGE_ACCOUNT_KEY/,
  );
  assert.ok(!wrong.stderr.includes(WRONG_KEY) && !wrong.stderr.includes(KEY));
  const fromEnv = await cli(['stats', '--db', 'az://box/team/db'], { ...azureEnv(), AZURE_STORAGE_ACCOUNT_KEY: WRONG_KEY });
  assert.equal(fromEnv.code, 1);
  assert.match(fromEnv.stderr, /^patchlens: cannot open the Lance database az:\/\/box\/team\/db: the store refused the credentials\./);
  assert.ok(!fromEnv.stderr.includes(WRONG_KEY));
  const garbled = await cli(['stats', '--db', 'az://box/team/db', ...options('not base64 at all')]);
  assert.equal(garbled.code, 1);
  assert.equal(garbled.stderr.trim().split('\n').length, 1, garbled.stderr);
  assert.match(garbled.stderr, /az:\/\/box\/team\/db: the account key is not valid base64/);
  assert.ok(!garbled.stderr.includes('not base64 at all'));
  const none = await cli(['stats', '--db', 'az://nobox/db', ...options()]);
  assert.equal(none.code, 1);
  assert.equal(none.stderr.trim().split('\n').length, 1, none.stderr);
  assert.match(none.stderr, /az:\/\/nobox\/db: no such container/);
});

test('on Azure through the engine worker, with the account VS Code keeps: build, summary, query; a wrong key is the credentials problem', async () => {
  const engine = new EngineClient();
  try {
    const db = 'az://box/vscode/db';
    const creds = { accountName: ACCOUNT, accountKey: KEY, endpoint: `${blob}/${ACCOUNT}` };
    await engine.request('storageOptions', { dbDir: db, options: credentialPairs(creds), root });
    const res = await engine.request(
      'build',
      { root, dbDir: db, model, keys: DEFAULT_KEYS, hnsw: { m: 16, efConstruction: 100, ef: 64 }, workers: 1 },
      { timeoutMs: 0 },
    );
    assert.deepEqual([res.images, res.entries], [11, 11 * per]);
    const s = (await engine.request('summary', { dbDir: db }))!;
    assert.deepEqual([s.backend, s.images], ['lance', 11]);
    const q = await engine.request('query', { dbDir: db, image: path.join(root, 'img-01.png'), row: 2, col: 2, options: { k: 3 } });
    assert.deepEqual([q.results[0].image, q.results[0].distance], ['img-01.png', 0]);
    await engine.request('storageOptions', { dbDir: db, options: credentialPairs({ ...creds, accountKey: WRONG_KEY }), root });
    const wrong = await engine.request('summary', { dbDir: db }).then(
      () => undefined,
      (e: Error) => e,
    );
    assert.ok(wrong instanceof EngineError);
    assert.equal(wrong.message.split('\n').length, 1);
    assert.ok(!wrong.message.includes(WRONG_KEY));
    assert.deepEqual(storeProblem(wrong.message), {
      kind: 'credentials',
      line: 'cannot open the Lance database az://box/vscode/db: the store refused the credentials',
    });
  } finally {
    await engine.dispose();
  }
});
