// The inspector and the side panel (Datasets, Index, Codebook) in the three
// kinds of VS Code theme, as a user switches them: each switch is seen by the
// workbench and by the webviews (their body class), and a screenshot of each
// goes to test-results/themes/ for review.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { launchVSCode, sideBarPane, type VSCode } from '../support/vscode';
import { clickCell } from '../support/patchGrid';
import { tempDir, writeDataset } from '../support/fixtures';
import { writeTinyModel } from '../support/tinyModel';

const work = tempDir('patchlens-e2e-themes-');
let vs: VSCode;
let names: string[] = [];

/** Theme label in the picker, the workbench's class for its kind, the webview body's class. */
const THEMES = [
  ['Light Modern', 'vs', 'vscode-light'],
  ['Dark Modern', 'vs-dark', 'vscode-dark'],
  ['Dark High Contrast', 'hc-black', 'vscode-high-contrast'],
] as const;

before(
  async () => {
    const model = writeTinyModel(path.join(work, 'model'), { size: 96, patch: 16, dim: 4, codes: 64, decoder: true });
    const data = path.join(work, 'images');
    names = await writeDataset(data, 6, { seed: 5 });
    const files = Object.fromEntries(names.map((n) => [n, fs.readFileSync(path.join(data, n))]));
    vs = await launchVSCode({ name: 'themes', files, settings: { 'patchlens.model': model, 'patchlens.topK': 6 } });
    await vs.waitForLog(/Patch Lens .* activated/, { timeoutMs: 90_000 });
  },
  { timeout: 10 * 60_000 },
);

after(async () => {
  await vs?.close();
});

test('light, dark and high contrast: the inspector with a query and the side panel follow the theme', { timeout: 5 * 60_000 }, async () => {
  await vs.runCommand('Patch Lens: Build or Update Patch Database');
  await vs.waitForLog(/workspace: 6 images, [\d,]+ entries/, { timeoutMs: 120_000 });
  await vs.rightClickExplorerItem(names[1], 'Inspect Patches');
  const frame = vs.webview({ extensionId: 'patchlens.patch-lens' });
  await frame.locator('[data-testid="patch-grid"][data-rows]').waitFor({ timeout: 60_000 });
  await clickCell(vs.page, frame, 3, 2);
  await frame.getByTestId('retrieved-item').first().waitFor({ timeout: 30_000 });
  await frame.getByTestId('daid-bar').first().waitFor();

  await vs.page
    .locator('.part.activitybar')
    .getByRole('tab', { name: /^Patch Lens/ })
    .click();
  const codebook = sideBarPane(vs.page, 'Codebook');
  const header = codebook.locator('.pane-header').first();
  await header.waitFor();
  if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
  // the inspector is the first Patch Lens webview in the page, the Codebook view the second
  const inspector = vs.webview({ extensionId: 'patchlens.patch-lens', index: 0 });
  const views = vs.webview({ extensionId: 'patchlens.patch-lens', index: 1 });
  await views.locator('body').waitFor({ timeout: 60_000 });

  for (const [label, workbenchClass, bodyClass] of THEMES) {
    await vs.runCommand('Preferences: Color Theme');
    await vs.page.keyboard.type(label);
    await vs.page.locator('.quick-input-widget .monaco-list-row.focused').filter({ hasText: label }).first().waitFor();
    await vs.page.keyboard.press('Enter');
    await vs.page.locator(`.monaco-workbench.${workbenchClass}`).waitFor({ timeout: 30_000 });
    await inspector.locator(`body.${bodyClass}`).waitFor({ timeout: 30_000 });
    await views.locator(`body.${bodyClass}`).waitFor({ timeout: 30_000 });
    // the selection and the retrieved list are still there after the switch
    assert.ok((await inspector.getByTestId('retrieved-item').count()) > 0, label);
    await vs.screenshot(`theme-${label.toLowerCase().replace(/ /g, '-')}`);
  }
});
