// Rollouts over real databases built by the indexer from painted images whose
// tokens are chosen by hand (test/support/paintedTokens.ts), through the engine
// and through the bundled CLI in a child process.

import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import sharp from 'sharp';
import { tempDir } from '../support/fixtures';
import { PAINTED, paintTokens, randomTokens, writePaintedModel } from '../support/paintedTokens';
import { buildDatabase } from '../../src/engine/indexer';
import { PatchDatabase } from '../../src/engine/database';
import { PatchRetriever } from '../../src/engine/retrieval';
import { RolloutCancelledError, rolloutJson, runRollout } from '../../src/engine/rollout';
import { hasEntry } from '../../src/core/neighbourhood';
import { EngineClient } from '../../src/engine/engineClient';

const repo = path.resolve(__dirname, '..', '..');
const work = tempDir();
const root = path.join(work, 'painted');
const ringRoot = path.join(work, 'ring');
const side = PAINTED.side;
let model = '';
let decoderModel = '';
let a: Int32Array;
let q: Int32Array;
/** Cells of q's generated region where it differs from a. */
const differ = [4 * side + 2, 5 * side + 5, 6 * side + 1, 7 * side + 3, 7 * side + 6];

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [path.join(repo, 'bin', 'patchlens.js'), ...args], {
    cwd: work,
    encoding: 'utf8',
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

before(async () => {
  const b = spawnSync(process.execPath, [path.join(repo, 'scripts', 'build.mjs'), '--only=cli,encodeWorker,engineWorker'], { cwd: repo, encoding: 'utf8' });
  assert.equal(b.status, 0, b.stderr);
  model = writePaintedModel(path.join(work, 'model'));
  decoderModel = writePaintedModel(path.join(work, 'model-dec'), { decoder: true });
  fs.mkdirSync(root, { recursive: true });
  fs.mkdirSync(ringRoot, { recursive: true });
  // a: random tokens. q: a's tokens up to (4, 0) and in the border columns (cells without a
  // key), a's tokens with five changes below. With q left out, a rollout of q from (4, 0)
  // finds a's entry at distance 0 at every cell: it copies a's region.
  a = randomTokens(11);
  q = Int32Array.from(a);
  for (const cell of differ) q[cell] = (a[cell] + 1) % PAINTED.codes;
  await paintTokens(a, path.join(root, 'a.png'));
  await paintTokens(q, path.join(root, 'q.png'));
  for (let i = 0; i < 6; i++) await paintTokens(randomTokens(100 + i), path.join(root, `r${i}.png`));
  await paintTokens(a, path.join(ringRoot, 'a.png'));
  await paintTokens(q, path.join(ringRoot, 'q.png'));
  await buildDatabase({ root, model, keys: { source: 'code' }, workers: 1 });
  await buildDatabase({ root: ringRoot, model, keys: { source: 'code', shape: 'ring' }, workers: 1 });
});

function open() {
  const db = PatchDatabase.open(path.join(root, '.patchlens'))!;
  return { db, retriever: new PatchRetriever(db, root) };
}

test('the painted database holds the hand-made tokens', async () => {
  const { retriever } = open();
  assert.deepEqual(Array.from((await retriever.tokenGrid(path.join(root, 'q.png'))).tokens), Array.from(q));
});

test('a hand-made database whose rollout is known: q continued from (4, 0) copies a', async () => {
  const { retriever } = open();
  const grid = await retriever.tokenGrid(path.join(root, 'q.png'));
  for (const exact of [true, false]) {
    const j = rolloutJson(await runRollout(retriever, grid, { from: { row: 4, col: 0 }, exact }));
    const start = 4 * side;
    for (let cell = 0; cell < side * side; cell++) {
      const r = Math.floor(cell / side);
      const c = cell % side;
      const generated = cell >= start && c > 0 && c < side - 1;
      assert.equal(j.tokens[r][c], generated ? a[cell] : q[cell], `token at ${r},${c}`);
      assert.equal(j.original[r][c], q[cell]);
      assert.deepEqual(j.sources[r][c], generated ? { image: 'a.png', row: r, col: c, distance: 0 } : null, `source at ${r},${c}`);
    }
    assert.equal(j.agreement, (24 - differ.length) / 24);
    assert.deepEqual(j.topSource, { image: 'a.png', share: 1 });
    assert.deepEqual(j.longestCopiedRun, { image: 'a.png', cells: 24 });
  }
  // with its own entries allowed, an image's first step finds itself at distance 0
  const r3 = await retriever.tokenGrid(path.join(root, 'r3.png'));
  const self = await runRollout(retriever, r3, { from: { row: 2, col: 3 }, exact: true, includeSelf: true });
  assert.deepEqual(self.sources[2 * side + 3], { image: 'r3.png', row: 2, col: 3, token: r3.tokens[2 * side + 3], distance: 0 });
  const other = await runRollout(retriever, r3, { from: { row: 2, col: 3 }, exact: true });
  assert.ok(other.sources.every((s) => s?.image !== 'r3.png'));
});

test('the greedy exact rollout equals the same steps done one code-key exact query at a time', async () => {
  const { db, retriever } = open();
  const grid = await retriever.tokenGrid(path.join(root, 'r2.png'));
  const from = { row: 2, col: 3 };
  const run = await runRollout(retriever, grid, { from, k: 8, exact: true });
  // the same steps by hand: query each cell of the grid as generated so far, take the nearest hit
  const by = { ...grid, tokens: Int32Array.from(grid.tokens) };
  const { rows, cols } = db.model;
  for (let cell = from.row * cols + from.col; cell < rows * cols; cell++) {
    const row = Math.floor(cell / cols);
    const col = cell % cols;
    if (!hasEntry(rows, cols, db.keys.shape, db.keys.hops, db.keys.border, row, col)) {
      assert.equal(run.sources[cell], null);
      continue;
    }
    const res = await retriever.query(by, row, col, { k: 8, exact: true, excludeSelf: true, queryKeys: 'code' });
    const nearest = res.results[0];
    by.tokens[cell] = nearest.token;
    assert.deepEqual(run.sources[cell], nearest, `step at ${row},${col}`);
  }
  assert.deepEqual(Array.from(run.tokens), Array.from(by.tokens));
  assert.ok(run.summary.agreement < 1, 'the rollout is not the image itself');
  // and the first step is what `patchlens query --query-keys code --exact --exclude-self` answers
  const first = cli(['query', path.join(root, 'r2.png'), '--at', '2,3', '--k', '8', '--query-keys', 'code', '--exact', '--exclude-self', '--json']);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(first.json().results[0], run.sources[2 * cols + 3]);
});

test('a sampled rollout is determined by its seed', async () => {
  const { retriever } = open();
  const grid = await retriever.tokenGrid(path.join(root, 'r4.png'));
  const opts = { from: { row: 1, col: 0 }, mode: 'sample' as const, temperature: 3, k: 32, exact: true };
  const one = await runRollout(retriever, grid, { ...opts, seed: 5 });
  const two = await runRollout(retriever, grid, { ...opts, seed: 5 });
  const other = await runRollout(retriever, grid, { ...opts, seed: 6 });
  assert.deepEqual(rolloutJson(one), rolloutJson(two));
  assert.notDeepEqual(Array.from(one.tokens), Array.from(other.tokens));
  const c1 = cli(['rollout', path.join(root, 'r4.png'), '--from', '1,0', '--sample', '--seed', '5', '--temperature', '3', '--k', '32', '--exact', '--json']);
  assert.equal(c1.code, 0, c1.stderr);
  assert.deepEqual(c1.json(), rolloutJson(one));
});

test("rollout --json: the contract fields; --out decodes with the model's decoder, or says there is none", () => {
  const r = cli(['rollout', path.join(root, 'q.png'), '--from', '4,0', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = r.json();
  assert.deepEqual(Object.keys(j), ['image', 'from', 'rows', 'cols', 'tokens', 'original', 'sources', 'agreement', 'topSource', 'longestCopiedRun']);
  assert.deepEqual([j.image, j.from, j.rows, j.cols], ['q.png', { row: 4, col: 0 }, side, side]);
  assert.deepEqual(j.topSource, { image: 'a.png', share: 1 });
  const out = path.join(work, 'rollout.png');
  const none = cli(['rollout', path.join(root, 'q.png'), '--from', '4,0', '--out', out]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--out needs a model with a decoder; painted has none/);
  assert.equal(fs.existsSync(out), false);
  const dec = cli(['rollout', path.join(root, 'q.png'), '--from', '4,0', '--out', out, '--model', decoderModel]);
  assert.equal(dec.code, 0, dec.stderr);
  assert.match(dec.stdout, /greedy rollout from \(4, 0\) .*\n.*24 cells generated; agreement with the original 79\.2%/);
  assert.match(dec.stdout, /top source a\.png \(100% of the generated cells\); longest copied run 24 cells from a\.png/);
  return sharp(out)
    .metadata()
    .then((m) => assert.deepEqual([m.format, m.width, m.height], ['png', PAINTED.size, PAINTED.size]));
});

test('a ring database is refused with one line; usage errors exit 2; --help shows rollout', () => {
  const r = cli(['rollout', path.join(ringRoot, 'q.png'), '--from', '4,0', '--json']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /ring keys need tokens not generated yet/);
  const s = cli(['stats', '--db', path.join(ringRoot, '.patchlens'), '--rollout', '1']);
  assert.equal(s.code, 1);
  assert.match(s.stderr, /ring keys need tokens not generated yet/);
  for (const bad of [
    ['--from', '4'],
    ['--from', '4,0', '--greedy', '--sample'],
    ['--from', '4,0', '--seed', '3'],
    ['--from', '4,0', '--k', '0'],
  ]) {
    assert.equal(cli(['rollout', path.join(root, 'q.png'), ...bad]).code, 2, bad.join(' '));
  }
  assert.match(cli(['rollout', path.join(root, 'q.png'), '--from', '8,0']).stderr, /outside the 8x8 grid/);
  const help = cli(['rollout', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /patchlens rollout <image> --from <row>,<col>/);
});

test("stats --rollout: a seeded sample rolled out from the middle row; the numbers match rollout's", () => {
  const r = cli(['stats', '--db', path.join(root, '.patchlens'), '--rollout', '0.5', '--seed', '3', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = r.json().rollout;
  assert.deepEqual([s.images, s.seed, s.k, s.fromRow], [4, 3, 64, 4]);
  assert.equal(cli(['stats', '--db', path.join(root, '.patchlens'), '--rollout', '0.5', '--seed', '3', '--json']).stdout, r.stdout);
  const top = s.mostCopying[0];
  const one = cli(['rollout', path.join(root, top.image), '--from', '4,0', '--json']).json();
  assert.deepEqual({ image: one.image, agreement: one.agreement, topSource: one.topSource, longestCopiedRun: one.longestCopiedRun }, top);
  assert.ok(Math.abs(s.meanAgreement - s.mostCopying.reduce((x: number, c: { agreement: number }) => x + c.agreement, 0) / s.images) < 1e-12);
});

test('a rollout stops when its signal is aborted', async () => {
  const { retriever } = open();
  const grid = await retriever.tokenGrid(path.join(root, 'r1.png'));
  const c = new AbortController();
  let steps = 0;
  await assert.rejects(
    runRollout(retriever, grid, { from: { row: 1, col: 0 } }, { signal: c.signal, onStep: () => ++steps === 3 && c.abort() }),
    RolloutCancelledError,
  );
  assert.equal(steps, 3);
});

test('the engine worker: steps events while it runs, the per-step distributions, and a cancel sent right after the request', async () => {
  const engine = new EngineClient();
  try {
    const dbDir = path.join(root, '.patchlens');
    const image = path.join(root, 'q.png');
    const steps: number[] = [];
    const r = await engine.request('rollout', { dbDir, image, options: { from: { row: 4, col: 0 } } }, { onSteps: (done) => steps.push(done) });
    assert.deepEqual([r.generated, r.topSource, r.stepStart.length, steps.at(-1)], [24, { image: 'a.png', share: 1 }, 33, 32]);
    assert.equal(r.images[r.sourceImage[4 * side + 1]], 'a.png');
    await assert.rejects(
      engine.request('rollout', { dbDir, image, options: { from: { row: 4, col: 0 } } }, { onStart: (id) => void engine.request('cancel', { buildId: id }) }),
      (e: Error) => e.name === 'RolloutCancelledError',
    );
  } finally {
    await engine.dispose();
  }
});
