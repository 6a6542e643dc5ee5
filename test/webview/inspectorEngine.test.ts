// The inspector webview against the real engine: a dataset indexed with a
// small ONNX tokenizer (with decoder), the engine worker, the host session,
// and the bundle in Chromium. What a user sees must be what the database says.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineClient } from '../../src/engine/engineClient';
import { tempDir, texturedImage, writeDataset } from '../support/fixtures';
import { writeTinyModel } from '../support/tinyModel';
import { closeBrowser, openWebview, type WebviewPage } from '../support/webviewHarness';
import { bridgeSession } from './sessionBridge';

const work = tempDir();
const root = path.join(work, 'photos');
const dbDir = path.join(root, '.patchlens');
let model = '';
let engine: EngineClient;
const resources: Record<string, Uint8Array> = {};

before(
  async () => {
    model = writeTinyModel(path.join(work, 'model'), { size: 96, patch: 16, dim: 4, codes: 64, decoder: true });
    const names = await writeDataset(root, 8, { seed: 5 });
    engine = new EngineClient();
    const r = await engine.request('build', { root, dbDir, model }, { timeoutMs: 120_000 });
    assert.equal(r.images, 8);
    // Added after the build: not in the database, tokenized when inspected.
    await (await texturedImage(120, 90, 77)).png().toFile(path.join(root, 'new.png'));
    for (const n of [...names, 'new.png']) resources[n] = fs.readFileSync(path.join(root, n));
  },
  { timeout: 180_000 },
);

after(async () => {
  await closeBrowser();
  await engine?.dispose();
});

async function inspect(name: string, file: string): Promise<{ w: WebviewPage; bridge: ReturnType<typeof bridgeSession> }> {
  const w = await openWebview({ name, bundle: 'inspector', resources });
  const bridge = bridgeSession(w, path.join(root, file), { engine, root, dbDir, model, settings: { topK: 6 } });
  await w.page.locator('[data-testid="patch-grid"][data-rows]').waitFor({ timeout: 60_000 });
  return { w, bridge };
}

test('an indexed image: the model grid, a query that matches the engine, thumbnails, and opening a retrieved patch', { timeout: 120_000 }, async () => {
  const { w, bridge } = await inspect('engine-indexed', 'img-02.png');
  try {
    const grid = w.page.locator('[data-testid="patch-grid"]');
    assert.equal(await grid.getAttribute('data-rows'), '6');
    assert.equal(await grid.getAttribute('data-cols'), '6');
    await w.clickCell(3, 3);
    const items = w.page.getByTestId('retrieved-item');
    await items.nth(5).waitFor();
    const shown = await items.evaluateAll((es) =>
      es.map((e) => ({
        image: e.getAttribute('data-image'),
        row: Number(e.getAttribute('data-row')),
        col: Number(e.getAttribute('data-col')),
        token: Number(e.getAttribute('data-token')),
      })),
    );
    const direct = await engine.request('query', {
      dbDir,
      image: path.join(root, 'img-02.png'),
      row: 3,
      col: 3,
      options: { k: 6, excludeSelf: true, queryKeys: 'latent', temperature: 1 },
      model,
    });
    assert.deepEqual(
      shown,
      direct.results.map((r) => ({ image: r.image, row: r.row, col: r.col, token: r.token })),
    );
    assert.ok(
      shown.every((s) => s.image !== 'img-02.png'),
      'exclude this image',
    );
    assert.equal(await w.page.getByTestId('daid-bar').count(), direct.distribution.length);
    await w.page.locator('.thumb-image[src^="blob:"]').first().waitFor();
    await items.first().click();
    assert.deepEqual(await bridge.waitForOpened(), [{ file: path.join(root, shown[0].image!), row: shown[0].row, col: shown[0].col }]);
    // Unticking "Exclude this image" searches again, its own patches allowed.
    await w.page.getByTestId('exclude-self').click();
    await w.waitForMessage((m) => m.type === 'query' && m.excludeSelf === false);
    await w.page.locator('[data-testid="retrieved-header"]', { hasText: '6 nearest' }).waitFor();
    await w.screenshot('indexed');
    assert.deepEqual(w.errors, []);
    assert.deepEqual(
      bridge.logs.filter((l) => l.level !== 'info'),
      [],
    );
  } finally {
    await w.close();
  }
});

test('the opened image selects the retrieved patch and shows its neighbourhood', { timeout: 120_000 }, async () => {
  const w = await openWebview({ name: 'engine-open', bundle: 'inspector', resources });
  try {
    const bridge = bridgeSession(w, path.join(root, 'img-05.png'), { engine, root, dbDir, model, settings: { topK: 6 } });
    bridge.session.select(4, 2); // what the editor provider does for a retrieved patch
    const sel = w.page.locator('[data-testid="selected-patch"]');
    await sel.waitFor({ timeout: 60_000 });
    assert.deepEqual([await sel.getAttribute('data-row'), await sel.getAttribute('data-col')], ['4', '2']);
    assert.equal(await w.page.getByTestId('neighbour-cell').count(), 4);
    await w.page.getByTestId('retrieved-item').first().waitFor();
    assert.deepEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

test('an image not in the database is tokenized on the fly and searched; the reconstruction has an error map', { timeout: 120_000 }, async () => {
  const { w, bridge } = await inspect('engine-new', 'new.png');
  try {
    assert.match((await w.page.getByTestId('patch-info').textContent()) ?? '', /not loaded|No patch selected/);
    await w.clickCell(2, 4);
    await w.page.getByTestId('retrieved-item').nth(5).waitFor({ timeout: 30_000 });
    assert.match((await w.page.getByTestId('patch-info').textContent()) ?? '', /not in the database/);
    await w.page.getByTestId('tool-split-horizontal').click();
    const stats = w.page.getByTestId('reconstruction-stats');
    await stats.waitFor({ timeout: 60_000 });
    assert.ok(Number.isFinite(Number(await stats.getAttribute('data-psnr'))));
    await w.screenshot('new-image');
    assert.deepEqual(w.errors, []);
    assert.deepEqual(
      bridge.logs.filter((l) => l.level !== 'info'),
      [],
    );
  } finally {
    await w.close();
  }
});
