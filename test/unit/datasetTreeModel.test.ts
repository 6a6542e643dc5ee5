import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { plural } from '../../src/core/format';
import {
  ARCHIVE_PAGE,
  emptyCounts,
  archiveDescription,
  classifyImages,
  classifyMember,
  countStatuses,
  datasetDescription,
  folderDescription,
  folderTree,
  formatAgo,
  imageDescription,
  imageTooltip,
  oneLine,
  showMoreLabel,
  splitByArchive,
  statusIcon,
} from '../../src/extension/sidePanel/datasetTreeModel';

const disk = (rel: string, bytes = 100, mtimeMs = 1000) => ({ rel, bytes, mtimeMs });
const idx = (p: string, bytes = 100, mtimeMs = 1000) => ({ path: p, width: 640, height: 480, bytes, mtimeMs });

test('classifyImages: indexed, changed, new, failed and deleted images', () => {
  const entries = classifyImages(
    [disk('a.png'), disk('b.png', 101), disk('c.png'), disk('d.png'), disk('e.png', 100, 2000.7)],
    [idx('a.png'), idx('b.png'), idx('gone.png'), idx('e.png', 100, 2000.2)],
    [{ path: 'd.png', error: 'not a readable image' }],
  );
  assert.deepEqual(
    entries.map((e) => [e.rel, e.status]),
    [
      ['a.png', 'indexed'],
      ['b.png', 'changed'],
      ['c.png', 'new'],
      ['d.png', 'failed'],
      ['e.png', 'indexed'], // whole milliseconds, as the indexer compares them
      ['gone.png', 'missing'],
    ],
  );
  assert.equal(entries.find((e) => e.rel === 'd.png')!.error, 'not a readable image');
  assert.equal(entries[0].width, 640);
  assert.deepEqual(countStatuses(entries), { indexed: 2, changed: 1, new: 1, failed: 1, missing: 1 });
});

test('classifyImages: a database built from another copy of the dataset: other file times, same sizes, are indexed', () => {
  const disk2 = [disk('a.png', 100, 9_999_999), disk('b.png', 101, 9_999_999)];
  const indexed = [idx('a.png', 100, 1000), idx('b.png', 100, 1000)];
  assert.deepEqual(
    classifyImages(disk2, indexed, [], true).map((e) => [e.rel, e.status]),
    [
      ['a.png', 'indexed'],
      ['b.png', 'changed'],
    ],
  );
  assert.deepEqual(
    classifyImages(disk2, indexed, []).map((e) => e.status),
    ['changed', 'changed'],
    'a database of its own compares times too',
  );
});

test('classifyImages: without a disk listing the database is shown as it is', () => {
  const entries = classifyImages(
    undefined,
    [idx('b.png'), idx('a.png')],
    [
      { path: 'x.png', error: 'boom' },
      { path: 'a.png', error: 'old' },
    ],
  );
  assert.deepEqual(
    entries.map((e) => [e.rel, e.status]),
    [
      ['a.png', 'indexed'],
      ['b.png', 'indexed'],
      ['x.png', 'failed'],
    ],
  );
});

test('classifyImages: no database: every image on disk is new', () => {
  const entries = classifyImages([disk('z.png'), disk('a/b.png')], [], []);
  assert.deepEqual(
    entries.map((e) => [e.rel, e.status]),
    [
      ['a/b.png', 'new'],
      ['z.png', 'new'],
    ],
  );
});

