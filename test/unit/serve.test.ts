// `patchlens serve` and the --server client, run as a user runs them (the
// bundled bin/patchlens.js in child processes): the same JSON as the one-shot
// commands, bad requests answered with an error (never a crash), a bounded
// request size, loopback only, stale sockets replaced, clean shutdown on
// SIGINT/SIGTERM, and a database found damaged in the background no longer
// answered from.

import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { PatchDatabase, manifestChecksum, recordVerified } from '../../src/engine/database';
import { writeTinyModel } from '../support/tinyModel';
import { tempDir, writeDataset } from '../support/fixtures';

const repo = path.resolve(__dirname, '..', '..');
const bin = path.join(repo, 'bin', 'patchlens.js');
const work = tempDir('patchlens-serve-');
const root = path.join(work, 'photos');
const db = path.join(root, '.patchlens');
const socket = path.join(work, 'serve.sock');
let model = '';
const servers: ChildProcess[] = [];

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: work, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `patchlens serve` and resolves with its ready line (parsed --json) once it listens. */
function serve(args: string[]): Promise<{ child: ChildProcess; ready: Record<string, unknown> }> {
  const child = spawn(process.execPath, [bin, 'serve', '--json', ...args], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  servers.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve({ child, ready: JSON.parse(line) }));
    child.once('exit', (code) => reject(new Error(`serve exited (${code}) before listening: ${stderr}`)));
  });
}

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.exitCode !== null || child.signalCode !== null
      ? resolve({ code: child.exitCode, signal: child.signalCode })
      : child.once('exit', (code, signal) => resolve({ code, signal })),
  );

/** A raw connection: send lines, read reply lines. */
function connect(to: string | number): Promise<{ send(text: string): void; reply(): Promise<Record<string, unknown> | undefined>; close(): void }> {
  const s = typeof to === 'number' ? net.connect(to, '127.0.0.1') : net.connect(to);
  const lines: string[] = [];
  const waiting: ((l: string | undefined) => void)[] = [];
  let ended = false;
  createInterface({ input: s }).on('line', (l) => (waiting.length ? waiting.shift()!(l) : lines.push(l)));
  s.on('close', () => {
    ended = true;
    for (const w of waiting.splice(0)) w(undefined);
  });
  s.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.once('connect', () =>
      resolve({
        send: (text) => s.write(text),
        reply: () =>
          new Promise((r) => (lines.length ? r(lines.shift()) : ended ? r(undefined) : waiting.push(r))).then((l) =>
            l === undefined ? undefined : JSON.parse(l as string),
          ),
        close: () => s.destroy(),
      }),
    );
  });
}

