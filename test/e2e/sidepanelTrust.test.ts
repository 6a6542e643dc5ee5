// The side panel in Restricted Mode: the workspace's model setting and its
// database entry (patchlens.databases, an s3:// URI) are ignored, never
// connected to, and the Index view and a notification say so; "Open Sample Dataset" adds the extension's
// sample photos and builds their database outside the extension's folder.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Locator } from 'playwright-core';
import { tempDir, writeDataset } from '../support/fixtures';
import { writeTinyModel } from '../support/tinyModel';
import { launchVSCode, sideBarPane, type VSCode } from '../support/vscode';

const sampleDir = path.resolve(__dirname, '..', '..', 'media', 'sample');
let vs: VSCode;

before(
  async () => {
    const work = tempDir('pl-sidepanel-trust-');
    const model = writeTinyModel(path.join(work, 'model'), { size: 64, patch: 8, dim: 4, codes: 128, name: 'user-model' });
    const ws = path.join(work, 'untrusted');
    await writeDataset(ws, 2, { seed: 5 });
    fs.mkdirSync(path.join(ws, '.vscode'));
    fs.writeFileSync(
      path.join(ws, '.vscode', 'settings.json'),
      JSON.stringify({ 'patchlens.model': './evil/manifest.json', 'patchlens.databases': { '.': 's3://evil-bucket/db' } }),
    );
    vs = await launchVSCode({ name: 'sidepanel-trust', workspace: ws, trusted: false, settings: { 'patchlens.model': model, 'patchlens.autoUpdate': false } });
  },
  { timeout: 10 * 60_000 },
);

after(async () => {
  await vs?.close();
});

function pane(title: string): Locator {
  return sideBarPane(vs.page, title);
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
  const row = ix
    .getByRole('treeitem', { name: /^Restricted Mode/ })
    .filter({ hasText: 'workspace model setting ignored' })
    .first();
  await row.waitFor();
  // Builds would use the user's model, not the workspace's.
  assert.match(
    await ix
      .getByRole('treeitem', { name: /^Model/ })
      .first()
      .innerText(),
    /user-model \(user settings\)/,
  );
  await vs.screenshot('restricted-mode-index');
  // The workspace's database entry: ignored, said in the Index view and once in a notification, never connected to.
  await ix
    .getByRole('treeitem', { name: /^Restricted Mode/ })
    .filter({ hasText: 'workspace database setting ignored' })
    .first()
    .waitFor();
  assert.equal(await ix.getByRole('treeitem', { name: /^Database/ }).count(), 0, 'no database from the workspace settings');
  await vs.page
    .locator('.notification-toast')
    .filter({
      hasText: /patchlens\.databases entry for untrusted \(s3:\/\/evil-bucket\/db\) is ignored and not connected to; using the default database location/,
    })
    .first()
    .waitFor();
  await vs.waitForLog(/Untrusted|not trusted/);
  assert.ok(!vs.logs().patchLens.includes('Connecting to s3://evil-bucket'), "no connection to the workspace's store");
  // Select Model says so too, and offers the bundled models and Browse….
  await vs.runCommand('Patch Lens: Select Model');
  const input = vs.page.locator('.quick-input-widget input').first();
  await input.waitFor();
  assert.match((await input.getAttribute('placeholder')) ?? '', /Restricted Mode: the workspace's model \(\.\/evil\/manifest\.json\) is ignored/);
  const rows = vs.page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
  await rows.filter({ hasText: 'Browse…' }).waitFor();
  // Titled as the other pickers are (no "Patch Lens:" prefix); the model in use says so in one clean description.
  assert.equal((await vs.page.locator('.quick-input-widget .quick-input-title').innerText()).trim(), 'Select Model');
  const descriptions = await rows.locator('.label-description').allInnerTexts();
  assert.ok(descriptions.includes('in use (user settings)'), JSON.stringify(descriptions));
  for (const d of descriptions) assert.doesNotMatch(d, /\s{2}|^\s*·|·\s*$/, `description ${JSON.stringify(d)}`);
  await vs.screenshot('select-model');
  await vs.page.keyboard.press('Escape');
});

