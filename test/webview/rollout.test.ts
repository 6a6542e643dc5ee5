// The inspector's Rollout mode against the real engine: a database indexed from
// painted images whose tokens are chosen by hand (test/support/paintedTokens.ts),
// the engine worker, the host session and the bundle in Chromium. q continued
// from (4, 0) is known to copy a's region, so the page must say exactly that.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineClient } from '../../src/engine/engineClient';
import { tempDir } from '../support/fixtures';
import { PAINTED, paintTokens, randomTokens, writePaintedModel } from '../support/paintedTokens';
import { closeBrowser, openWebview } from '../support/webviewHarness';
import { bridgeSession } from './sessionBridge';

const work = tempDir();
const root = path.join(work, 'painted');
const dbDir = path.join(root, '.patchlens');
const side = PAINTED.side;
let model = '';
let engine: EngineClient;
let a: Int32Array;
const resources: Record<string, Uint8Array> = {};

before(
  async () => {
    model = writePaintedModel(path.join(work, 'model'), { decoder: true });
    fs.mkdirSync(root, { recursive: true });
    a = randomTokens(11);
    const q = Int32Array.from(a);
    for (const cell of [4 * side + 2, 6 * side + 5]) q[cell] = (a[cell] + 1) % PAINTED.codes;
    await paintTokens(a, path.join(root, 'a.png'));
    await paintTokens(q, path.join(root, 'q.png'));
    for (let i = 0; i < 4; i++) await paintTokens(randomTokens(200 + i), path.join(root, `r${i}.png`));
    engine = new EngineClient();
    await engine.request('build', { root, dbDir, model, keys: { source: 'code' }, workers: 1 }, { timeoutMs: 120_000 });
    for (const f of fs.readdirSync(root)) if (f.endsWith('.png')) resources[f] = fs.readFileSync(path.join(root, f));
  },
  { timeout: 180_000 },
);

after(async () => {
  await closeBrowser();
  await engine?.dispose();
});

test(
  "Rollout: from the selected cell, the decoded rollout beside the original, sources, copy indicators, steps, a cell's source",
  { timeout: 120_000 },
  async () => {
    const w = await openWebview({ name: 'rollout', bundle: 'inspector', resources });
    const bridge = bridgeSession(w, path.join(root, 'q.png'), { engine, root, dbDir, model, settings: { topK: 4 } });
    try {
      await w.page.locator('[data-testid="patch-grid"][data-rows]').waitFor({ timeout: 60_000 });
      await w.clickCell(4, 0);
      await w.page.getByTestId('rollout-start').filter({ hasText: 'Starts at (4, 0)' }).waitFor();
      await w.page.getByTestId('rollout-run').click();
      const sent = await w.waitForMessage((m) => m.type === 'rollout');
      assert.deepEqual([sent.row, sent.col, sent.mode, sent.k, sent.excludeSelf], [4, 0, 'greedy', 64, true]);
      const pane = w.page.locator('[data-testid="rollout-pane"]:not([hidden])');
      await pane.waitFor({ timeout: 60_000 });
      assert.equal(await pane.getAttribute('data-decoded'), 'true');
      const size = await w.page.getByTestId('rollout-image').evaluate((c) => [(c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height]);
      assert.deepEqual(size, [PAINTED.size, PAINTED.size]);
      // every generated cell came from a.png, at the same place: one source, one copied run of 4 rows x 6 columns
      const legend = w.page.getByTestId('rollout-legend-item');
      assert.equal(await legend.count(), 1);
      assert.deepEqual([await legend.getAttribute('data-image'), await legend.getAttribute('data-cells')], ['a.png', '24']);
      await w.page.locator('.legend-thumb[src^="blob:"]').waitFor();
      const ind = w.page.getByTestId('rollout-indicators');
      assert.deepEqual(
        [
          Number(await ind.getAttribute('data-agreement')),
          Number(await ind.getAttribute('data-top-share')),
          Number(await ind.getAttribute('data-longest-run')),
        ],
        [22 / 24, 1, 24],
      );
      assert.match((await w.page.getByTestId('rollout-longest-run').textContent()) ?? '', /24 cells · a\.png/);

      // stepping: step 4 is cell (4, 3), its token is a's and the DAiD chart shows its candidates
      const disabled = (id: string) => w.page.getByTestId(id).evaluate((b) => (b as HTMLElement & { disabled: boolean }).disabled);
      const slider = w.page.getByTestId('rollout-slider');
      assert.equal(await slider.getAttribute('max'), String(side * side - 4 * side));
      await slider.fill('4');
      await w.page
        .getByTestId('rollout-step')
        .filter({ hasText: `Step 4 of 32: (4, 3) → token ${a[4 * side + 3]}` })
        .waitFor();
      assert.equal(Number(await w.page.getByTestId('daid-bar').first().getAttribute('data-token')), a[4 * side + 3]);
      // The DAiD export saves the query's distribution, which the chart no longer shows; the list still shows the
      // query's answer (its export on, as both are once a query answers).
      assert.equal(await disabled('export-daid'), true, 'no DAiD export while the chart shows a rollout step');
      assert.equal(await disabled('export-retrieved'), false);
      await w.page.getByTestId('rollout-play').click();
      await w.page.getByTestId('rollout-step').filter({ hasText: 'Step 32 of 32' }).waitFor({ timeout: 20_000 });

      // a click on a generated cell shows its source patch as the retrieved list does; activating it opens it
      const box = (await w.page.getByTestId('rollout-overlay').boundingBox())!;
      await w.page.mouse.click(box.x + ((2 + 0.5) / side) * box.width, box.y + ((5 + 0.5) / side) * box.height);
      const source = w.page.getByTestId('rollout-source').getByTestId('retrieved-item');
      await source.waitFor();
      assert.deepEqual(
        [
          await source.getAttribute('data-image'),
          await source.getAttribute('data-row'),
          await source.getAttribute('data-col'),
          await source.getAttribute('data-distance'),
        ],
        ['a.png', '5', '2', '0'],
      );
      await w.page.getByTestId('rollout-step').filter({ hasText: 'Step 11 of 32: (5, 2)' }).waitFor();
      await source.click();
      assert.deepEqual(await bridge.waitForOpened(), [{ file: path.join(root, 'a.png'), row: 5, col: 2 }]);
      // a click while it plays stops playback at the clicked cell's step (a step chosen is not moved on from)
      await w.page.getByTestId('rollout-play').click();
      await w.page
        .getByTestId('rollout-step')
        .filter({ hasText: /Step 1[2-9] of 32/ })
        .waitFor();
      await w.page.mouse.click(box.x + ((2 + 0.5) / side) * box.width, box.y + ((5 + 0.5) / side) * box.height);
      await w.page.waitForTimeout(800);
      assert.match((await w.page.getByTestId('rollout-step').textContent()) ?? '', /^Step 11 of 32: \(5, 2\)/);

      // sampled, with a seed: the host receives the choice
      await w.page.getByTestId('rollout-mode').selectOption('sample');
      await w.page.getByTestId('rollout-seed').fill('7');
      await w.page.getByTestId('rollout-run').click();
      const sampled = await w.waitForMessage((m) => m.type === 'rollout' && m.mode === 'sample');
      assert.equal(sampled.seed, 7);
      await w.page.getByTestId('rollout-message').filter({ hasText: 'Sampled (seed 7)' }).waitFor({ timeout: 30_000 });
      await w.screenshot('rollout');
      assert.deepEqual(w.errors, []);
      assert.deepEqual(
        bridge.logs.filter((l) => l.level !== 'info'),
        [],
      );
    } finally {
      await w.close();
    }
  },
);
