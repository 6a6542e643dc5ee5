// The Patch Inspector in a real VS Code (code-server): build a dataset's
// database with the palette command, right-click an image -> Inspect Patches,
// select a patch, see its neighbours and the retrieved patches, open one, roll
// the rest of the image out from it; and the other ways in (image preview
// title button, palette, multi-select).
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FrameLocator } from 'playwright-core';
import { answerSaveDialog, launchVSCode, type VSCode } from '../support/vscode';
import { formatCount, formatPercent } from '../../src/core/format';
import { clickCell } from '../support/patchGrid';
import { tempDir, writeDataset } from '../support/fixtures';
import { writeTinyModel } from '../support/tinyModel';

const work = tempDir('patchlens-e2e-inspector-');
const K = 8;
let vs: VSCode;
let names: string[] = [];

before(
  async () => {
    // A model with a 6x6 grid (96 px input, 16 px patches) and a decoder, named by user settings.
    const model = writeTinyModel(path.join(work, 'model'), { size: 96, patch: 16, dim: 4, codes: 64, decoder: true });
    const data = path.join(work, 'images');
    names = await writeDataset(data, 10, { seed: 11 });
    const files = Object.fromEntries(names.map((n) => [n, fs.readFileSync(path.join(data, n))]));
    vs = await launchVSCode({ name: 'inspector', files, settings: { 'patchlens.model': model, 'patchlens.topK': K } });
    await vs.waitForLog(/Patch Lens .* activated/, { timeoutMs: 90_000 });
  },
  { timeout: 10 * 60_000 },
);

after(async () => {
  await vs?.close();
});

/** The visible inspector's document once its grid is drawn. */
async function inspector(name: string): Promise<FrameLocator> {
  const frame = vs.webview({ extensionId: 'patchlens.patch-lens' });
  await frame.getByTestId('image-name').filter({ hasText: name }).waitFor({ timeout: 60_000 });
  await frame.locator('[data-testid="patch-grid"][data-rows]').waitFor({ timeout: 60_000 });
  return frame;
}

/** Picks a value in one of the toolbar's selects (shape, hops). */
async function setSelect(frame: FrameLocator, name: string, value: string): Promise<void> {
  await frame.getByTestId(`select-${name}`).evaluate((e, v) => {
    (e as HTMLElement & { value: string }).value = v;
    e.dispatchEvent(new Event('change'));
  }, value);
}

