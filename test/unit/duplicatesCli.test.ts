// `patchlens duplicates` on real photos with known copies (a byte-identical
// copy, re-encoded JPEGs, resizes, a pasted region), encoded by the bundled
// tokenizer: recall of the known pairs, false pairs among the top ones, the
// pasted region's cells, and --against across two databases.

import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseModelManifest } from '../../src/core/modelManifest';
import { bundledModelPath } from '../../src/engine/locations';
import { tempDir } from '../support/fixtures';
import { samplePhotos, SAMPLE_DIR, writeKnownCopies, type KnownCopies } from '../support/knownCopies';

const repo = path.resolve(__dirname, '..', '..');
const work = tempDir('patchlens-dups-');
const root = path.join(work, 'data');
const trainDir = path.join(root, 'train');
const testDir = path.join(root, 'test');
let known: KnownCopies;

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [path.join(repo, 'bin', 'patchlens.js'), ...args], {
    cwd: work,
    encoding: 'utf8',
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

interface Pair {
  a: string;
  b: string;
  score: number;
  sharedCells: number;
  cells: { a: [number, number]; b: [number, number] }[];
  identical: boolean;
}

const key = (a: string, b: string) => [a, b].sort().join(' | ');

before(async () => {
  const b = spawnSync(process.execPath, [path.join(repo, 'scripts', 'build.mjs'), '--only=cli,encodeWorker'], { cwd: repo, encoding: 'utf8' });
  assert.equal(b.status, 0, b.stderr);
  const manifest = parseModelManifest(JSON.parse(fs.readFileSync(bundledModelPath(), 'utf8')), bundledModelPath(), path);
  // the training set: 8 photos; the test set: copies of 6 of them and a photo of its own
  known = await writeKnownCopies(trainDir, testDir, manifest.input, 16, 8);
  for (const p of samplePhotos().slice(20, 21)) fs.copyFileSync(path.join(SAMPLE_DIR, p), path.join(testDir, p));
  for (const [dir, db] of [
    [trainDir, path.join(work, 'train.db')],
    [testDir, path.join(work, 'test.db')],
  ]) {
    const r = cli(['index', dir, '--db', db, '--quiet', '--json']);
    assert.equal(r.code, 0, r.stderr);
  }
  // the two sets as one dataset, for finding copies within a dataset
  const r = cli(['index', root, '--quiet', '--json']);
  assert.equal(r.code, 0, r.stderr);
});

function checkContract(pairs: Pair[]) {
  for (const p of pairs) {
    assert.deepEqual(Object.keys(p), ['a', 'b', 'score', 'sharedCells', 'cells', 'identical']);
    assert.equal(p.cells.length, p.sharedCells);
    assert.equal(p.score, p.sharedCells / 256, 'the fraction of the smaller image (16x16) that is shared');
    assert.deepEqual(Object.keys(p.cells[0]), ['a', 'b']);
  }
  assert.ok(
    pairs.every((p, i) => i === 0 || pairs[i - 1].score >= p.score),
    'sorted by score, descending',
  );
}

test('duplicates --json within one dataset: every known copy found, no false pair among the top ones, the pasted region cell by cell', (t) => {
  const r = cli(['duplicates', '--db', root, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = r.json();
  assert.deepEqual(Object.keys(j), ['pairs']);
  const pairs: Pair[] = j.pairs;
  checkContract(pairs);
  const rel = (p: string) => p.replace(/^(train|test)\//, '');
  const truth = new Set(known.pairs.map((p) => key(p.a, p.b)));
  const found = pairs.map((p) => key(rel(p.a), rel(p.b)));
  const recall = known.pairs.filter((p) => found.includes(key(p.a, p.b))).length / known.pairs.length;
  const top = found.slice(0, known.pairs.length);
  const falseTop = top.filter((k) => !truth.has(k)).length;
  const falseAll = found.filter((k) => !truth.has(k)).length;
  t.diagnostic(
    `recall ${recall} of ${known.pairs.length} known pairs; false pairs: ${falseTop} in the top ${known.pairs.length}, ${falseAll} of ${pairs.length} reported`,
  );
  for (const p of pairs) t.diagnostic(`${p.score.toFixed(3)} ${p.sharedCells} ${p.a} ${p.b}${p.identical ? ' identical' : ''}`);
  // Measured: every copy and the pasted region's source; not the photo the region was pasted
  // onto (the tokenizer's context reaches across the paste's edge, so few of its 3x3 windows
  // survive: see --near below); no false pair at all.
  assert.ok(recall >= 6 / 7, `recall ${recall}`);
  assert.equal(falseTop, 0);
  assert.equal(falseAll, 0);

  const byKind = (kind: string) => known.pairs.filter((p) => p.kind === kind).map((p) => pairs.find((q) => key(rel(q.a), rel(q.b)) === key(p.a, p.b))!);
  const [exact] = byKind('exact');
  assert.deepEqual([exact.identical, exact.score, exact.sharedCells], [true, 1, 256]);
  for (const p of [...byKind('reencoded'), ...byKind('resized')]) {
    assert.equal(p.identical, false);
    assert.ok(p.score >= 0.3, `${p.b}: a re-encoded or resized copy shares most cells (${p.score})`);
    assert.ok(p.cells.filter((c) => c.a[0] === c.b[0] && c.a[1] === c.b[1]).length >= 0.95 * p.sharedCells, 'at the same cells');
  }
  const [pasted] = byKind('pasted');
  const { from, to, size } = known.pasted;
  const src = rel(pasted.a) === known.pasted.source ? 'a' : 'b';
  const dst = src === 'a' ? 'b' : 'a';
  const inRegion = (c: [number, number], at: readonly [number, number]) => c[0] >= at[0] && c[0] < at[0] + size && c[1] >= at[1] && c[1] < at[1] + size;
  assert.ok(
    pasted.cells.every((c) => inRegion(c[src], from) && inRegion(c[dst], to)),
    'only the pasted region is shared',
  );
  assert.ok(
    pasted.cells.every((c) => c[dst][0] - c[src][0] === to[0] - from[0] && c[dst][1] - c[src][1] === to[1] - from[1]),
    'moved by the paste offset',
  );
  assert.ok(pasted.sharedCells >= 18, `a good part of the region (${pasted.sharedCells} of ${size * size}; measured 24)`);
});

test("duplicates --against: the test set's leaks into the training set, never two images of one set", (t) => {
  const r = cli(['duplicates', '--db', path.join(work, 'test.db'), '--against', path.join(work, 'train.db'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const pairs: Pair[] = r.json().pairs;
  checkContract(pairs);
  const copies = new Set(known.copies);
  assert.ok(
    pairs.every((p) => copies.has(p.a) || !known.originals.includes(p.a)),
    'a is from the test set',
  );
  assert.ok(
    pairs.every((p) => known.originals.includes(p.b)),
    'b is from the training set',
  );
  const found = new Set(pairs.map((p) => key(p.a, p.b)));
  const hits = known.pairs.filter((p) => found.has(key(p.a, p.b))).length;
  t.diagnostic(`${hits} of ${known.pairs.length} leaks found, ${pairs.length - hits} other pairs`);
  assert.ok(hits >= known.pairs.length - 1, 'all but the photo under the paste (as within one dataset)');
  assert.equal(pairs.length, hits, "the test set's own photos leak nowhere");
  const text = cli(['duplicates', '--db', path.join(work, 'test.db'), '--against', path.join(work, 'train.db'), '--limit', '2']);
  assert.equal(text.code, 0);
  assert.equal(text.stdout.trim().split('\n').length, 2);
  assert.match(text.stdout, /copy-exact\.jpg {2}<- leaks -> {2}\S+\.jpg {2}\(identical files\)/);
  assert.match(text.stderr, /^15 images, [\d,]+ windows/);
});

test('duplicates --near adds entries whose keys are close: every leak found, more of their cells', (t) => {
  const exact: Pair[] = cli(['duplicates', '--db', path.join(work, 'test.db'), '--against', path.join(work, 'train.db'), '--json']).json().pairs;
  const r = cli(['duplicates', '--db', path.join(work, 'test.db'), '--against', path.join(work, 'train.db'), '--near', '0.05', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const near: Pair[] = r.json().pairs;
  for (const p of exact) {
    const q = near.find((x) => x.a === p.a && x.b === p.b);
    assert.ok(q && q.sharedCells >= p.sharedCells, `${p.a}: ${q?.sharedCells} >= ${p.sharedCells}`);
  }
  assert.ok(near.reduce((s, p) => s + p.sharedCells, 0) > exact.reduce((s, p) => s + p.sharedCells, 0));
  const top = near.slice(0, known.pairs.length).map((p) => key(p.a, p.b));
  const truth = known.pairs.map((p) => key(p.a, p.b));
  t.diagnostic(`near 0.05: ${top.filter((k) => truth.includes(k)).length} of the top ${known.pairs.length} are known leaks; ${near.length} pairs`);
  assert.deepEqual(top.sort(), truth.sort(), 'the top pairs are exactly the known leaks (measured at EPS 0.05 and 0.1)');
});

test('duplicates: --help, bad options and missing databases give one clear line', () => {
  const help = cli(['duplicates', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: patchlens duplicates \[--db D\] \[--against D2\] \[--window 3\] \[--min-shared N\]/);
  const w = cli(['duplicates', '--db', root, '--window', '0']);
  assert.equal(w.code, 2);
  assert.match(w.stderr, /--window must be an integer from 1 to 64/);
  const big = cli(['duplicates', '--db', root, '--window', '17']);
  assert.equal(big.code, 1);
  assert.match(big.stderr, /^patchlens: the window must be an integer from 1 to 16 for a 16x16 grid, got 17\n$/);
  const none = cli(['duplicates', '--db', root, '--against', path.join(work, 'nothing-here')]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^patchlens: --against .*nothing-here is neither a patch database nor a dataset folder with one/);
  const same = cli(['duplicates', '--db', root, '--against', path.join(root, '.patchlens')]);
  assert.equal(same.code, 2);
  assert.match(same.stderr, /--against names the same database as --db/);
});
