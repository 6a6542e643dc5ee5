import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { databaseFor, databaseLocation, mergeObjects, trustedLevels } from '../../src/extension/databaseChoice';

const none = () => undefined;

test("trustedLevels: a trusted workspace's values apply, the folder's over the workspace's", () => {
  assert.deepEqual(trustedLevels({ globalValue: 'u', workspaceValue: 'w', workspaceFolderValue: 'f' }, true, none), { user: 'u', workspace: 'f' });
  assert.deepEqual(trustedLevels({ globalValue: 'u', workspaceValue: 'w' }, true, none), { user: 'u', workspace: 'w' });
  assert.deepEqual(
    trustedLevels({ globalValue: 'u' }, true, () => 'from-file'),
    { user: 'u' },
    'the files are read only to say what an untrusted workspace ignores',
  );
  assert.deepEqual(trustedLevels(undefined, true, none), { user: undefined });
});

test("trustedLevels: in an untrusted workspace the workspace's values are ignored, also those VS Code hides (read from the files)", () => {
  assert.deepEqual(trustedLevels({ globalValue: 'u', workspaceValue: 'w' }, false, none), { user: 'u', ignored: 'w' });
  assert.deepEqual(
    trustedLevels({ globalValue: 'u' }, false, () => 'from-file'),
    { user: 'u', ignored: 'from-file' },
  );
  assert.deepEqual(trustedLevels({}, false, none), { user: undefined });
});

test("trustedLevels with mergeObjects: maps of the workspace and the folder are joined, the folder's keys winning", () => {
  const r = trustedLevels<Record<string, unknown>>(
    { globalValue: { a: 'u' }, workspaceValue: { a: 'w', b: 'w' }, workspaceFolderValue: { b: 'f' } },
    true,
    none,
    mergeObjects,
  );
  assert.deepEqual(r, { user: { a: 'u' }, workspace: { a: 'w', b: 'f' } });
  assert.equal(mergeObjects(undefined, undefined), undefined);
  assert.deepEqual(mergeObjects(['x'] as unknown as Record<string, unknown>, { k: 'v' }), { k: 'v' });
});

test('databaseLocation: object-store URIs as given (no trailing slash), folders against the base', () => {
  assert.equal(databaseLocation(' s3://bucket/team/db/ ', '/ws'), 's3://bucket/team/db');
  assert.equal(databaseLocation('gs://b/p', '/ws'), 'gs://b/p');
  assert.equal(databaseLocation('../lance', '/ws/a'), '/ws/lance');
  assert.equal(databaseLocation('/abs/db', '/ws'), '/abs/db');
});

test('databaseFor: the entry whose key is the dataset folder (absolute or relative to the first workspace folder)', () => {
  const user = { '/data/cc12m': 's3://team/cc12m', '/data/other/': 'db-folder' };
  assert.deepEqual(databaseFor('/data/cc12m', { user }, '/ws'), { choice: { location: 's3://team/cc12m', origin: 'user' } });
  assert.deepEqual(
    databaseFor('/data/other', { user }, '/ws'),
    { choice: { location: '/ws/db-folder', origin: 'user' } },
    'a trailing slash in the key still matches',
  );
  assert.deepEqual(databaseFor('/ws/photos', { workspace: { photos: '/lance/photos' } }, '/ws'), {
    choice: { location: '/lance/photos', origin: 'workspace' },
  });
  assert.deepEqual(databaseFor('/ws', { workspace: { '.': 's3://b/ws' } }, '/ws'), { choice: { location: 's3://b/ws', origin: 'workspace' } });
  assert.deepEqual(databaseFor('/data/unnamed', { user }, '/ws'), {}, 'no entry: the default location');
  assert.deepEqual(
    databaseFor('/data/cc12m', { user: { '/data/cc12m': 42, '': 's3://x/y' } as unknown as Record<string, unknown> }, '/ws'),
    {},
    'entries that are not strings are skipped',
  );
});

test("databaseFor: a trusted workspace's entry wins over the user's", () => {
  const r = databaseFor('/d', { user: { '/d': 's3://user/db' }, workspace: { '/d': 's3://ws/db' } }, '/ws');
  assert.deepEqual(r, { choice: { location: 's3://ws/db', origin: 'workspace' } });
});

test("databaseFor: an untrusted workspace's entry is ignored (and named); the user's still applies", () => {
  assert.deepEqual(databaseFor('/d', { ignored: { '/d': 's3://evil/db' } }, '/ws'), { ignored: 's3://evil/db' });
  assert.deepEqual(databaseFor('/d', { user: { '/d': 's3://user/db' }, ignored: { '/d': 's3://evil/db' } }, '/ws'), {
    choice: { location: 's3://user/db', origin: 'user' },
    ignored: 's3://evil/db',
  });
  assert.deepEqual(
    databaseFor('/d', { user: { '/d': 's3://user/db' }, ignored: { '/d': 's3://user/db' } }, '/ws'),
    { choice: { location: 's3://user/db', origin: 'user' } },
    'the same entry in both is not reported',
  );
  assert.deepEqual(databaseFor('/d', { ignored: { '/other': 's3://evil/db' } }, '/ws'), {}, 'an entry for another folder says nothing here');
});