test('folderTree groups by folder, folders first, and counts statuses into every ancestor', () => {
  const entries = classifyImages([disk('x.png'), disk('a/b/c.png'), disk('a/d.png'), disk('a/b/e.png', 5)], [idx('a/b/e.png'), idx('x.png')], []);
  const root = folderTree(entries);
  assert.deepEqual(
    root.folders.map((f) => f.name),
    ['a'],
  );
  assert.deepEqual(
    root.images.map((i) => i.rel),
    ['x.png'],
  );
  const a = root.folders[0];
  assert.equal(a.rel, 'a');
  assert.deepEqual(
    a.folders.map((f) => f.rel),
    ['a/b'],
  );
  assert.deepEqual(
    a.images.map((i) => i.rel),
    ['a/d.png'],
  );
  assert.deepEqual(
    a.folders[0].images.map((i) => i.rel),
    ['a/b/c.png', 'a/b/e.png'],
  );
  assert.deepEqual(root.counts, { indexed: 1, changed: 1, new: 2, failed: 0, missing: 0 });
  assert.deepEqual(a.counts, { indexed: 0, changed: 1, new: 2, failed: 0, missing: 0 });
  assert.deepEqual(a.folders[0].counts, { indexed: 0, changed: 1, new: 1, failed: 0, missing: 0 });
  assert.equal(folderDescription(a.counts), '3 images · 1 changed · 2 not indexed');
});

test('folderTree keeps hostile names as data', () => {
  const name = '<img src=x onerror=alert(1)>.png';
  const root = folderTree(classifyImages([disk(`dir/${name}`)], [], []));
  assert.equal(root.folders[0].images[0].rel, `dir/${name}`);
});

test('image descriptions and tooltips say the status, with the grid size when indexed', () => {
  const grid = { rows: 24, cols: 24 };
  assert.equal(imageDescription({ rel: 'a.png', status: 'indexed', width: 640, height: 480 }, grid), '24×24 tokens · 640×480');
  assert.equal(imageDescription({ rel: 'a.png', status: 'changed' }, grid), 'changed since indexing');
  assert.equal(imageDescription({ rel: 'a.png', status: 'new' }), 'not indexed');
  assert.equal(imageDescription({ rel: 'a.png', status: 'failed', error: 'bad\nheader' }), 'failed: bad header');
  assert.equal(imageDescription({ rel: 'a.png', status: 'missing' }), 'deleted · still in the database');
  assert.match(imageTooltip({ rel: 'p/a.png', status: 'failed', error: 'truncated file' }), /^p\/a\.png\nCould not be indexed: truncated file/);
  assert.match(imageTooltip({ rel: 'a.png', status: 'indexed', width: 10, height: 20 }, grid), /24×24 token grid from 10×20 px/);
  for (const s of ['indexed', 'changed', 'new', 'failed', 'missing'] as const) assert.ok(statusIcon(s).id);
});

test('dataset descriptions', () => {
  const counts = { indexed: 5, changed: 1, new: 2, failed: 1, missing: 0 };
  assert.equal(
    datasetDescription({ built: true, images: 6, grid: { rows: 8, cols: 8 }, counts }),
    '6 images · 8×8 tokens · 1 changed · 2 not indexed · 1 failed',
  );
  assert.equal(datasetDescription({ built: false, counts: { indexed: 0, changed: 0, new: 9, failed: 0, missing: 0 } }), 'no database · 9 images');
  assert.equal(datasetDescription({ built: true, images: 1, building: { phase: 'encode', done: 3, total: 10 } }), 'building 3/10 · 1 image');
  assert.equal(datasetDescription({ building: { phase: 'scan', done: 0, total: 1 } }), 'building (scan)');
  assert.match(datasetDescription({ error: 'checksum mismatch' }), /^database unreadable: checksum mismatch/);
});

test('formatting helpers', () => {
  const now = Date.parse('2026-01-10T12:00:00Z');
  assert.equal(formatAgo('2026-01-10T11:59:50Z', now), 'just now');
  assert.equal(formatAgo('2026-01-10T11:55:00Z', now), '5 min ago');
  assert.equal(formatAgo('2026-01-10T09:00:00Z', now), '3 h ago');
  assert.equal(formatAgo('2026-01-08T12:00:00Z', now), '2 days ago');
  assert.equal(formatAgo('2025-01-08T12:00:00Z', now), '2025-01-08');
  assert.equal(formatAgo('garbage', now), 'unknown');
  assert.equal(oneLine('a\n  b', 10), 'a b');
  assert.equal(plural(2, 'patch'), 'patches');
  assert.equal(plural(1, 'patch'), 'patch');
  assert.equal(plural(3, 'image'), 'images');
  assert.equal(oneLine('x'.repeat(20), 10), `${'x'.repeat(9)}…`);
});

