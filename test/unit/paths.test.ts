import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { datasetPathProblem, isInside } from '../../src/core/paths';
import { resolveDatasetPath } from '../../src/extension/inspector/datasetPaths';
import { isSafeRelativePath } from '../../src/extension/sidePanel/codebookMessages';

test("isInside: '..x' is a name, '..' an escape", () => {
  assert.equal(isInside('/d', '/d/..x.png'), true);
  assert.equal(isInside('/d', '/d'), true);
  assert.equal(isInside('/d', '/d/../x.png'), false);
  assert.equal(isInside('/d', '/dx/a.png'), false);
});

test('dataset paths: the inspector and the codebook view refuse the same paths for the same reason', () => {
  const good = ['a.png', 'a/b.png', '<script>.png', 'ü/ß.jpg', '..a.png', 'a/..b/c.png'];
  const bad = [
    '',
    '/a.png',
    'a/../b.png',
    './a.png',
    'a//b.png',
    'a/',
    'a\\b.png',
    'C:/x.png',
    'C:\\x.png',
    'a\0.png',
    '.',
    'a/..',
    '../x.png',
    'x'.repeat(5000),
  ];
  for (const p of good) {
    assert.equal(datasetPathProblem(p), undefined, p);
    assert.equal(isSafeRelativePath(p), true, p);
    assert.equal(resolveDatasetPath('/data/set', p).ok, true, p);
  }
  for (const p of bad) {
    const problem = datasetPathProblem(p);
    assert.ok(problem, p);
    assert.equal(isSafeRelativePath(p), false, p);
    const r = resolveDatasetPath('/data/set', p);
    assert.deepEqual(r, { ok: false, reason: problem }, p);
  }
  assert.equal(isSafeRelativePath(5), false);
});
