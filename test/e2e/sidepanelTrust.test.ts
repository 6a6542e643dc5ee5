// The side panel in Restricted Mode: the workspace's model setting is ignored
// and the Index view says so; "Open Sample Dataset" adds the extension's
// sample photos and builds their database outside the extension's folder.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Locator } from 'playwright-core';
import { tempDir, writeDataset } from '../support/fixtures';
import { writeTinyModel } from '../support/tinyModel';
import { launchVSCode, type VSCode } from '../support/vscode';

const sampleDir = path.resolve(__dirname, '..', '..', 'media', 'sample');
let vs: VSCode;

before(async () => {
  const work = tempDir('pl-sidepanel-trust-');
  const model = writeTinyModel(path.join(work, 'model'), { size: 64, patch: 8, dim: 4, codes: 128, name: 'user-model' });
  const ws = path.join(work, 'untrusted');
  await writeDataset(ws, 2, { seed: 5 });
  fs.mkdirSync(path.join(ws, '.vscode'));
  fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), JSON.stringify({ 'patchlens.model': './evil/manifest.json' }));
  vs = await launchVSCode({ name: 'sidepanel-trust', workspace: ws, trusted: false, settings: { 'patchlens.model': model, 'patchlens.autoUpdate': false } });
}, { timeout: 10 * 60_000 });

after(async () => {
  await vs?.close();
});

function pane(title: string): Locator {
  return vs.page.locator('.part.sidebar .pane').filter({ has: vs.page.locator('.pane-header', { hasText: new RegExp(`^\\s*${title}`, 'i') }) });
}

test('Restricted Mode: the Index view shows that the workspace model setting is ignored', { timeout: 180_000 }, async () => {
  await vs.page.locator('.part.statusbar').getByText('Restricted Mode').waitFor();
  await vs.waitForLog('activated', { timeoutMs: 90_000 });
  const tab = vs.page.locator('.part.activitybar').getByRole('tab', { name: /^Patch Lens/ });
  await tab.waitFor({ timeout: 60_000 });
  await tab.click();
  const ix = pane('Index');
  const header = ix.locator('.pane-header').first();
  await header.waitFor();
  if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
  const row = ix.getByRole('treeitem', { name: /^Restricted Mode/ }).first();
  await row.waitFor();
  assert.match(await row.innerText(), /workspace model setting ignored/);
  // Builds would use the user's model, not the workspace's.
  assert.match(await ix.getByRole('treeitem', { name: /^Model/ }).first().innerText(), /user-model \(user settings\)/);
  await vs.screenshot('restricted-mode-index');
  // Select Model says so too, and offers the bundled models and Browse….
  await vs.runCommand('Patch Lens: Select Model');
  const input = vs.page.locator('.quick-input-widget input').first();
  await input.waitFor();
  assert.match((await input.getAttribute('placeholder')) ?? '', /Restricted Mode: the workspace's model \(\.\/evil\/manifest\.json\) is ignored/);
  await vs.page.locator('.quick-input-widget .quick-input-list .monaco-list-row').filter({ hasText: 'Browse…' }).waitFor();
  await vs.screenshot('select-model');
  await vs.page.keyboard.press('Escape');
});

test('Open Sample Dataset adds the sample photos and builds their database in the extension\'s storage', { timeout: 300_000, skip: !fs.existsSync(sampleDir) && 'media/sample is not in this checkout' }, async () => {
  const count = fs.readdirSync(sampleDir).filter((f) => /\.(png|jpe?g|webp|gif|tiff?|bmp)$/i.test(f)).length;
  await vs.runCommand('Patch Lens: Open Sample Dataset');
  const ds = pane('Datasets');
  await ds.getByRole('treeitem', { name: /^sample/ }).first().waitFor();
  const done = vs.page.locator('.notification-toast').filter({ hasText: /sample: \d+ images, \d+ entries/ }).first();
  await done.waitFor({ timeout: 240_000 });
  assert.match(await done.innerText(), new RegExp(`sample: ${count} images`));
  const line = await vs.waitForLog(/Building .* for .*media[/\\]sample/);
  assert.match(line, /globalStorage/);
  assert.ok(!fs.existsSync(path.join(vs.server.extensionsDir, fs.readdirSync(vs.server.extensionsDir).find((d) => d.startsWith('patchlens.'))!, 'media', 'sample', '.patchlens')));
  await ds.getByRole('treeitem', { name: /^sample.*images/ }).first().waitFor();
  await vs.screenshot('sample-dataset');
});
