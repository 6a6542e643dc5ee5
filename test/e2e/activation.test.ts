// The extension in a real VS Code: it activates, its native modules load in the
// extension host, and "Inspect Patches" is offered on images only.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { launchVSCode, type VSCode } from '../support/vscode';

const version = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version as string;
let vs: VSCode;

before(
  async () => {
    const png = await sharp({ create: { width: 96, height: 64, channels: 3, background: '#d04020' } })
      .png()
      .toBuffer();
    const jpg = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#2060d0' } })
      .jpeg()
      .toBuffer();
    vs = await launchVSCode({
      name: 'activation',
      files: { 'cat.png': png, 'photos/dog.JPG': jpg, 'notes.txt': 'not an image\n' },
    });
  },
  { timeout: 10 * 60_000 },
); // includes provisioning code-server on a fresh machine (~2 min)

after(async () => {
  await vs?.close();
});

test('the extension activates and loads its native modules in the extension host', { timeout: 120_000 }, async () => {
  await vs.waitForLog(`Patch Lens ${version} activated`, { timeoutMs: 90_000 });
  const line = await vs.waitForLog(/Native modules (loaded|failed)/);
  assert.match(line, /Native modules loaded: onnxruntime-node \d[\w.-]*, sharp \d[\w.-]*, hnswlib-node ok/);
  assert.doesNotMatch(vs.logs().patchLens, /\[error\]/);
  await vs.showOutputChannel('Patch Lens');
  await vs.page.locator('.part.panel').getByText('Native modules loaded:').waitFor();
  await vs.screenshot('output-channel');
});

test('"Inspect Patches" is in the explorer context menu of images', { timeout: 60_000 }, async () => {
  const labels = await vs.openExplorerContextMenu('cat.png', { waitFor: 'Inspect Patches' });
  await vs.screenshot('menu-png');
  await vs.closeMenu();
  assert.ok(labels.includes('Inspect Patches'));
  // Upper-case extension in a sub-folder: the `when` clause matches case-insensitively.
  const jpgLabels = await vs.openExplorerContextMenu('photos/dog.JPG', { waitFor: 'Inspect Patches' });
  await vs.screenshot('menu-jpg');
  await vs.closeMenu();
  assert.ok(jpgLabels.includes('Inspect Patches'));
});

test('"Inspect Patches" is not in the explorer context menu of a text file', { timeout: 60_000 }, async () => {
  // Menus are registered by now if the image's menu has the entry (guards against a vacuous pass).
  await vs.openExplorerContextMenu('cat.png', { waitFor: 'Inspect Patches' });
  await vs.closeMenu();
  const labels = await vs.openExplorerContextMenu('notes.txt');
  await vs.screenshot('menu-txt');
  await vs.closeMenu();
  assert.ok(labels.length > 3, `a real context menu: ${JSON.stringify(labels)}`);
  assert.ok(!labels.includes('Inspect Patches'), JSON.stringify(labels));
});
