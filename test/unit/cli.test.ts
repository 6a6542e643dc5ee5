// The CLI contract (scripts and the extension rely on it), run as a user runs it:
// the bundled `bin/patchlens.js` in a child process.

import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { writeNpy } from '../../src/core/npy';
import { MAX_HOPS, MIN_HOPS } from '../../src/core/vocabulary';
import { writeTinyModel } from '../support/tinyModel';
import { tempDir, writeDataset } from '../support/fixtures';

const repo = path.resolve(__dirname, '..', '..');
const work = tempDir();
const root = path.join(work, 'data set');
let model = '';

function cli(args: string[], opts: { cwd?: string } = {}) {
  const r = spawnSync(process.execPath, [path.join(repo, 'bin', 'patchlens.js'), ...args], {
    cwd: opts.cwd ?? work,
    encoding: 'utf8',
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

before(async () => {
  // the bundle under test (npm test builds it too; this keeps `node scripts/test.mjs unit` self-contained)
  const b = spawnSync(process.execPath, [path.join(repo, 'scripts', 'build.mjs'), '--only=cli,encodeWorker'], { cwd: repo, encoding: 'utf8' });
  assert.equal(b.status, 0, b.stderr);
  model = writeTinyModel(path.join(work, 'model'), { size: 64, patch: 8, dim: 4, codes: 64 });
  await writeDataset(root, 5, { seed: 3 });
  fs.writeFileSync(path.join(root, 'empty.png'), '');
});

test('index --json: one JSON document on stdout with the contract fields; logs on stderr', () => {
  const r = cli(['index', root, '--model', model, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = r.json();
  assert.deepEqual([j.images, j.entries, j.db, j.model], [5, 5 * 42, path.join(root, '.patchlens'), 'tiny-64-p8-d4-k64']);
  assert.deepEqual(j.skipped, [{ path: 'empty.png', error: 'file is empty' }]);
  assert.equal(typeof j.elapsedMs, 'number');
  assert.match(r.stderr, /scan: 6 images/);
  const again = cli(['index', root, '--model', model, '--json']).json();
  assert.equal(again.upToDate, true);
});

test('query --json: query, results and distribution; paths relative and /-separated; squared L2', () => {
  const r = cli(['query', path.join(root, 'img-02.png'), '--at', '3,4', '--k', '7', '--exact', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = r.json();
  assert.deepEqual(Object.keys(j), ['query', 'results', 'distribution']);
  assert.deepEqual([j.query.image, j.query.row, j.query.col], ['img-02.png', 3, 4]);
  assert.equal(typeof j.query.token, 'number');
  assert.equal(j.results.length, 7);
  assert.deepEqual(Object.keys(j.results[0]).sort(), ['col', 'distance', 'image', 'row', 'token']);
  assert.deepEqual([j.results[0].image, j.results[0].distance, j.results[0].token], ['img-02.png', 0, j.query.token]);
  assert.ok(Math.abs(j.distribution.reduce((a: number, d: { p: number }) => a + d.p, 0) - 1) < 1e-9);
  const ex = cli([
    'query',
    path.join(root, 'img-02.png'),
    '--at',
    '3,4',
    '--k',
    '7',
    '--exclude-self',
    '--query-keys',
    'code',
    '--temperature',
    '0.5',
    '--json',
  ]).json();
  assert.ok(ex.results.every((x: { image: string }) => x.image !== 'img-02.png'));
});

test('query merges a model distribution from .npy (probabilities or logits)', () => {
  const logits = new Float32Array(64).fill(0);
  logits[5] = 10;
  const f = path.join(work, 'logits.npy');
  fs.writeFileSync(f, writeNpy(logits, [64]));
  const j = cli(['query', path.join(root, 'img-01.png'), '--at', '2,2', '--model-dist', f, '--logits', '--lambda', '0.3', '--json']).json();
  assert.equal(j.lambda, 0.3);
  const total = j.merged.reduce((a: number, d: { p: number }) => a + d.p, 0);
  assert.ok(total <= 1 + 1e-9);
  assert.equal(j.merged[0].token, 5, 'the model is confident about token 5');
  const bad = cli(['query', path.join(root, 'img-01.png'), '--at', '2,2', '--model-dist', f, '--json']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /not a probability vector/);
});

test('tokens --json: grid, cells in source pixels, optional latents; from the database or the model', () => {
  const j = cli(['tokens', path.join(root, 'img-00.png'), '--latents', '--json']).json();
  assert.deepEqual([j.image, j.rows, j.cols], ['img-00.png', 8, 8]);
  assert.equal(j.tokens.length, 8);
  assert.equal(j.tokens[0].length, 8);
  assert.equal(j.latents[0][0].length, 4);
  assert.equal(j.cells.length, 64);
  assert.deepEqual(Object.keys(j.cells[0]), ['row', 'col', 'x', 'y', 'width', 'height']);
  const m = cli(['tokens', path.join(root, 'img-00.png'), '--model', model, '--json']).json();
  assert.deepEqual(m.tokens, j.tokens, 'tokenizing now gives the stored tokens');
});

test('stats --json: codebook usage and predictability', () => {
  const j = cli(['stats', '--db', path.join(root, '.patchlens'), '--predictability', '0.4', '--seed', '1', '--json']).json();
  assert.equal(j.images, 5);
  assert.equal(j.codebook.codebookSize, 64);
  assert.equal(
    j.usage.reduce((a: number, b: number) => a + b, 0),
    5 * 64,
  );
  assert.equal(j.predictability.heldOutImages, 2);
  assert.ok(j.predictability.top5 >= j.predictability.top1);
  // the baselines beside top-1: the most used token of the other images, and 1/K
  assert.equal(j.predictability.chance, 1 / 64);
  assert.ok(Number.isInteger(j.predictability.mostFrequentToken) && j.predictability.mostFrequentToken >= 0 && j.predictability.mostFrequentToken < 64);
  assert.ok(j.predictability.mostFrequent >= 0 && j.predictability.mostFrequent <= 1);
  const text = cli(['stats', '--db', path.join(root, '.patchlens'), '--predictability', '0.4', '--seed', '1']).stdout;
  assert.match(text, new RegExp(`top-1 [^ ]+% \\(baselines: most frequent token ${j.predictability.mostFrequentToken} [^ ]+%, chance 1/64 1\\.6%\\)`));
  assert.match(text, /true token retrieved at all \(coverage\) [^ ]+%/);
  // found from the current folder too
  assert.equal(cli(['stats', '--json'], { cwd: path.join(root) }).json().images, 5);
});

test('failures exit non-zero with a one-line reason', () => {
  const usage = cli(['index']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /^patchlens: usage: expected one dataset folder/);
  const badOpt = cli(['index', root, '--hops', String(MAX_HOPS + 1)]);
  assert.equal(badOpt.code, 2);
  assert.match(badOpt.stderr, new RegExp(`--hops must be an integer from ${MIN_HOPS} to ${MAX_HOPS}`));
  const noDb = cli(['query', path.join(work, 'model', 'manifest.json'), '--at', '1,1']);
  assert.equal(noDb.code, 1);
  assert.match(noDb.stderr, /no patch database found/);
  const badModel = cli(['index', root, '--model', path.join(work, 'missing.json')]);
  assert.equal(badModel.code, 1);
  const lines = badModel.stderr.trim().split('\n');
  assert.equal(lines.filter((l) => l.startsWith('patchlens:')).length, 1, 'one line of reason (after any progress lines)');
  assert.match(lines[lines.length - 1], /^patchlens: .*\(manifest\): cannot read the model manifest/);
  const outside = cli(['query', path.join(root, 'img-00.png'), '--at', '30,1']);
  assert.equal(outside.code, 1);
  assert.match(outside.stderr, /outside the 8x8 grid/);
});

test('every command answers --help (and `help <command>`) with its own usage, exit 0', () => {
  for (const cmd of ['index', 'query', 'tokens', 'rollout', 'stats', 'duplicates', 'fidelity', 'serve']) {
    for (const args of [
      [cmd, '--help'],
      ['help', cmd],
    ]) {
      const r = cli(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: patchlens ${cmd} `), args.join(' '));
      if (cmd !== 'index') assert.doesNotMatch(r.stdout, /patchlens index <dir>/, `${args.join(' ')} prints only its own usage`);
    }
  }
  assert.match(cli(['fidelity', '--help']).stdout, /current: \{ params, recall, p50Ms \}/);
});

test('bin/patchlens.js in a checkout warns when a source file is newer than dist/cli.js', () => {
  const checkout = path.join(work, 'checkout');
  fs.mkdirSync(path.join(checkout, 'bin'), { recursive: true });
  fs.mkdirSync(path.join(checkout, 'dist'), { recursive: true });
  fs.mkdirSync(path.join(checkout, 'src', 'cli'), { recursive: true });
  fs.copyFileSync(path.join(repo, 'bin', 'patchlens.js'), path.join(checkout, 'bin', 'patchlens.js'));
  fs.writeFileSync(path.join(checkout, 'dist', 'cli.js'), 'exports.main = async () => 0;\n');
  const source = path.join(checkout, 'src', 'cli', 'main.ts');
  fs.writeFileSync(source, '// source\n');
  const run = () => spawnSync(process.execPath, [path.join(checkout, 'bin', 'patchlens.js'), 'help'], { encoding: 'utf8' });
  const built = fs.statSync(path.join(checkout, 'dist', 'cli.js')).mtime;
  fs.utimesSync(source, built, new Date(built.getTime() - 60_000));
  let r = run();
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  fs.utimesSync(source, built, new Date(built.getTime() + 60_000));
  r = run();
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /warning: src\/cli\/main\.ts is newer than dist\/cli\.js; run `npm run build`/);
});
