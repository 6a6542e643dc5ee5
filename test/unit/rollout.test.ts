import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Rollout, RolloutError, checkRolloutKeys, summarizeRollout, type RolloutHit, type RolloutPlan } from '../../src/core/rollout';
import { seededRng } from '../../src/core/rng';

// A 1-d codebook: code t is the vector [t]. Causal h = 1 keys are then the
// four earlier neighbours' token ids, which makes every key readable.
const codebook = Float32Array.from({ length: 10 }, (_, t) => t);
const plan = (over: Partial<RolloutPlan> = {}): RolloutPlan => ({
  rows: 3,
  cols: 4,
  dim: 1,
  keys: { shape: 'causal', hops: 1, border: 'zero' },
  codebook,
  original: Int32Array.from({ length: 12 }, (_, i) => i % 10),
  from: { row: 1, col: 0 },
  mode: 'greedy',
  temperature: 1,
  ...over,
});
const hit = (token: number, distance: number, image = 'a.png', row = 0, col = 0): RolloutHit => ({ token, distance, image, row, col });

test('greedy: the prompt stays, every later cell takes the nearest hit; keys come from the tokens already placed', () => {
  const keys: number[][] = [];
  const r = new Rollout(plan());
  // the "database" answers token = 1 + the left neighbour's token
  const search = (key: Float32Array, row: number, col: number) => {
    keys.push(Array.from(key));
    return [hit(9, 5, 'far.png'), hit(key[3] + 1, 0.5, 'near.png', row, col), hit(0, 0.7)];
  };
  const steps = [];
  for (let s = r.step(search); s; s = r.step(search)) steps.push(s);
  assert.equal(steps.length, 8);
  assert.deepEqual(Array.from(r.tokens), [0, 1, 2, 3, 1, 2, 3, 4, 1, 2, 3, 4]);
  // the key of (1, 1): (0,0) (0,1) (0,2) and the generated (1,0) = 1
  assert.deepEqual(keys[1], [0, 1, 2, 1]);
  // (1, 0) is at the left border: zero vectors for off-grid neighbours
  assert.deepEqual(keys[0], [0, 0, 1, 0]);
  assert.deepEqual(steps.map((s) => [s.index, s.row, s.col]).slice(0, 3), [
    [0, 1, 0],
    [1, 1, 1],
    [2, 1, 2],
  ]);
  assert.ok(steps.every((s) => s.source?.image === 'near.png' && s.keyed && s.candidates.length === 3));
  assert.equal(steps[0].distribution[0].token, 1);
  assert.equal(r.finished, true);
  assert.equal(r.step(search), undefined);
});

test('border skip: cells without a key keep their token and have no source', () => {
  const r = new Rollout(plan({ keys: { shape: 'causal', hops: 1, border: 'skip' }, from: { row: 1, col: 0 } }));
  const calls: string[] = [];
  const steps = [];
  for (let s = r.step((_k, row, col) => (calls.push(`${row},${col}`), [hit(7, 1)])); s; s = r.step(() => (calls.push('x'), [hit(7, 1)]))) steps.push(s);
  // causal h=1 skip: entries at rows 1..2, columns 1..2
  assert.deepEqual(
    steps.filter((s) => s.keyed).map((s) => `${s.row},${s.col}`),
    ['1,1', '1,2', '2,1', '2,2'],
  );
  assert.deepEqual(Array.from(r.tokens), [0, 1, 2, 3, 4, 7, 7, 7, 8, 7, 7, 1]);
  assert.equal(calls.length, 4, 'no search for keyless cells');
  const unkeyed = steps.filter((s) => !s.keyed);
  assert.ok(unkeyed.every((s) => s.source === null && s.token === s.original && s.candidates.length === 0));
});

test('nothing retrieved: the cell keeps its token, unmarked as generated', () => {
  const r = new Rollout(plan({ from: { row: 2, col: 3 } }));
  const s = r.step(() => [])!;
  assert.deepEqual([s.token, s.source, s.keyed], [1, null, true]);
});

test('sample: draws from softmax(-d / T) with the seeded generator; the same seed gives the same rollout', () => {
  const search = () => [hit(1, 0, 'one.png'), hit(2, 0, 'two.png'), hit(2, 0.1, 'two-far.png'), hit(3, 50, 'three.png')];
  const run = (seed: number) => {
    const r = new Rollout(plan({ rows: 40, cols: 40, original: new Int32Array(1600), from: { row: 0, col: 0 }, mode: 'sample', rng: seededRng(seed) }));
    while (r.step(search));
    return r;
  };
  const a = run(7);
  assert.deepEqual(Array.from(a.tokens), Array.from(run(7).tokens));
  assert.notDeepEqual(Array.from(a.tokens), Array.from(run(8).tokens));
  const ones = a.tokens.filter((t) => t === 1).length;
  // tokens 1 and 2 at distance 0 share the mass; token 3 (e^-50) practically never
  assert.ok(ones > 700 && ones < 900, `${ones} of 1600 are token 1`);
  assert.equal(a.tokens.filter((t) => t === 3).length, 0);
  // a sampled token's source is its nearest hit
  assert.ok(a.sources.every((s) => s && (s.token === 1 ? s.image === 'one.png' : s.image === 'two.png')));
  assert.throws(() => new Rollout(plan({ mode: 'sample' })), /seeded random generator/);
});

test('ring keys are refused: they need tokens not generated yet', () => {
  assert.throws(
    () => checkRolloutKeys({ shape: 'ring' }),
    (e: Error) => e instanceof RolloutError && /ring keys need tokens not generated yet/.test(e.message),
  );
  assert.throws(() => new Rollout(plan({ keys: { shape: 'ring', hops: 1, border: 'zero' } })), RolloutError);
  assert.throws(() => new Rollout(plan({ from: { row: 3, col: 0 } })), RangeError);
  assert.throws(() => new Rollout(plan({ temperature: 0 })), RangeError);
});

test('copy indicators: agreement, top source share, longest run at one displacement (across a row end)', () => {
  const cols = 4;
  const original = Int32Array.from([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
  const tokens = Int32Array.from([0, 0, 0, 0, 1, 5, 1, 1, 2, 2, 5, 2]);
  const src: (RolloutHit | null)[] = new Array(12).fill(null);
  // cells 5..10 (1,1)..(2,2) come from b.png at a displacement of (+3, +0): a copied region across the row end
  for (let cell = 5; cell <= 9; cell++) src[cell] = hit(tokens[cell], 0, 'b.png', Math.floor(cell / cols) + 3, cell % cols);
  src[4] = hit(1, 0, 'a.png', 0, 0);
  src[10] = hit(5, 0, 'b.png', 9, 9); // same image, another place: the run ends
  src[11] = null; // kept
  const s = summarizeRollout(original, tokens, src, 4, cols);
  assert.equal(s.generated, 7);
  assert.equal(s.agreement, 5 / 7);
  assert.deepEqual(s.topSource, { image: 'b.png', share: 6 / 7 });
  assert.deepEqual(s.longestCopiedRun, { image: 'b.png', cells: 5 });
  assert.deepEqual(s.sourceCounts, [
    { image: 'b.png', cells: 6 },
    { image: 'a.png', cells: 1 },
  ]);
  const none = summarizeRollout(original, original, new Array(12).fill(null), 4, cols);
  assert.deepEqual([none.agreement, none.topSource, none.longestCopiedRun], [0, { image: null, share: 0 }, { image: null, cells: 0 }]);
});