test(
  "Open Sample Dataset adds the sample photos and builds their database in the extension's storage",
  { timeout: 300_000, skip: !fs.existsSync(sampleDir) && 'media/sample is not in this checkout' },
  async () => {
    const count = fs.readdirSync(sampleDir).filter((f) => /\.(png|jpe?g|webp|gif|tiff?|bmp)$/i.test(f)).length;
    await vs.runCommand('Patch Lens: Open Sample Dataset');
    const ds = pane('Datasets');
    await ds
      .getByRole('treeitem', { name: /^sample/ })
      .first()
      .waitFor();
    const done = vs.page
      .locator('.notification-toast')
      .filter({ hasText: /sample: [\d,]+ images, [\d,]+ entries/ })
      .first();
    await done.waitFor({ timeout: 240_000 });
    assert.match(await done.innerText(), new RegExp(`sample: ${count} images`));
    const line = await vs.waitForLog(/Building .* for .*media[/\\]sample/);
    assert.match(line, /globalStorage/);
    assert.ok(
      !fs.existsSync(
        path.join(
          vs.server.extensionsDir,
          fs.readdirSync(vs.server.extensionsDir).find((d) => d.startsWith('patchlens.'))!,
          'media',
          'sample',
          '.patchlens',
        ),
      ),
    );
    await ds
      .getByRole('treeitem', { name: /^sample.*images/ })
      .first()
      .waitFor();
    await vs.screenshot('sample-dataset');
  },
);

test(
  'on the sample: codebook statistics, retrieval predictability in the Index view, Clear Database',
  { timeout: 240_000, skip: !fs.existsSync(sampleDir) && 'media/sample is not in this checkout' },
  async () => {
    const rows = vs.page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
    const pick = async (text: string | RegExp) => {
      const r = rows.filter({ hasText: text }).first();
      await r.waitFor();
      await r.click();
    };
    // The sample is the only dataset with a database: the commands take it without asking.
    await vs.runCommand('Patch Lens: Show Codebook Statistics');
    await rows
      .filter({ hasText: /of 128 codes used/ })
      .first()
      .waitFor({ timeout: 60_000 });
    assert.ok(await rows.filter({ hasText: /perplexity/ }).count());
    await vs.screenshot('codebook-statistics');
    await vs.page.keyboard.press('Escape');
    await vs.runCommand('Patch Lens: Compute Retrieval Predictability');
    await pick(/10\.0% of the images held out/);
    await vs.page
      .locator('.notification-toast')
      .filter({ hasText: /retrieval predicts the held-out token first in/ })
      .first()
      .waitFor({ timeout: 120_000 });
    // Room for the Index view's rows: fold the other two views.
    const setExpanded = async (title: string, expanded: boolean) => {
      const header = pane(title).locator('.pane-header').first();
      if ((await header.getAttribute('aria-expanded')) !== String(expanded)) await header.click();
    };
    await setExpanded('Datasets', false);
    await setExpanded('Codebook', false);
    const ix = pane('Index');
    const pred = ix.getByRole('treeitem', { name: /^Predictability: top-1/ }).first();
    await pred.waitFor();
    const pct = '[<>]?\\d+(\\.\\d)?%';
    assert.match(await pred.innerText(), new RegExp(`top-1 ${pct} vs ${pct} baseline`));
    // the figures and their baselines, a row each, under the row
    await pred.locator('.monaco-tl-twistie').click();
    for (const label of ['Top-1', 'Top-5', 'Coverage', 'Most frequent token', 'Chance'])
      await ix
        .getByRole('treeitem', { name: new RegExp(`^${label}: `) })
        .first()
        .waitFor();
    assert.match(
      await ix
        .getByRole('treeitem', { name: /^Chance: / })
        .first()
        .innerText(),
      /1\/128/,
    );
    await vs.screenshot('predictability');
    await vs.runCommand('Patch Lens: Clear Database');
    await pick(/^sample/);
    const dialog = vs.page.locator('.monaco-dialog-box');
    await dialog.getByText(/Delete the patch database of sample/).waitFor();
    await vs.screenshot('clear-database');
    await dialog.getByRole('button', { name: 'Delete Database' }).click();
    await vs.page.locator('.notification-toast').filter({ hasText: 'deleted the patch database of sample' }).first().waitFor();
    await setExpanded('Datasets', true);
    await pane('Datasets')
      .getByRole('treeitem', { name: /^sample, no database/ })
      .first()
      .waitFor();
  },
);
