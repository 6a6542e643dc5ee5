// A row of an AR-RAG code shard (h5py, AR-RAG's layout: tokens and latents, no
// pixels) in the inspector against the real engine, with a model that has a
// decoder: the picture is the row's token map, and the reconstruction pane
// shows what the decoder makes of the row's tokens, without an error map
// (there are no pixels to compare with).
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineClient } from '../../src/engine/engineClient';
import { Tokenizer } from '../../src/engine/tokenizer';
import { tokenMapPng } from '../../src/engine/tokenMap';
import { tempDir } from '../support/fixtures';
import { writeTinyModel } from '../support/tinyModel';
import { closeBrowser, openWebview } from '../support/webviewHarness';
import { bridgeSession } from './sessionBridge';

const work = tempDir();
const root = path.join(work, 'codes');
const dbDir = path.join(root, '.patchlens');
let model = '';
let engine: EngineClient;
let tokens: number[][] = [];

before(
  async () => {
    // 96 px input, 16 px patches: a 6x6 grid of d = 4 latents, 64 codes
    model = writeTinyModel(path.join(work, 'model'), { size: 96, patch: 16, dim: 4, codes: 64, decoder: true });
    fs.mkdirSync(root);
    const made = execFileSync(
      '/usr/bin/python3',
      [
        '-c',
        `
import h5py, json, numpy as np
rng = np.random.default_rng(9)
t = rng.integers(0, 64, (3, 36)).astype(np.int64)
v = rng.standard_normal((3, 36, 4)).astype(np.float32)
with h5py.File(${JSON.stringify(path.join(root, 'shard-0.h5'))}, 'w') as f:
    f.create_dataset('indices', data=t)
    f.create_dataset('vectors', data=v / np.linalg.norm(v, axis=-1, keepdims=True))
print(json.dumps(t.tolist()))
`,
      ],
      { encoding: 'utf8' },
    );
    tokens = JSON.parse(made) as number[][];
    engine = new EngineClient();
    const r = await engine.request('build', { root, dbDir, model }, { timeoutMs: 120_000 });
    assert.equal(r.images, 3);
  },
  { timeout: 180_000 },
);

after(async () => {
  await closeBrowser();
  await engine?.dispose();
});

test("a code row: its token map, and the reconstruction of its tokens by the model's decoder, with no error map", { timeout: 120_000 }, async () => {
  // what the extension's read-only file system serves for the row: its token map
  const w = await openWebview({ name: 'code-row', bundle: 'inspector', resources: { 'shard-0.h5/2': await tokenMapPng(tokens[2]) } });
  try {
    const bridge = bridgeSession(w, path.join(root, 'shard-0.h5', '2'), { engine, root, dbDir, model, settings: { topK: 4 } });
    const grid = w.page.locator('[data-testid="patch-grid"][data-rows]');
    await grid.waitFor({ timeout: 60_000 });
    assert.deepEqual([await grid.getAttribute('data-rows'), await grid.getAttribute('data-cols')], ['6', '6']);
    await w.page.getByTestId('tool-split-horizontal').click();
    const canvas = w.page.getByTestId('reconstruction-image');
    await canvas.waitFor({ timeout: 60_000 });
    assert.match((await w.page.getByTestId('reconstruction-note').textContent()) ?? '', /tokens only/);
    assert.equal(await w.page.getByTestId('error-heatmap').count(), 0);
    assert.equal(await w.page.getByTestId('reconstruction-stats').count(), 0);
    const shown = await canvas.evaluate((c: HTMLCanvasElement) => ({
      width: c.width,
      height: c.height,
      rgba: Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data),
    }));
    // what the decoder makes of row 2's tokens, run here on its own
    const tok = await Tokenizer.load(model);
    const want = await tok.reconstruct(Int32Array.from(tokens[2]));
    assert.deepEqual([shown.width, shown.height], [96, 96]);
    let worst = 0;
    for (let p = 0; p < 96 * 96; p++) for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(shown.rgba[p * 4 + c] - want[p * 3 + c]));
    assert.ok(worst <= 2, `the pane shows another picture than the decoder's (largest difference ${worst})`);
    // another row's tokens decode to another picture: the comparison can tell them apart
    const other = await tok.reconstruct(Int32Array.from(tokens[0]));
    assert.ok(other.some((v, i) => Math.abs(v - want[i]) > 8));
    await w.screenshot('code-row-reconstruction');
    assert.deepEqual(w.errors, []);
    assert.deepEqual(
      bridge.logs.filter((l) => l.level !== 'info'),
      [],
    );
  } finally {
    await w.close();
  }
});
