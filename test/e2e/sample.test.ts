// The product as a new user first meets it: the sample photos with the bundled
// tokenizer (no model setting), built from the palette, inspected by a
// right-click. Also makes the README's picture (test-results/sample/readme.png).
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { launchVSCode, type VSCode } from '../support/vscode';
import { clickCell } from '../support/patchGrid';

const repo = path.resolve(__dirname, '..', '..');
const PHOTOS = [
  'bridge.jpg',
  'coffee.jpg',
  'astronaut.jpg',
  'brick-wall.jpg',
  'by-the-water.jpg',
  'aitzgorri.jpg',
  'cameraman.jpg',
  'chelsea-the-cat.jpg',
  'analog-pattern.jpg',
];
let vs: VSCode;

before(
  async () => {
    const files = Object.fromEntries(PHOTOS.map((f) => [f, fs.readFileSync(path.join(repo, 'media', 'sample', f))]));
    vs = await launchVSCode({ name: 'sample', files, settings: { 'patchlens.topK': 12 } });
    await vs.waitForLog(/Native modules loaded/, { timeoutMs: 120_000 });
  },
  { timeout: 10 * 60_000 },
);

after(async () => {
  await vs?.close();
});

test('sample photos with the bundled model: build, inspect, select a patch, retrieve', { timeout: 6 * 60_000 }, async () => {
  // The one dataset (the workspace folder) is built without asking.
  await vs.runCommand('Patch Lens: Build or Update Patch Database');
  await vs.waitForLog(new RegExp(`workspace: ${PHOTOS.length} images, ${(PHOTOS.length * 15 * 14).toLocaleString('en-US')} entries`), { timeoutMs: 180_000 });
  assert.match(vs.logs().patchLens, /model patchlens-vq16 \([0-9a-f]{16}\): 16×16 grid, d=8/);

  await vs.rightClickExplorerItem('bridge.jpg', 'Inspect Patches');
  const frame = vs.webview({ extensionId: 'patchlens.patch-lens' });
  const grid = frame.locator('[data-testid="patch-grid"][data-rows]');
  await grid.waitFor({ timeout: 60_000 });
  assert.deepEqual([await grid.getAttribute('data-rows'), await grid.getAttribute('data-cols')], ['16', '16']);
  await frame.locator('.stage .image').evaluate((i: HTMLImageElement) => i.decode());

  // a patch in the middle of the photo
  const [row, col] = [9, 7];
  await clickCell(vs.page, frame, row, col);
  const selected = frame.getByTestId('selected-patch');
  await selected.waitFor();
  assert.deepEqual([await selected.getAttribute('data-row'), await selected.getAttribute('data-col')], [String(row), String(col)]);
  const items = frame.getByTestId('retrieved-item');
  await items.nth(11).waitFor({ timeout: 60_000 });
  const retrieved = await items.evaluateAll((es) => es.map((e) => e.getAttribute('data-image')));
  assert.ok(
    retrieved.every((img) => img !== 'bridge.jpg' && PHOTOS.includes(img!)),
    JSON.stringify(retrieved),
  );
  assert.ok((await frame.getByTestId('daid-bar').count()) > 0);
  // Thumbnails load as their rows scroll into view (the sections above the list vary in height).
  await items.nth(5).scrollIntoViewIfNeeded();
  await frame.locator('.thumb-image[src^="blob:"]').nth(5).waitFor({ timeout: 60_000 });
  await vs.runCommand('Notifications: Clear All Notifications');
  const box = (await grid.boundingBox())!;
  await vs.page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.25); // a hover tooltip in the picture
  await vs.screenshot('readme');
  assert.doesNotMatch(vs.logs().patchLens, /\[error\]/);
});

test('Select Model marks the bundled model in use, titled as the other pickers', { timeout: 2 * 60_000 }, async () => {
  await vs.runCommand('Patch Lens: Select Model');
  const widget = vs.page.locator('.quick-input-widget');
  const inUse = widget.locator('.quick-input-list .monaco-list-row').filter({ hasText: 'patchlens-vq16' }).first();
  await inUse.waitFor();
  assert.equal((await widget.locator('.quick-input-title').innerText()).trim(), 'Select Model');
  // One separator between parts, no blank part: "bundled, default · 256×256 input · in use".
  assert.match(await inUse.locator('.label-description').innerText(), /^bundled, default · \d+×\d+ input · in use$/);
  assert.equal(await inUse.locator('.codicon-check').count(), 1, 'the model in use is checked');
  await vs.screenshot('select-model');
  await vs.page.keyboard.press('Escape');
});
