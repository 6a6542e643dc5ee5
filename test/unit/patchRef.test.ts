import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  ambiguity,
  checkPosition,
  formatPatchRef,
  matchImages,
  parseBarePosition,
  parsePatchRef,
  parseTokenId,
  typedImage,
} from '../../src/extension/commands/patchRef';

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

test('typedImage follows the image while the position is half typed', () => {
  assert.equal(typedImage('chelsea.jpg:'), 'chelsea.jpg');
  assert.equal(typedImage('chelsea.jpg:3'), 'chelsea.jpg');
  assert.equal(typedImage('chelsea:3,4'), 'chelsea');
  assert.equal(typedImage('chel'), 'chel');
  assert.equal(typedImage('C:\\data\\cat.png'), 'C:\\data\\cat.png');
  assert.deepEqual(parseBarePosition('3,4'), { row: 3, col: 4 });
  assert.deepEqual(parseBarePosition(' :3, 4'), { row: 3, col: 4 });
  assert.deepEqual(parseBarePosition('(3, 4)'), { row: 3, col: 4 });
  assert.equal(parseBarePosition('cat.png:3,4'), undefined);
});

test('matchImages: exact path, then exact name, then a unique prefix; several prefixes are ambiguous', () => {
  const images = [
    'photos/chelsea-the-cat.jpg',
    'photos/coffee.jpg',
    'more/coffee.jpg',
    'astronaut.png',
    'cat/astro.png',
    'a/chelsea.png',
    'a/chelsea.png.bak.png',
  ];
  // a unique prefix of a name
  assert.equal(matchImages('chelsea-t', images).resolved, 0);
  assert.equal(matchImages('CHELSEA-THE', images).resolved, 0, 'case does not matter');
  // an exact name (with or without its extension) wins over longer names it begins
  assert.equal(matchImages('chelsea', images).resolved, 5);
  assert.equal(matchImages('astro', images).resolved, 4);
  // the same name in two folders: ambiguous unless the path is given
  const coffee = matchImages('coffee.jpg', images);
  assert.equal(coffee.resolved, undefined);
  assert.deepEqual([...coffee.ordered].sort(), [1, 2]);
  assert.equal(matchImages('more/coffee.jpg', images).resolved, 2);
  // several names begin "c", none is "c": ambiguous, prefixes before mere substrings
  const c = matchImages('c', images);
  assert.equal(c.resolved, undefined);
  assert.equal(c.prefixCount, 6);
  assert.deepEqual(c.ordered, [0, 1, 2, 4, 5, 6]);
  const at = matchImages('at', images);
  assert.equal(at.prefixCount, 0);
  assert.deepEqual(at.ordered, [0, 4], 'substrings of the path, when no name begins with the text');
  assert.equal(matchImages('zebra', images).ordered.length, 0);
  assert.equal(matchImages('', images).ordered.length, images.length);
  assert.equal(ambiguity('c', ['a.jpg', 'b.jpg', 'c.jpg'], 2), '“c” matches 3 images: a.jpg, b.jpg, and 1 more');
});
