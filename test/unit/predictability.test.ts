// Retrieval predictability as the Index view runs it through the engine worker:
// progress in queries, and a cancel that stops it between queries.

import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import { PatchDatabase } from '../../src/engine/database';
import { PredictabilityCancelledError, retrievalPredictability } from '../../src/engine/stats';
import { tempDir } from '../support/fixtures';
import { sampleDatabase } from '../support/sampleDatabase';

const work = tempDir('patchlens-predictability-');
let db: PatchDatabase;

before(() => {
  db = PatchDatabase.open(sampleDatabase(work, 6))!;
});

test('progress counts the queries up to the number answered; the figures are those of a run without progress', async () => {
  const seen: [number, number][] = [];
  const opts = { fraction: 0.5, seed: 2, maxQueries: 60 };
  const r = await retrievalPredictability(db, { ...opts, onProgress: (done, total) => seen.push([done, total]) });
  const plain = await retrievalPredictability(db, opts);
  assert.deepEqual(r, plain);
  assert.ok(seen.length > 1);
  const total = seen[0][1];
  assert.ok(
    seen.every(([, t]) => t === total),
    'one planned total',
  );
  assert.deepEqual(seen.at(-1), [r.queries, total]);
  assert.equal(r.queries, total);
  assert.ok(
    seen.every(([d], i) => i === 0 || d >= seen[i - 1][0]),
    'done never goes back',
  );
});

test('an abort stops it between queries with PredictabilityCancelledError', async () => {
  const controller = new AbortController();
  let last = 0;
  await assert.rejects(
    retrievalPredictability(db, {
      fraction: 0.5,
      maxQueries: 60,
      signal: controller.signal,
      onProgress: (done) => {
        last = done;
        if (done === 5) controller.abort();
      },
    }),
    PredictabilityCancelledError,
  );
  assert.equal(last, 5, 'no query after the abort');
});
