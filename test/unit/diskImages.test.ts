import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listDiskImages } from '../../src/extension/sidePanel/diskImages';
import { scanDataset } from '../../src/engine/datasetScanner';
import { tempDir } from '../support/fixtures';

test("listDiskImages: supported images, by the indexer's rules", async () => {
  const root = tempDir();
  const put = (rel: string, bytes = 3) => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), Buffer.alloc(bytes));
  };
  put('a.png');
  put('b.JPG', 5);
  put('notes.txt');
  put('.hidden.png');
  put('.patchlens/x.png');
  put('node_modules/y.png');
  put('sub/c.webp');
  put('sub/skip/d.png');
  put('db/e.png');
  put('shards/00000.tar', 7);
  put('mjhq.zip');
  put('codes/shard-0.h5');
  put('db/f.tgz');
  fs.symlinkSync(path.join(root, 'sub'), path.join(root, 'loop'));
  fs.symlinkSync('/', path.join(root, 'outside'));
  const all = await listDiskImages(root, { skipDirs: [path.join(root, 'db')] });
  // A folder reached twice (through the symlink) is listed once, under the first path, as the indexer does.
  assert.deepEqual(
    all.images.map((i) => i.rel),
    ['a.png', 'b.JPG', 'loop/c.webp', 'loop/skip/d.png'],
  );
  const scan = scanDataset(root, { skipDirs: [path.join(root, 'db')] });
  assert.deepEqual(
    all.images.map((i) => [i.rel, i.bytes, i.mtimeMs]),
    scan.files.map((f) => [f.rel, f.bytes, f.mtimeMs]),
  );
  assert.equal(all.images.find((i) => i.rel === 'b.JPG')!.bytes, 5);
  // archives are listed apart (folders of members in the tree), as the indexer's scan lists them
  assert.deepEqual(
    all.archives.map((a) => [a.rel, a.bytes]),
    [
      ['codes/shard-0.h5', 3],
      ['mjhq.zip', 3],
      ['shards/00000.tar', 7],
    ],
  );
  assert.deepEqual(
    all.archives.map((a) => a.rel),
    scan.archives.map((a) => a.rel),
  );
  assert.equal(all.truncated, false);
  const some = await listDiskImages(root, { include: ['loop/**'], exclude: ['**/skip/**'] });
  assert.deepEqual(
    some.images.map((i) => i.rel),
    ['loop/c.webp'],
  );
  // include globs name images (members too): an archive is kept, its members are filtered; exclude drops it
  assert.deepEqual(
    (await listDiskImages(root, { include: ['loop/**'], exclude: ['*.zip'] })).archives.map((a) => a.rel),
    ['codes/shard-0.h5', 'db/f.tgz', 'shards/00000.tar'],
  );
  const limited = await listDiskImages(root, { limit: 2 });
  assert.equal(limited.images.length, 2);
  assert.equal(limited.truncated, true);
});