before(async () => {
  const b = spawnSync(process.execPath, [path.join(repo, 'scripts', 'build.mjs'), '--only=cli,encodeWorker'], { cwd: repo, encoding: 'utf8' });
  assert.equal(b.status, 0, b.stderr);
  model = writeTinyModel(path.join(work, 'model'), { size: 64, patch: 8, dim: 4, codes: 64 });
  await writeDataset(root, 4, { seed: 13 });
  const r = cli(['index', root, '--model', model, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
});

after(() => {
  for (const s of servers) if (s.exitCode === null && s.signalCode === null) s.kill('SIGKILL');
});

test('serve --help prints the usage', () => {
  const r = cli(['serve', '--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /patchlens serve \[--db D\] \[--socket PATH \| --port N\]/);
});

test('query, tokens and stats through --server give exactly the one-shot output; bad requests get errors; SIGTERM stops it cleanly', async () => {
  const { child, ready } = await serve(['--db', db, '--socket', socket]);
  assert.equal(ready.socket, socket);
  assert.equal(ready.serving, db);
  assert.equal(fs.statSync(socket).mode & 0o777, 0o600, 'only the owner may connect');
  const img = path.join(root, 'img-01.png');
  for (const args of [
    ['query', img, '--at', '3,4', '--k', '5', '--json'],
    ['query', 'photos/img-02.png', '--at', '2,2', '--exact', '--k', '7', '--ef', '10', '--json'],
    ['query', img, '--at', '3,4'],
    ['tokens', img, '--json'],
    ['stats', '--db', db, '--json'],
  ]) {
    const direct = cli(args);
    const served = cli([...args, '--server', socket]);
    assert.equal(direct.code, 0, direct.stderr);
    assert.equal(served.code, 0, `${args.join(' ')}: ${served.stderr}`);
    const untimed = (out: string) => out.replace(/\((HNSW|exact), [\d.]+ ms\)/, '($1)'); // the text names the search time
    assert.equal(untimed(served.stdout), untimed(direct.stdout), args.join(' '));
  }
  // errors come back as the CLI gives them: one line, the same exit code
  const usage = cli(['query', img, '--server', socket]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /^patchlens: usage: --at <row>,<col> is required/);
  const other = cli(['query', img, '--at', '1,1', '--db', work, '--server', socket]);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /^patchlens: this server serves .* not /);

  const c = await connect(socket);
  for (const [line, expected] of [
    ['not json\n', /the request is not JSON/],
    ['[1,2]\n', /must be a JSON object/],
    ['{"argv": "query"}\n', /"argv" must be a non-empty array of strings/],
    ['{"id": 7, "argv": ["index", "x"]}\n', /answers query, tokens, stats, not "index"/],
    ['{"id": 8, "argv": ["query", "x.png", "--at", "1,1"], "cwd": "relative"}\n', /"cwd" must be an absolute path/],
    [`{"id": 9, "argv": ["query", "${img}", "--at", "99,99"]}\n`, /row|col|outside|grid/i],
    ['{"id": 10, "argv": ["query", "/nonexistent.png", "--at", "1,1"]}\n', /nonexistent/],
  ] as const) {
    c.send(line);
    const r = await c.reply();
    assert.ok(r && typeof r.error === 'object', `${line.trim()}: ${JSON.stringify(r)}`);
    assert.match((r.error as { message: string }).message, expected, line);
  }
  // pipelined requests on one connection: replies in order, ids echoed
  c.send(`{"id": "a", "argv": ["query", "${img}", "--at", "3,4", "--json"]}\n{"id": "b", "argv": ["stats", "--json"], "cwd": "${root}"}\n`);
  const [a, b] = [await c.reply(), await c.reply()];
  assert.equal(a?.id, 'a');
  assert.equal(b?.id, 'b');
  assert.equal((b?.result as { images: number }).images, 4);
  c.close();

  // a request over the size limit: an error, then the connection is closed; the server goes on
  const big = await connect(socket);
  big.send('{"argv": ["query", "' + 'x'.repeat(1.5 * 2 ** 20));
  const tooBig = await big.reply();
  assert.match((tooBig?.error as { message: string }).message, /request larger than 1048576 bytes/);
  assert.equal(await big.reply(), undefined, 'closed');
  assert.equal(cli(['stats', '--json', '--server', socket]).code, 0, 'still serving');

  child.kill('SIGTERM');
  assert.deepEqual(await exited(child), { code: 0, signal: null });
  assert.equal(fs.existsSync(socket), false, 'the socket is removed');
  const gone = cli(['stats', '--server', socket]);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /^patchlens: cannot reach a patchlens server at .* \(ENOENT\)\. Start one with patchlens serve\n$/);
});

test('TCP on 127.0.0.1 only (--port 0 picks a free port); SIGINT stops it', async () => {
  const { child, ready } = await serve(['--db', db, '--port', '0']);
  const port = ready.port as number;
  assert.ok(port > 0);
  assert.equal(ready.address, `127.0.0.1:${port}`);
  const r = cli(['stats', '--json', '--server', String(port)]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).images, 4);
  assert.equal(cli(['stats', '--json', '--server', `127.0.0.1:${port}`]).stdout, r.stdout);
  child.kill('SIGINT');
  assert.deepEqual(await exited(child), { code: 0, signal: null });
});

test('a stale socket left by a killed server is replaced; a live one or another file is never touched', async () => {
  const first = await serve(['--db', db, '--socket', socket]);
  const busy = cli(['serve', '--db', db, '--socket', socket]);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /another server is listening there/);
  first.child.kill('SIGKILL');
  await exited(first.child);
  assert.ok(fs.existsSync(socket), 'kill -9 leaves the socket file');
  const second = await serve(['--db', db, '--socket', socket]);
  assert.equal(cli(['stats', '--server', socket, '--json']).code, 0);
  second.child.kill('SIGTERM');
  await exited(second.child);

  const file = path.join(work, 'notes.txt');
  fs.writeFileSync(file, 'keep me');
  const r = cli(['serve', '--db', db, '--socket', file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /it exists and is not a socket/);
  assert.equal(fs.readFileSync(file, 'utf8'), 'keep me');
  assert.equal(cli(['serve', '--db', work]).code, 1, 'no database there');
  assert.equal(cli(['serve', '--db', db, '--socket', socket, '--port', '1']).code, 2);
});

test('a server stops answering from a database its background check found damaged', async () => {
  const copy = path.join(work, 'damaged');
  fs.cpSync(root, copy, { recursive: true, preserveTimestamps: true });
  const cdb = path.join(copy, '.patchlens');
  const m = PatchDatabase.open(cdb)!.manifest; // hashes everything (a copy) and records it
  // contents changed beneath the file system: the identity the record holds is kept
  const seg = path.join(cdb, m.segments[0].file);
  const st = fs.statSync(seg);
  const fd = fs.openSync(seg, 'r+');
  fs.writeSync(fd, Buffer.from([0xff, 0xee]), 0, 2, 9);
  fs.closeSync(fd);
  fs.utimesSync(seg, st.atime, st.mtime);
  recordVerified(cdb, m, manifestChecksum(fs.readFileSync(path.join(cdb, 'manifest.json'), 'utf8')));
  const sock = path.join(work, 'damaged.sock');
  const { child, ready } = await serve(['--db', cdb, '--socket', sock]);
  assert.equal(ready.checked, 'identity');
  let err = '';
  for (let i = 0; i < 200 && !err; i++) {
    const r = cli(['stats', '--json', '--server', sock]);
    if (r.code !== 0) err = r.stderr;
  }
  assert.match(err, new RegExp(`^patchlens: the database file .*${m.segments[0].file} is damaged \\(checksum mismatch\\)\\. Rebuild the database`));
  child.kill('SIGTERM');
  await exited(child);
});
