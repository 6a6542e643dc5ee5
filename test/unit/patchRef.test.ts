import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  ambiguity,
  checkPosition,
  formatPatchRef,
  ImageIndex,
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
  // several names begin "c", none is "c": ambiguous; names that begin with it (by name, then list order), then paths (by path), then mere substrings
  const c = matchImages('c', images);
  assert.equal(c.resolved, undefined);
  assert.equal(c.prefixCount, 6);
  assert.deepEqual(c.ordered, [0, 5, 6, 1, 2, 4]);
  const at = matchImages('at', images);
  assert.equal(at.prefixCount, 0);
  assert.deepEqual(at.ordered, [4, 0], 'substrings of the path, when no name begins with the text');
  assert.equal(matchImages('zebra', images).ordered.length, 0);
  assert.equal(matchImages('', images).ordered.length, images.length);
  assert.equal(ambiguity('c', ['a.jpg', 'b.jpg', 'c.jpg'], 2), '“c” matches 3 images: a.jpg, b.jpg, and 1 more');
  assert.equal(ambiguity('c', ['a.jpg', 'b.jpg'], 5, 400_000, true), '“c” matches at least 400000 images: a.jpg, b.jpg, and 399998 more');
});

test('ImageIndex: the same answers as a scan of every image, and at most the limit asked for, over archive member ids', () => {
  // 200,000 WebDataset member ids in 20 shards and a few plain files
  const images: string[] = [];
  for (let s = 0; s < 20; s++) for (let m = 0; m < 10_000; m++) images.push(`shards/${String(s).padStart(5, '0')}.tar/${String(m).padStart(9, '0')}.jpg`);
  images.push('cat.png', 'photos/Cat.PNG', 'photos/cathedral.jpg', 'shards/readme.jpg');
  const index = new ImageIndex(images);
  assert.equal(index.size, images.length);
  // reference: what a scan of every image answers
  const scan = (typed: string) => {
    const t = typed.toLowerCase();
    const hits = images.map((p, i) => ({ p: p.toLowerCase(), i })).filter(({ p }) => p.startsWith(t) || p.slice(p.lastIndexOf('/') + 1).startsWith(t));
    return hits.length;
  };
  for (const typed of ['shards/00003.tar/00000001', 'shards/00003.tar/', 'shards/', 'cat', 'photos/c', '000000007', 'zebra']) {
    const m = index.match(typed, 200);
    assert.ok(m.ordered.length <= 200, typed);
    assert.equal(m.prefixCount, scan(typed), typed);
    assert.equal(new Set(m.ordered).size, m.ordered.length, `${typed}: no image twice`);
  }
  // a member id resolves to itself; a name begun in 20 shards is ambiguous
  const seven = images.indexOf('shards/00000.tar/000000007.jpg');
  assert.equal(index.match('shards/00000.tar/000000007.jpg').resolved, seven);
  assert.equal(index.match('SHARDS/00000.TAR/000000007').resolved, seven);
  const named = index.match('000000007.jpg', 200);
  assert.equal(named.resolved, undefined);
  assert.equal(named.prefixCount, 20);
  assert.deepEqual(
    named.ordered.map((i) => images[i]),
    Array.from({ length: 20 }, (_, s) => `shards/${String(s).padStart(5, '0')}.tar/000000007.jpg`),
  );
  // "cat" names two images (cat.png and photos/Cat.PNG, case aside): ambiguous; "cath" begins one name
  assert.equal(index.match('cat').resolved, undefined);
  assert.equal(index.match('cath').resolved, images.indexOf('photos/cathedral.jpg'));
  // a substring of a path, when nothing begins with it
  assert.deepEqual(
    index.match('hedral', 200).ordered.map((i) => images[i]),
    ['photos/cathedral.jpg'],
  );
});

test('ImageIndex.build sorts a long list in a worker thread with the same answers as the constructor', async () => {
  const images: string[] = [];
  for (let i = 0; i < 60_000; i++) images.push(`Shard-${String(i % 13).padStart(3, '0')}/${String((i * 7919) % 60_013).padStart(6, '0')}.JPG`);
  images.push('cat.png', 'photos\\\\Cat.PNG');
  const built = await ImageIndex.build(images);
  const direct = new ImageIndex(images);
  for (const typed of ['shard-004/0001', '000123', 'cat', 'photos/c', '', 'zebra']) assert.deepEqual(built.match(typed, 50), direct.match(typed, 50), typed);
});
