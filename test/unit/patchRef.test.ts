import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { checkPosition, formatPatchRef, parsePatchRef, parseTokenId } from '../../src/extension/commands/patchRef';

test('parsePatchRef: image:row,col and its variants', () => {
  assert.deepEqual(parsePatchRef('photos/cat.png:12,7'), { image: 'photos/cat.png', row: 12, col: 7 });
  assert.deepEqual(parsePatchRef('  cat.png : 3 , 4 '), { image: 'cat.png', row: 3, col: 4 });
  assert.deepEqual(parsePatchRef('cat.png:3:4'), { image: 'cat.png', row: 3, col: 4 });
  assert.deepEqual(parsePatchRef('cat.png (3, 4)'), { image: 'cat.png', row: 3, col: 4 });
  assert.deepEqual(parsePatchRef('a:1,2.png:3,4'), { image: 'a:1,2.png', row: 3, col: 4 });
  assert.deepEqual(parsePatchRef('C:\\data\\cat.png:0,0'), { image: 'C:\\data\\cat.png', row: 0, col: 0 });
  assert.deepEqual(parsePatchRef('cat.png'), { image: 'cat.png' });
  assert.deepEqual(parsePatchRef('C:\\cat.png'), { image: 'C:\\cat.png' });
  assert.equal(formatPatchRef('a/b.png', 1, 2), 'a/b.png:1,2');
});

test('parsePatchRef: incomplete or empty input explains the format', () => {
  for (const t of ['', '   ', 'cat.png:', 'cat.png:3', 'cat.png:3,', ':3,4']) assert.ok('error' in parsePatchRef(t), t);
});

test('checkPosition against the grid', () => {
  assert.equal(checkPosition({ image: 'a', row: 23, col: 23 }, 24, 24), undefined);
  assert.match(checkPosition({ image: 'a', row: 24, col: 0 }, 24, 24)!, /outside the 24×24 grid/);
  assert.equal(checkPosition({ image: 'a' }, 24, 24), undefined);
});

test('parseTokenId', () => {
  assert.equal(parseTokenId(' 42 '), 42);
  assert.equal(parseTokenId('#7', 16), 7);
  assert.ok(typeof parseTokenId('16', 16) === 'object');
  assert.ok(typeof parseTokenId('-1') === 'object');
  assert.ok(typeof parseTokenId('1e3') === 'object');
  assert.ok(typeof parseTokenId('') === 'object');
});
