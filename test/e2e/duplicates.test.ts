// The Duplicates view in a real VS Code (code-server): a dataset with a
// byte-identical copy and a region of one image pasted onto another (on the
// token grid of the tests' patchify model, so its tokens are exact), built by
// the CLI; "Find Duplicates" in the side panel lists both pairs with their
// scores and shared cells; a click opens both images side by side in the
// inspector with the shared cells lit; the inspector lists the images the
// current one overlaps most.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { launchVSCode, StuckWebviewWatch, webviewWith, type VSCode } from '../support/vscode';
import { tempDir, texturedImage } from '../support/fixtures';
import { writeTinyModel } from '../support/tinyModel';

const repo = path.resolve(__dirname, '..', '..');
const work = tempDir('patchlens-e2e-dups-');
let vs: VSCode;

/** A 4x4-cell block (32 px, cells of 8 px) of base-1 pasted onto base-2 at cell (3, 2). */
const BLOCK = 4;

before(
  async () => {
    const model = writeTinyModel(path.join(work, 'model'), { size: 64, patch: 8, dim: 4, codes: 256 });
    const ws = path.join(work, 'photos');
    fs.mkdirSync(ws);
    const bases: Buffer[] = [];
    for (let i = 0; i < 4; i++) {
      const png = await (await texturedImage(64, 64, 300 + i)).png().toBuffer();
      bases.push(png);
      fs.writeFileSync(path.join(ws, `base-${i}.png`), png);
    }
    fs.writeFileSync(path.join(ws, 'copy-of-base-0.png'), bases[0]);
    const block = await sharp(bases[1])
      .extract({ left: 8, top: 8, width: BLOCK * 8, height: BLOCK * 8 })
      .png()
      .toBuffer();
    await sharp(bases[2])
      .composite([{ input: block, left: 2 * 8, top: 3 * 8 }])
      .png()
      .toFile(path.join(ws, 'pasted.png'));
    execFileSync(process.execPath, [path.join(repo, 'bin', 'patchlens.js'), 'index', ws, '--model', model, '--quiet'], { encoding: 'utf8' });
    fs.mkdirSync(path.join(ws, '.vscode'));
    fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), JSON.stringify({ 'patchlens.model': model }));
    vs = await launchVSCode({ name: 'duplicates', workspace: ws });
    await vs.waitForLog(/Patch Lens .* activated/, { timeoutMs: 90_000 });
  },
  { timeout: 10 * 60_000 },
);

after(async () => {
  await vs?.close();
});

test(
  'Find Duplicates lists the copy and the pasted region; a pair opens side by side with the shared cells lit; the inspector lists its overlaps',
  { timeout: 5 * 60_000 },
  async () => {
    const bar = vs.page.locator('.part.activitybar').getByRole('tab', { name: /^Patch Lens/ });
    await bar.waitFor({ timeout: 60_000 });
    if ((await bar.getAttribute('aria-selected')) !== 'true') await bar.click();
    const header = vs.page.locator('.part.sidebar .pane-header', { hasText: /^\s*Duplicates/i }).first();
    await header.waitFor();
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
    const view = await webviewWith(vs, '[data-testid="find"]');
    await view.locator('[data-testid="find"]:not([disabled])').waitFor({ timeout: 60_000 });
    await view.locator('[data-testid="find"]').click();
    const rows = view.locator('[data-testid="pair"]');
    await rows.nth(2).waitFor({ timeout: 60_000 });
    // the copy; the photo under the paste (the cells away from the block); the block's source
    assert.equal(await rows.count(), 3);
    const first = rows.first();
    assert.deepEqual(
      [await first.getAttribute('data-a'), await first.getAttribute('data-b'), await first.locator('[data-testid="identical"]').count()],
      ['base-0.png', 'copy-of-base-0.png', 1],
    );
    assert.deepEqual([await rows.nth(1).getAttribute('data-a'), await rows.nth(1).getAttribute('data-b')], ['base-2.png', 'pasted.png']);
    const pasted = rows.nth(2);
    assert.deepEqual([await pasted.getAttribute('data-a'), await pasted.getAttribute('data-b')], ['base-1.png', 'pasted.png']);
    assert.equal(await pasted.locator('[data-testid="shared-cells"]').innerText(), `${BLOCK * BLOCK}/64 cells`);
    await vs.waitForLog(/Duplicates: 3 pairs/);
    await vs.screenshot('duplicates-view');

    await pasted.click();
    await vs.waitForLog(/opened base-1\.png and pasted\.png side by side \(16 shared cells\)/, { timeoutMs: 60_000 });
    for (const name of ['base-1.png', 'pasted.png']) {
      await vs.page.locator('.tabs-container .tab').filter({ hasText: name }).first().waitFor();
    }
    // Two editor groups, one inspector in each, each with the block's cells lit.
    const lit = new Map<string, string[]>();
    const deadline = Date.now() + 60_000;
    const stuck = new StuckWebviewWatch(vs);
    while (lit.size < 2 && Date.now() < deadline) {
      const frames = await vs.page.locator('iframe.webview.ready >> visible=true').count();
      for (let i = 0; i < frames; i++) {
        const doc = vs.webview({ index: i });
        if (
          !(await doc
            .locator('[data-testid="shared-cells"] rect')
            .count()
            .catch(() => 0))
        )
          continue;
        const name = (await doc.getByTestId('image-name').innerText()).trim();
        const cells = await doc
          .locator('[data-testid="shared-cells"] rect')
          .evaluateAll((rs) => rs.map((r) => `${(r as SVGElement).dataset.row},${(r as SVGElement).dataset.col}`));
        lit.set(name, cells.sort());
        assert.match(await doc.getByTestId('shared-banner').innerText(), /16 cells \(25\.0%\) shared with/);
      }
      if (lit.size < 2) {
        await stuck.check();
        await vs.page.waitForTimeout(250);
      }
    }
    const block = (r0: number, c0: number) => Array.from({ length: BLOCK * BLOCK }, (_, i) => `${r0 + Math.floor(i / BLOCK)},${c0 + (i % BLOCK)}`).sort();
    assert.deepEqual(lit.get('base-1.png'), block(1, 1));
    assert.deepEqual(lit.get('pasted.png'), block(3, 2));
    assert.equal(await vs.page.locator('.editor-group-container').count(), 2, 'side by side');
    await vs.screenshot('pair-side-by-side');

    // The inspector of pasted.png lists the images it overlaps most.
    const inspector = await webviewWith(vs, '[data-testid="shared-banner"]:has-text("shared with base-1.png")');
    const overlap = inspector.locator('[data-testid="overlap-row"]');
    await overlap.first().waitFor({ timeout: 60_000 });
    assert.deepEqual(await overlap.evaluateAll((rs) => rs.map((r) => (r as HTMLElement).dataset.image)), ['base-2.png', 'base-1.png']);
  },
);