test(
  'no database yet: the inspector offers Build; the palette build fills it in; select -> retrieve -> open a retrieved patch',
  { timeout: 5 * 60_000 },
  async () => {
    await vs.rightClickExplorerItem(names[2], 'Inspect Patches');
    const first = vs.webview({ extensionId: 'patchlens.patch-lens' });
    const status = first.getByTestId('status');
    await status.and(first.locator('[data-state="noDatabase"]')).waitFor({ timeout: 60_000 });
    assert.match((await status.textContent()) ?? '', /no patch database yet/);
    await first.getByTestId('build-database').waitFor();
    await vs.screenshot('inspector-no-database');

    // The one dataset (the workspace folder) is built without asking.
    await vs.runCommand('Patch Lens: Build or Update Patch Database');
    await vs.waitForLog(/workspace: 10 images, [\d,]+ entries/, { timeoutMs: 120_000 });

    // The open inspector picks the new database up by itself.
    const frame = await inspector(names[2]);
    const grid = frame.locator('[data-testid="patch-grid"]');
    assert.equal(await grid.getAttribute('data-rows'), '6');
    assert.equal(await grid.getAttribute('data-cols'), '6');
    // The image itself is drawn under the grid, at the grid's size.
    const imageBox = (await frame.locator('.stage .image').boundingBox())!;
    const gridBox = (await grid.boundingBox())!;
    assert.ok(
      imageBox.width > 100 && Math.abs(imageBox.width - gridBox.width) < 1 && Math.abs(imageBox.height - gridBox.height) < 1,
      JSON.stringify({ imageBox, gridBox }),
    );
    assert.ok(await frame.locator('.stage .image').evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth > 0));
    await vs.screenshot('inspector-opened');

    await clickCell(vs.page, frame, 3, 2);
    const selected = frame.getByTestId('selected-patch');
    await selected.waitFor();
    assert.deepEqual([await selected.getAttribute('data-row'), await selected.getAttribute('data-col')], ['3', '2']);
    // causal h = 1: (2,1) (2,2) (2,3) (3,1)
    const neighbours = await frame
      .getByTestId('neighbour-cell')
      .evaluateAll((es) => es.map((e) => `${e.getAttribute('data-row')},${e.getAttribute('data-col')}`));
    assert.deepEqual(neighbours, ['2,1', '2,2', '2,3', '3,1']);
    const items = frame.getByTestId('retrieved-item');
    await items.nth(K - 1).waitFor({ timeout: 30_000 });
    assert.equal(await items.count(), K);
    await frame.locator('.thumb-image[src^="blob:"]').first().waitFor({ timeout: 30_000 });
    assert.ok((await frame.getByTestId('daid-bar').count()) > 0);
    await vs.screenshot('inspector-retrieved');

    // The view settings travel with a jump: draw h = 2 here, and the opened inspector draws h = 2 too.
    await setSelect(frame, 'hops', '2');
    const target = await items
      .nth(1)
      .evaluate((e) => ({ image: e.getAttribute('data-image')!, row: e.getAttribute('data-row'), col: e.getAttribute('data-col') }));
    assert.notEqual(target.image, names[2], 'the inspected image is excluded');
    await items.nth(1).click();
    const opened = await inspector(target.image);
    const sel = opened.getByTestId('selected-patch');
    await sel.waitFor({ timeout: 30_000 });
    assert.deepEqual([await sel.getAttribute('data-row'), await sel.getAttribute('data-col')], [target.row, target.col]);
    await opened.getByTestId('retrieved-item').first().waitFor({ timeout: 30_000 });
    assert.equal(await opened.getByTestId('select-hops').evaluate((e) => (e as HTMLElement & { value: string }).value), '2');
    // A jump opens the preview tab (italic title); the inspector it came from is kept.
    const tab = (name: string) => vs.page.locator('.tabs-container .tab', { hasText: name });
    await tab(target.image).locator('.italic').waitFor();
    assert.equal(await tab(names[2]).locator('.italic').count(), 0, 'the inspector a jump came from is kept');
    await vs.screenshot('inspector-opened-retrieved');

    // A second jump from the first inspector reuses that preview tab instead of adding one.
    await tab(names[2]).first().click();
    const source = await inspector(names[2]);
    const other = source.locator(`[data-testid="retrieved-item"]:not([data-image="${target.image}"])`).first();
    const second = (await other.getAttribute('data-image'))!;
    await other.click();
    await inspector(second);
    await tab(second).locator('.italic').waitFor();
    assert.equal(await tab(target.image).count(), 0, "the second jump replaced the first one's preview tab");

    // Back to the first inspector: its webview was unloaded while hidden and comes back as it was.
    await vs.page.locator('.tabs-container .tab', { hasText: names[2] }).first().click();
    const back = await inspector(names[2]);
    const again = back.getByTestId('selected-patch');
    await again.waitFor();
    assert.deepEqual([await again.getAttribute('data-row'), await again.getAttribute('data-col')], ['3', '2']);
    await back
      .getByTestId('retrieved-item')
      .nth(K - 1)
      .waitFor({ timeout: 30_000 });

    // Rollout from the selected patch: the database's own completion, decoded, and where its tokens came from.
    await back.getByTestId('tool-debug-start').click();
    await back.locator('[data-testid="rollout-pane"][data-decoded="true"]:not([hidden])').waitFor({ timeout: 60_000 });
    assert.ok((await back.getByTestId('rollout-legend-item').count()) > 0);
    await back.locator('.legend-thumb[src^="blob:"]').first().waitFor({ timeout: 30_000 });
    assert.match((await back.getByTestId('rollout-top-source').textContent()) ?? '', /\d%/);
    await vs.screenshot('inspector-rollout');
    assert.doesNotMatch(vs.logs().patchLens, /rejected|\[error\]/);
  },
);

