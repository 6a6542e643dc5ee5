import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { PatchDatabase } from '../../src/engine/database';
import { PatchRetriever } from '../../src/engine/retrieval';

test("relPath: dataset-relative for files inside, a name starting with '..' included; undefined outside", () => {
  const root = path.join(path.sep, 'data', 'set');
  const r = new PatchRetriever({} as PatchDatabase, root);
  assert.equal(r.relPath(path.join(root, 'a', 'b.png')), 'a/b.png');
  assert.equal(r.relPath('a/b.png'), 'a/b.png');
  assert.equal(r.relPath(path.join(root, '..x.png')), '..x.png');
  assert.equal(r.relPath(path.join(root, '..x', 'y.png')), '..x/y.png');
  assert.equal(r.relPath(path.join(root, '..', 'x.png')), undefined);
  assert.equal(r.relPath(path.join(path.sep, 'data', 'setx', 'a.png')), undefined);
});