test("archives are folders: their members leave the files' list, counts reach every ancestor, members classify against the database", () => {
  const archives = [disk('shards/00000.tar', 5000, 7000), disk('broken.zip', 10)];
  const split = splitByArchive(
    archives,
    [idx('a.png'), idx('shards/00000.tar/x.jpg', 300, 7000), idx('shards/00000.tar/y.jpg', 300, 6000)],
    [
      { path: 'shards/00000.tar/bad.jpg', error: 'not a readable image' },
      { path: 'broken.zip', error: 'not a readable zip archive' },
      { path: 'c.png', error: 'too big' },
    ],
  );
  assert.deepEqual(
    split.indexed.map((i) => i.path),
    ['a.png'],
  );
  assert.deepEqual(
    split.failed.map((f) => f.path),
    ['c.png'],
  );
  const [tar, zip] = split.archives;
  assert.deepEqual([...tar.indexed.keys()], ['shards/00000.tar/x.jpg', 'shards/00000.tar/y.jpg']);
  assert.equal(zip.error, 'not a readable zip archive');
  assert.deepEqual(classifyMember(tar, 'shards/00000.tar/x.jpg', 300, 7000.4).status, 'indexed');
  assert.deepEqual(classifyMember(tar, 'shards/00000.tar/y.jpg', 300, 7000).status, 'changed');
  assert.deepEqual(classifyMember(tar, 'shards/00000.tar/bad.jpg', 1, 7000), {
    rel: 'shards/00000.tar/bad.jpg',
    status: 'failed',
    error: 'not a readable image',
  });
  assert.deepEqual(classifyMember(tar, 'shards/00000.tar/z.jpg', 1, 7000), { rel: 'shards/00000.tar/z.jpg', status: 'new' });
  const tree = folderTree(classifyImages([disk('a.png'), disk('c.png')], split.indexed, split.failed), split.archives);
  assert.deepEqual(
    tree.archives.map((a) => a.rel),
    ['broken.zip'],
  );
  const shards = tree.folders.find((f) => f.name === 'shards')!;
  assert.deepEqual(
    shards.archives.map((a) => a.rel),
    ['shards/00000.tar'],
  );
  assert.deepEqual([shards.counts.indexed, shards.counts.failed], [2, 1]);
  assert.deepEqual([tree.counts.indexed, tree.counts.failed], [3, 3]);
  assert.deepEqual([tree.archivesBelow, shards.archivesBelow], [2, 1]);
  assert.equal(folderDescription(shards.counts, shards.archivesBelow), '3 images · 1 archive · 1 failed');
  assert.equal(folderDescription(emptyCounts(), 3), '3 archives');
  assert.equal(archiveDescription(tar, 1234), '1,234 images · 2 indexed · 1 failed');
  assert.equal(archiveDescription(tar), '2 indexed · 1 failed');
  assert.equal(archiveDescription({ ...zip, error: undefined }), '10 B');
  assert.match(archiveDescription(zip), /^unreadable: not a readable zip archive/);
});

test('a long archive level ends in a "Show more…" row saying how many the next page adds', () => {
  assert.equal(showMoreLabel(ARCHIVE_PAGE, 100_000), `Show more… (${ARCHIVE_PAGE} of ${(100_000 - ARCHIVE_PAGE).toLocaleString('en-US')} more)`);
  assert.equal(showMoreLabel(2 * ARCHIVE_PAGE, 2 * ARCHIVE_PAGE + 7), 'Show more… (7 of 7 more)');
});
