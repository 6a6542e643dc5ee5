import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import picomatch from 'picomatch';
import { ARCHIVE_EXTENSIONS, archiveGlob, archiveKind } from '../../src/core/datasetLayout';

test('archiveGlob matches exactly the files archiveKind reads as archives (the Datasets view watches them)', () => {
  const isMatch = picomatch(archiveGlob());
  const names = [
    'shards/00000.tar',
    'a/b/c.tar.gz',
    'x.tgz',
    'mjhq30k_imgs.zip',
    'train-0.parquet',
    'codes/0.h5',
    'codes/1.hdf5',
    'a.jpg',
    'notes.txt',
    'x.tar.bz2',
    'meta_data.json',
  ];
  for (const n of names) assert.equal(isMatch(n), archiveKind(n.slice(n.lastIndexOf('/') + 1)) !== undefined, n);
  assert.equal(archiveGlob().split(',').length, Object.values(ARCHIVE_EXTENSIONS).flat().length);
});