test(
  "Export: the inspector's buttons and Export Results… save what the inspector shows, and the dataset's codebook usage and predictability",
  { timeout: 5 * 60_000 },
  async () => {
    // The inspector the first test left (names[2], its rollout shown): a new query, so the chart shows it.
    await vs.page.locator('.tabs-container .tab', { hasText: names[2] }).first().click();
    const frame = await inspector(names[2]);
    await clickCell(vs.page, frame, 2, 4);
    await frame.locator(`[data-testid="retrieved-list"][data-for-row="2"][data-for-col="4"][data-count="${K}"]`).waitFor({ timeout: 30_000 });
    const items = frame.getByTestId('retrieved-item');
    await items.nth(K - 1).waitFor({ timeout: 30_000 });
    await frame.getByTestId('daid-bar').first().waitFor();
    const shown = await items.evaluateAll((es) =>
      es.map((e) => ({
        image: e.getAttribute('data-image')!,
        row: Number(e.getAttribute('data-row')),
        col: Number(e.getAttribute('data-col')),
        token: Number(e.getAttribute('data-token')),
        distance: Number(e.getAttribute('data-distance')),
      })),
    );
    const bars = await frame
      .getByTestId('daid-bar')
      .evaluateAll((es) =>
        es.map((e) => ({ token: Number(e.getAttribute('data-token')), p: Number(e.getAttribute('data-p')), rank: Number(e.getAttribute('data-rank')) })),
      );
    const more = frame.getByTestId('daid-more');
    const rest = (await more.count())
      ? { count: Number(await more.getAttribute('data-count')), p: Number(await more.getAttribute('data-p')) }
      : { count: 0, p: 0 };

    // Retrieved, as CSV, from the section's button.
    await frame.getByTestId('export-retrieved').click();
    const csvFile = await answerSaveDialog(vs, 'retrieved-e2e.csv', { title: 'Export retrieved patches' });
    assert.equal(path.dirname(csvFile), vs.workspace, 'the dialog opens in the workspace folder');
    const csv = await readWritten(csvFile);
    await exportedToast(K, 'retrieved-e2e.csv');
    const lines = csv.trimEnd().split('\r\n');
    assert.equal(lines[0], 'rank,image,row,col,token,squared_distance,same_token,caption');
    assert.equal(lines.length - 1, K, 'one row per retrieved patch');
    // The queried patch's own token, as the DAiD summary names it.
    const trueToken = Number(await frame.locator('.daid-summary .token-chip.true').innerText());
    lines.slice(1).forEach((l, i) => {
      const [rank, image, row, col, token, distance, same, caption] = l.split(',');
      const s = shown[i];
      assert.deepEqual([Number(rank), image, Number(row), Number(col), Number(token)], [i + 1, s.image, s.row, s.col, s.token], `row ${i + 1}`);
      assert.ok(Math.abs(Number(distance) - s.distance) <= 1e-6 * Math.max(1, s.distance), `distance of row ${i + 1}: ${distance} vs ${s.distance}`);
      assert.equal(same, String(s.token === trueToken), `same_token of row ${i + 1}`);
      assert.equal(caption, '');
    });

    // DAiD, as JSON, from its section's button: the bars drawn, then the rest the footer counts.
    await frame.getByTestId('export-daid').click();
    const daidFile = await answerSaveDialog(vs, 'daid-e2e.json', { title: 'Export DAiD distribution' });
    const daid = JSON.parse(await readWritten(daidFile)) as {
      kind: string;
      about: Record<string, unknown>;
      rows: { rank: number; token: number; p: number; true_token: boolean }[];
    };
    assert.equal(daid.kind, 'daid');
    assert.deepEqual([daid.about.image, daid.about.row, daid.about.col, daid.about.k], [names[2], 2, 4, K]);
    for (const b of bars) {
      const r = daid.rows[b.rank - 1];
      assert.deepEqual([r.rank, r.token], [b.rank, b.token], `bar of rank ${b.rank}`);
      assert.ok(Math.abs(r.p - b.p) < 1e-9, `p of rank ${b.rank}`);
      assert.equal(r.true_token, b.token === trueToken);
    }
    assert.equal(daid.rows.length, bars.length + rest.count, 'the bars and the footer account for every exported token once');
    const sum = daid.rows.reduce((a, r) => a + r.p, 0);
    assert.ok(Math.abs(sum - 1) < 1e-6, `the shares sum to 1 (${sum})`);
    assert.ok(Math.abs(bars.reduce((a, b) => a + b.p, 0) + rest.p - 1) < 1e-6, 'the chart shows the same shares');
    assert.equal(new Set(daid.rows.map((r) => r.token)).size, daid.rows.length, 'each token once');
    // The retrieved tokens are the DAiD tokens.
    assert.deepEqual(new Set(daid.rows.map((r) => r.token)), new Set(shown.map((s) => s.token)));

    // The palette command offers the active inspector's query too; saved as JSON it holds the CSV's rows.
    await vs.runCommand('Patch Lens: Export Results…');
    const widget = vs.page.locator('.quick-input-widget');
    await widget.getByRole('option', { name: /Codebook usage/ }).waitFor();
    // Titled as the other pickers are: no "Patch Lens:" prefix.
    assert.equal((await widget.locator('.quick-input-title').innerText()).trim(), 'Export Results');
    await widget.getByRole('option', { name: new RegExp(`Retrieved patches of ${names[2].replace('.', '\\.')} \\(2, 4\\)`) }).click();
    const viaCommand = JSON.parse(await readWritten(await answerSaveDialog(vs, 'retrieved-e2e.json'))) as { kind: string; rows: Record<string, unknown>[] };
    assert.equal(viaCommand.kind, 'retrieved');
    assert.deepEqual(
      viaCommand.rows.map((r) => [r.rank, r.image, r.row, r.col, r.token]),
      shown.map((s, i) => [i + 1, s.image, s.row, s.col, s.token]),
    );

    // The dataset's codebook usage: every code once, counting every patch of the 10 images (6×6 tokens each).
    await vs.runCommand('Patch Lens: Export Results…');
    await widget.getByRole('option', { name: /Codebook usage/ }).click();
    const codebook = await readWritten(await answerSaveDialog(vs, 'codebook-e2e.csv', { title: 'Export codebook usage' }));
    const cb = codebook
      .trimEnd()
      .split('\r\n')
      .slice(1)
      .map((l) => l.split(','))
      .map(([token, count, share, dead]) => ({ token: Number(token), count: Number(count), share: Number(share), dead }));
    assert.equal(cb.length, 64, 'one row per code of the 64-code model');
    assert.deepEqual(
      cb.map((r) => r.token).sort((a, b) => a - b),
      Array.from({ length: 64 }, (_, i) => i),
    );
    assert.equal(
      cb.reduce((a, r) => a + r.count, 0),
      10 * 36,
      'every patch counted once',
    );
    for (let i = 1; i < cb.length; i++) assert.ok(cb[i - 1].count >= cb[i].count, 'most used first');
    for (const r of cb) assert.equal(r.dead, String(r.count === 0));
    for (const s of shown) assert.ok(cb.find((r) => r.token === s.token)!.count > 0, `retrieved token ${s.token} is used`);

    // Predictability: computed first (the command says so when there is none), then exported as the log reported it.
    await vs.runCommand('Patch Lens: Compute Retrieval Predictability');
    await widget.getByRole('option', { name: /of the images held out.*recommended/ }).click();
    const line = await vs.waitForLog(/Predictability of .*: top-1 /, { timeoutMs: 120_000 });
    await vs.runCommand('Patch Lens: Export Results…');
    await widget.getByRole('option', { name: /Retrieval predictability/ }).click();
    const pred = JSON.parse(await readWritten(await answerSaveDialog(vs, 'predictability-e2e.json', { title: 'Export retrieval predictability' }))) as {
      kind: string;
      about: Record<string, unknown>;
      rows: { metric: string; value: number | string }[];
    };
    assert.equal(pred.kind, 'predictability');
    assert.deepEqual([pred.about.dataset, pred.about.images], ['workspace', 10]);
    const metric = (m: string) => pred.rows.find((r) => r.metric === m)?.value;
    for (const m of ['top1', 'top5', 'coverage', 'mostFrequent', 'chance', 'queries', 'heldOutImages', 'k', 'fraction'])
      assert.notEqual(metric(m), undefined, `the ${m} row`);
    assert.ok(line.includes(`top-1 ${formatPercent(Number(metric('top1')))}, top-5 ${formatPercent(Number(metric('top5')))}`), line);
    assert.ok(line.includes(`over ${formatCount(Number(metric('queries')))} queries of ${formatCount(Number(metric('heldOutImages')))} held-out images`), line);
    assert.equal(metric('chance'), 1 / 64);
    await vs.screenshot('export-saved');
    // The database folder beside the exports: on disk, ignored by git, hidden from the Explorer (files.exclude default).
    assert.match(fs.readFileSync(path.join(vs.workspace, '.patchlens', '.gitignore'), 'utf8'), /^\*$/m);
    const explorer = vs.page.locator('.explorer-folders-view');
    await explorer.getByRole('treeitem', { name: 'predictability-e2e.json', exact: true }).waitFor();
    assert.equal(await explorer.getByRole('treeitem', { name: '.patchlens', exact: true }).count(), 0, 'the Explorer hides .patchlens');
    assert.doesNotMatch(vs.logs().patchLens, /Export of .* failed|\[error\]/);
  },
);

