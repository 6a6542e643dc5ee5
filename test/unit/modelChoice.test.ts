import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listBundledModels, settingTarget, settingValue } from '../../src/extension/commands/modelChoice';
import { tempDir } from '../support/fixtures';
import { writeTinyModel } from '../support/tinyModel';

test('listBundledModels: folders under media/models whose manifest parses', () => {
  const dir = tempDir();
  writeTinyModel(path.join(dir, 'b-model'), { name: 'Bee' });
  writeTinyModel(path.join(dir, 'a-model'), { name: 'Ay' });
  fs.mkdirSync(path.join(dir, 'broken'));
  fs.writeFileSync(path.join(dir, 'broken', 'manifest.json'), '{ nope');
  fs.mkdirSync(path.join(dir, 'empty'));
  const models = listBundledModels(dir);
  assert.deepEqual(
    models.map((m) => [m.id, m.name]),
    [
      ['a-model', 'Ay'],
      ['b-model', 'Bee'],
    ],
  );
  assert.equal(models[0].manifestPath, path.join(dir, 'a-model', 'manifest.json'));
  assert.deepEqual(models[0].input, { width: 64, height: 64 });
  assert.deepEqual(listBundledModels(path.join(dir, 'missing')), []);
});

test('settingTarget: where the model setting takes effect', () => {
  assert.equal(settingTarget(undefined, true, false), 'global'); // no folder open
  assert.equal(settingTarget({ workspaceValue: 'x' }, false, true), 'global'); // Restricted Mode ignores workspace settings
  assert.equal(settingTarget({ workspaceFolderValue: 'x', workspaceValue: 'y' }, true, true), 'workspaceFolder');
  assert.equal(settingTarget({ workspaceValue: 'y', globalValue: 'z' }, true, true), 'workspace');
  assert.equal(settingTarget({ globalValue: 'z' }, true, true), 'global');
  assert.equal(settingTarget({}, true, true), 'workspace');
});

test('settingValue: bundled names, workspace-relative paths inside the workspace, else absolute', () => {
  assert.equal(settingValue({ bundledId: 'patchlens-vq16' }, 'workspace', '/w'), 'bundled:patchlens-vq16');
  const inside = path.join(path.sep, 'w', 'models', 'm', 'manifest.json');
  assert.equal(settingValue({ manifestPath: inside }, 'workspace', path.join(path.sep, 'w')), 'models/m/manifest.json');
  assert.equal(settingValue({ manifestPath: inside }, 'global', path.join(path.sep, 'w')), inside);
  const outside = path.join(path.sep, 'elsewhere', 'manifest.json');
  assert.equal(settingValue({ manifestPath: outside }, 'workspace', path.join(path.sep, 'w')), outside);
});

test("settingValue: a folder whose name starts with '..' is inside the workspace", () => {
  const w = path.join(path.sep, 'w');
  assert.equal(settingValue({ manifestPath: path.join(w, '..models', 'm', 'manifest.json') }, 'workspace', w), '..models/m/manifest.json');
  assert.equal(settingValue({ manifestPath: path.join(w, '..', 'm', 'manifest.json') }, 'workspace', w), path.join(path.sep, 'm', 'manifest.json'));
});