/** The text of a file the extension writes (it writes after the dialog closed). */
async function readWritten(file: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  while (!fs.existsSync(file) || fs.statSync(file).size === 0) {
    if (Date.now() > deadline) throw new Error(`${file} was not written`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return fs.readFileSync(file, 'utf8');
}

/** The notification an export ends with. */
async function exportedToast(rows: number, file: string): Promise<void> {
  await vs.page
    .locator('.notification-toast')
    .filter({ hasText: `Patch Lens: exported ${formatCount(rows)} rows to ${file}.` })
    .first()
    .waitFor({ timeout: 30_000 });
}

test("the image preview's title button and the palette open the active image in the inspector", { timeout: 3 * 60_000 }, async () => {
  await vs.openFile(names[5]);
  // VS Code's own image preview is the default editor.
  await vs.page.locator('.tabs-container .tab.active', { hasText: names[5] }).waitFor();
  const button = vs.page.locator('.editor-actions').getByRole('button', { name: 'Inspect Patches' });
  await button.waitFor({ timeout: 30_000 });
  await vs.screenshot('image-preview-button');
  await button.click();
  await inspector(names[5]);

  await vs.openFile(names[6]);
  await vs.runCommand('Patch Lens: Inspect Patches');
  await inspector(names[6]);
});

test('the palette with no image open asks for one', { timeout: 3 * 60_000 }, async () => {
  await vs.runCommand('View: Close All Editors');
  await vs.runCommand('Patch Lens: Inspect Patches');
  const option = vs.page
    .locator('.quick-input-widget')
    .getByRole('option', { name: new RegExp(names[9]) })
    .first();
  await option.waitFor();
  await vs.screenshot('palette-pick');
  await option.click();
  await inspector(names[9]);
});

test('multi-select in the explorer opens an inspector for each image', { timeout: 3 * 60_000 }, async () => {
  await vs.runCommand('View: Close All Editors');
  // A click opens the image's preview, and the explorer then reveals (selects) the active
  // file: wait for that before adding to the selection, or it resets it.
  await vs.openFile(names[7]);
  const b = await vs.explorerItem(names[8]);
  await b.click({ modifiers: ['Control'] });
  for (const n of [names[7], names[8]]) {
    await vs.page.locator('.explorer-folders-view').getByRole('treeitem', { name: n, exact: true, selected: true }).waitFor({ timeout: 10_000 });
  }
  await vs.rightClickExplorerItem(names[8], 'Inspect Patches');
  // Two inspectors (custom-editor tabs) besides the first click's image preview; they
  // open in selection order, so once the second's tab is there the first's is too.
  await vs.page.locator('.tabs-container .tab', { hasText: names[8] }).first().waitFor({ timeout: 30_000 });
  for (const n of [names[8], names[7]]) {
    const tab = vs.page.locator('.tabs-container .tab', { hasText: n }).last();
    await tab.waitFor({ timeout: 30_000 });
    await tab.click();
    await inspector(n);
  }
  await vs.screenshot('multi-select');
});
