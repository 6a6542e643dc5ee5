// The inspector webview bundle in Chromium, with a scripted host: the grid,
// selection by click and keyboard, the neighbourhood geometry for every shape
// and h (against src/core/neighbourhood.ts), the retrieved list and DAiD
// bars, hostile file names, invalid messages, view state across reloads,
// status screens, reconstruction, and the page's CSP.
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { neighbourOffsets, type NeighbourhoodShape } from '../../src/core/neighbourhood';
import { tokenColour } from '../../webview/shared/tokenColour';
import { DOUBLE_CLICK_MS } from '../../webview/inspector/retrievedList';
import { formatDistance } from '../../src/core/format';
import * as v from 'valibot';
import { inspectorToHostSchema } from '../../src/protocol';
import { closeBrowser, openWebview, type WebviewOptions, type WebviewPage } from '../support/webviewHarness';
import { attachFakeHost, DATABASE, gridCells, gridTokens, HOSTILE_NAMES, IMAGE, SETTINGS, testImagePng, type FakeHostOptions } from './fakeInspectorHost';

after(closeBrowser);

const GRID = '[data-testid="patch-grid"][data-rows]';

async function open(
  name: string,
  host: FakeHostOptions = {},
  opts: Partial<WebviewOptions> = {},
): Promise<{ w: WebviewPage; host: Awaited<ReturnType<typeof attachFakeHost>> }> {
  const w = await openWebview({ name, bundle: 'inspector', resources: { 'cat.png': await testImagePng() }, ...opts });
  const h = await attachFakeHost(w, host);
  return { w, host: h };
}

/** The page posted no console errors and broke no CSP rule. */
async function assertClean(w: WebviewPage): Promise<void> {
  assert.deepEqual(w.errors, []);
  assert.deepEqual(await w.cspViolations(), []);
}

function selected(w: WebviewPage) {
  return w.page
    .locator('[data-testid="selected-patch"]')
    .evaluate((e) => ({ row: Number(e.getAttribute('data-row')), col: Number(e.getAttribute('data-col')), token: Number(e.getAttribute('data-token')) }));
}

test('draws the image with its grid: data-rows/cols, the model-view rectangle, the title and database', async () => {
  const { w } = await open('grid');
  try {
    const grid = w.page.locator(GRID);
    await grid.waitFor();
    assert.equal(await grid.getAttribute('data-rows'), String(IMAGE.rows));
    assert.equal(await grid.getAttribute('data-cols'), String(IMAGE.cols));
    // A 400x240 image centre-cropped to a 4:3 input: the model sees x = 40..360.
    assert.equal(await grid.getAttribute('data-view-x'), '40');
    assert.equal(await grid.getAttribute('data-view-width'), '320');
    assert.equal(await w.page.getByTestId('image-name').textContent(), 'cat.png');
    assert.match((await w.page.getByTestId('database-info').textContent()) ?? '', /tiny-test · 6×8 · 360 entries/);
    assert.equal(await w.page.getByTestId('status').isHidden(), true);
    // The image is drawn under the grid at the same size (VS Code's default img max-width must not shrink it).
    const imageBox = (await w.page.locator('.stage .image').boundingBox())!;
    const gridBox = (await grid.boundingBox())!;
    assert.ok(Math.abs(imageBox.width - gridBox.width) < 1 && Math.abs(imageBox.height - gridBox.height) < 1, JSON.stringify({ imageBox, gridBox }));
    assert.ok(imageBox.width > 400, 'fitted to the view');
    assert.equal(await w.page.locator('.stage .image').evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth), IMAGE.width);
    // Grid lines: one vertical per column edge, one horizontal per row edge.
    const d = (await w.page.locator('.grid-lines').getAttribute('d')) ?? '';
    assert.equal((d.match(/V/g) ?? []).length, IMAGE.cols + 1);
    assert.equal((d.match(/H/g) ?? []).length, IMAGE.rows + 1);
    const usage = w.page.getByTestId('token-usage');
    assert.equal(await usage.getAttribute('data-distinct'), String(new Set(gridTokens()).size));
    await w.screenshot('loaded');
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('DAiD chart: a true token ranked below the cut is drawn once; bars and the rest sum to 100%; every bar track is the same length', async () => {
  // 20 distinct tokens, the true one retrieved 16th: 12 bars, the true token as a 13th, 7 more.
  const { w, host } = await open('daid-true-below-cut', { resultCount: 20, resultToken: (i, t) => (i === 15 ? t : (t + 1 + i) % 23) });
  try {
    await w.page.locator(GRID).waitFor();
    await w.clickCell(1, 1);
    await w.page.getByTestId('daid-bar').first().waitFor();
    await w.page.getByTestId('daid-more').waitFor();
    const reply = host.queries[0].reply;
    assert.equal(reply.distribution.length, 20);
    const rank = reply.distribution.findIndex((d) => d.token === reply.token) + 1;
    assert.ok(rank > 12, `true token at rank ${rank}`);
    const bars = w.page.getByTestId('daid-bar');
    assert.equal(await bars.count(), 13);
    const drawn = await bars.evaluateAll((els) => els.map((e) => ({ token: Number(e.getAttribute('data-token')), p: Number(e.getAttribute('data-p')) })));
    assert.equal(drawn.filter((b) => b.token === reply.token).length, 1, 'the true token is drawn once');
    const more = w.page.getByTestId('daid-more');
    assert.equal(Number(await more.getAttribute('data-count')), 20 - 13);
    assert.match((await more.textContent()) ?? '', /^7 more tokens/);
    const total = drawn.reduce((a, b) => a + b.p, 0) + Number(await more.getAttribute('data-p'));
    assert.ok(Math.abs(total - 1) < 1e-5, `shares sum to ${total}`);
    // The true-token badge does not shorten its row's bar track.
    const widths = await w.page.locator('.daid-bar .bar-track').evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().width)));
    assert.equal(new Set(widths).size, 1, JSON.stringify(widths));
    await w.screenshot('daid-true-below-cut');
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('a click selects the patch under it and queries it; the list and DAiD bars show the answer', async () => {
  const { w, host } = await open('select-click');
  try {
    await w.page.locator(GRID).waitFor();
    await w.clickCell(2, 3);
    const q = await w.waitForMessage((m) => m.type === 'query');
    assert.deepEqual({ row: q.row, col: q.col, k: q.k, excludeSelf: q.excludeSelf }, { row: 2, col: 3, k: SETTINGS.topK, excludeSelf: true });
    assert.equal(typeof q.messageId, 'number');
    assert.deepEqual(await selected(w), { row: 2, col: 3, token: gridTokens()[2 * IMAGE.cols + 3] });
    const items = w.page.getByTestId('retrieved-item');
    await items.nth(SETTINGS.topK - 1).waitFor();
    assert.equal(await items.count(), SETTINGS.topK);
    const reply = host.queries[0].reply;
    for (let i = 0; i < SETTINGS.topK; i++) {
      const a = await items.nth(i).evaluate((e) => ({ ...(e as HTMLElement).dataset }));
      assert.equal(a.image, reply.results[i].image);
      assert.equal(Number(a.row), reply.results[i].row);
      assert.equal(Number(a.col), reply.results[i].col);
      assert.equal(Number(a.token), reply.results[i].token);
      assert.ok(Math.abs(Number(a.distance) - reply.results[i].distance) < 1e-6);
    }
    // DAiD: one bar per retrieved token, largest first, the true token marked with its rank.
    const bars = w.page.getByTestId('daid-bar');
    assert.equal(await bars.count(), reply.distribution.length);
    for (let i = 0; i < reply.distribution.length; i++) {
      assert.equal(Number(await bars.nth(i).getAttribute('data-token')), reply.distribution[i].token);
      assert.ok(Math.abs(Number(await bars.nth(i).getAttribute('data-p')) - reply.distribution[i].p) < 1e-6);
    }
    const rank = reply.distribution.findIndex((d) => d.token === reply.token) + 1;
    assert.ok(rank > 0);
    assert.equal(await w.page.locator('.daid').getAttribute('data-true-rank'), String(rank));
    assert.equal(await w.page.locator('.daid-bar.true-token').getAttribute('data-token'), String(reply.token));
    assert.match((await w.page.getByTestId('daid-summary').textContent()) ?? '', new RegExp(`is rank ${rank} of ${reply.distribution.length}`));
    // Thumbnails: a crop request per visible row; each shows the patch outlined.
    await w.waitForMessage((m) => m.type === 'crop');
    await w.page.locator('.thumb-patch:not([hidden])').first().waitFor();
    const crop = w.sent.find((m) => m.type === 'crop')!;
    assert.deepEqual(
      { image: crop.image, row: crop.row, col: crop.col },
      { image: reply.results[0].image, row: reply.results[0].row, col: reply.results[0].col },
    );
    await w.screenshot('selected');
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('the neighbourhood drawn matches src/core/neighbourhood.ts for h = 1..3, causal and ring, and redraws at once', async () => {
  const { w } = await open('neighbourhood');
  try {
    await w.page.locator(GRID).waitFor();
    const cells = [
      [0, 0],
      [2, 3],
      [5, 7],
      [3, 0],
      [0, 5],
      [4, 6],
    ];
    for (const [row, col] of cells) {
      await w.clickCell(row, col);
      for (const shape of ['causal', 'ring'] as NeighbourhoodShape[]) {
        for (const hops of [1, 2, 3]) {
          // Set both selects and read the drawn cells in the same task: no waiting for a redraw.
          const drawn = await w.page.evaluate(
            ([s, h]) => {
              const shapeSel = document.querySelector('[data-testid="select-shape"]') as HTMLElement & { value: string };
              const hopsSel = document.querySelector('[data-testid="select-hops"]') as HTMLElement & { value: string };
              shapeSel.value = s;
              shapeSel.dispatchEvent(new Event('change'));
              hopsSel.value = h;
              hopsSel.dispatchEvent(new Event('change'));
              return [...document.querySelectorAll('[data-testid="neighbour-cell"]')].map((e) => [
                Number(e.getAttribute('data-row')),
                Number(e.getAttribute('data-col')),
                Number(e.getAttribute('data-order')),
              ]);
            },
            [shape, String(hops)],
          );
          const expected: number[][] = [];
          neighbourOffsets(shape, hops).forEach((o, i) => {
            const r = row + o.dr;
            const c = col + o.dc;
            if (r >= 0 && r < IMAGE.rows && c >= 0 && c < IMAGE.cols) expected.push([r, c, i + 1]);
          });
          assert.deepEqual(drawn, expected, `${shape} h=${hops} at (${row}, ${col})`);
        }
      }
    }
    // A drawn neighbourhood other than the database's is pointed out.
    assert.match((await w.page.getByTestId('keys-differ').textContent()) ?? '', /causal, h = 1/);
    await w.clickCell(3, 4);
    await w.screenshot('ring-h3');
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('the keyboard moves the selection (arrows) and queries it (Enter)', async () => {
  const { w } = await open('keyboard');
  try {
    await w.page.locator(GRID).waitFor();
    await w.clickCell(1, 1);
    await w.waitForMessage((m) => m.type === 'query' && m.row === 1 && m.col === 1);
    const before = w.sent.filter((m) => m.type === 'query').length;
    for (const key of ['ArrowRight', 'ArrowRight', 'ArrowDown']) await w.page.keyboard.press(key);
    assert.deepEqual(await selected(w), { row: 2, col: 3, token: gridTokens()[2 * IMAGE.cols + 3] });
    assert.equal(w.sent.filter((m) => m.type === 'query').length, before, 'arrows do not query');
    assert.match((await w.page.getByTestId('patch-info').textContent()) ?? '', /Press Enter to search/);
    // The neighbourhood follows the selection.
    const n = await w.page
      .locator('[data-testid="neighbour-cell"]')
      .evaluateAll((es) => es.map((e) => `${e.getAttribute('data-row')},${e.getAttribute('data-col')}`));
    assert.deepEqual(n, ['1,2', '1,3', '1,4', '2,2']);
    await w.page.keyboard.press('Enter');
    await w.waitForMessage((m) => m.type === 'query' && m.row === 2 && m.col === 3);
    // Arrows stop at the grid's edge.
    for (let i = 0; i < 10; i++) await w.page.keyboard.press('ArrowUp');
    assert.equal((await selected(w)).row, 0);
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('activating a retrieved patch asks the host to open it (a click: the preview; a double click: a kept tab, one open only); hover shows the patch tooltip', async () => {
  const { w, host } = await open('open-patch');
  try {
    await w.page.locator(GRID).waitFor();
    const p = await w.cellPoint(4, 5);
    await w.page.mouse.move(p.x, p.y);
    const tip = w.page.locator('.patch-tooltip');
    await tip.waitFor();
    assert.equal(await tip.getAttribute('data-row'), '4');
    assert.equal(await tip.getAttribute('data-col'), '5');
    assert.equal(await w.page.getByTestId('tooltip-token').textContent(), String(gridTokens()[4 * IMAGE.cols + 5]));
    assert.match((await tip.textContent()) ?? '', /Distance to code/);
    await w.clickCell(4, 5);
    await w.page.getByTestId('retrieved-item').nth(2).click();
    const o = await w.waitForMessage((m) => m.type === 'openPatch');
    const r = host.queries[0].reply;
    assert.deepEqual(o, { type: 'openPatch', image: r.results[2].image, row: r.results[2].row, col: r.results[2].col });
    // Keyboard: focus a row and press Enter.
    await w.page.getByTestId('retrieved-item').nth(1).focus();
    await w.page.keyboard.press('Enter');
    await w.waitForMessage((m) => m.type === 'openPatch' && m.image === r.results[1].image && m.row === r.results[1].row);
    // A click previews (no keep: the host reuses the preview tab); a double click keeps the tab, and is one open only:
    // a preview first would replace this inspector, and the second click would land in the one it opened.
    const opens = () => w.sent.filter((m) => m.type === 'openPatch').length;
    const before = opens();
    await w.page.getByTestId('retrieved-item').nth(3).dblclick();
    const kept = await w.waitForMessage((m) => m.type === 'openPatch' && m.keep === true);
    assert.deepEqual(kept, { type: 'openPatch', image: r.results[3].image, row: r.results[3].row, col: r.results[3].col, keep: true });
    await w.page.waitForTimeout(2 * DOUBLE_CLICK_MS);
    assert.equal(opens(), before + 1, JSON.stringify(w.sent.filter((m) => m.type === 'openPatch').slice(before)));
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('hostile file names are shown as text, never as markup', async () => {
  const { w } = await open('hostile-names', { names: HOSTILE_NAMES, imageName: HOSTILE_NAMES[0] });
  try {
    await w.page.locator(GRID).waitFor();
    assert.equal(await w.page.getByTestId('image-name').textContent(), HOSTILE_NAMES[0]);
    await w.clickCell(2, 2);
    const items = w.page.getByTestId('retrieved-item');
    await items.nth(SETTINGS.topK - 1).waitFor();
    for (let i = 0; i < SETTINGS.topK; i++) {
      const name = HOSTILE_NAMES[i % HOSTILE_NAMES.length];
      assert.equal(await items.nth(i).getAttribute('data-image'), name);
      // Shown as text; a bidi override is shown as its code point instead of reordering the name.
      assert.equal(await items.nth(i).locator('.name').textContent(), name.slice(name.lastIndexOf('/') + 1).replace('\u202E', '<U+202E>'));
    }
    const pwned = await w.page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned);
    assert.equal(pwned, undefined);
    assert.equal(await w.page.locator('img[src="x"], script:not([src]), b').count(), 0);
    // The name travels back unchanged when the row is opened.
    await items.nth(1).click();
    const o = await w.waitForMessage((m) => m.type === 'openPatch');
    assert.equal(o.image, HOSTILE_NAMES[1]);
    await w.screenshot('list');
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('invalid messages from the host are rejected and reported, and change nothing', async () => {
  const { w } = await open('invalid-messages');
  try {
    await w.page.locator(GRID).waitFor();
    await w.clickCell(1, 2);
    await w.page.getByTestId('retrieved-item').first().waitFor();
    const tokens = gridTokens();
    const bad: [string, unknown][] = [
      ['not an object', 'select 1 1'],
      ['an array', [{ type: 'select', row: 1, col: 1 }]],
      ['an unknown type', { type: 'selectAll' }],
      ['no type', { row: 1, col: 1 }],
      ['an unknown field', { type: 'select', row: 1, col: 1, extra: true }],
      ['a negative row', { type: 'select', row: -1, col: 1 }],
      ['a fractional column', { type: 'select', row: 1, col: 1.5 }],
      ['a row as a string', { type: 'select', row: '1', col: 1 }],
      ['a patch outside the grid', { type: 'select', row: 3, col: 99 }],
      [
        'tokens as a plain array',
        { type: 'grid', width: 10, height: 10, rows: 1, cols: 1, inDatabase: true, tokens: [1], distances: new Float32Array(1), cells: new Float32Array(4) },
      ],
      [
        'tensors of the wrong length',
        {
          type: 'grid',
          width: IMAGE.width,
          height: IMAGE.height,
          rows: IMAGE.rows,
          cols: IMAGE.cols,
          inDatabase: true,
          tokens: tokens.subarray(0, 5),
          distances: new Float32Array(tokens.length),
          cells: gridCells(),
        },
      ],
      [
        'a grid of another size than the database',
        {
          type: 'grid',
          width: 10,
          height: 10,
          rows: 1,
          cols: 1,
          inDatabase: true,
          tokens: new Int32Array(1),
          distances: new Float32Array(1),
          cells: new Float32Array([0, 0, 10, 10]),
        },
      ],
      ['a bad status', { type: 'status', status: { state: 'ready', message: 5, canBuild: false } }],
      ['an unknown state', { type: 'status', status: { state: 'exploded', message: '', canBuild: false } }],
      ['an answer nobody asked for', { type: 'cropResult', inReplyTo: 9999, png: new Uint8Array(4), window: { row: 0, col: 0, rows: 3, cols: 3 } }],
      ['a NaN number', { type: 'settings', settings: { ...SETTINGS, temperature: Number.NaN } }],
      ['k out of range', { type: 'settings', settings: { ...SETTINGS, topK: 100000 } }],
      [
        'an init with a bad database',
        {
          type: 'init',
          image: { name: 'x.png', path: 'x.png', src: '' },
          database: { ...DATABASE, rows: 0 },
          settings: SETTINGS,
          status: { state: 'ready', message: '', canBuild: false },
        },
      ],
    ];
    for (const [what, m] of bad) {
      const logsBefore = w.sent.filter((x) => x.type === 'log').length;
      await w.post(m);
      const log = await w
        .waitForMessage((x) => x.type === 'log' && w.sent.filter((y) => y.type === 'log').indexOf(x) >= logsBefore, 5000)
        .catch(() => undefined);
      assert.ok(log, `${what}: no rejection reported`);
      assert.equal(log.level, 'warn', what);
      assert.match(String(log.message), /rejected/, what);
    }
    // Nothing changed: same grid, same selection, same list.
    assert.equal(await w.page.locator(GRID).getAttribute('data-rows'), String(IMAGE.rows));
    assert.deepEqual(await selected(w), { row: 1, col: 2, token: tokens[1 * IMAGE.cols + 2] });
    assert.equal(await w.page.getByTestId('retrieved-item').count(), SETTINGS.topK);
    assert.equal(await w.page.getByTestId('image-name').textContent(), 'cat.png');
    assert.deepEqual(w.errors, []);
  } finally {
    await w.close();
  }
});

test('zoom, selection and modes survive a reload through getState/setState, and the selection is queried again', async () => {
  const { w, host } = await open('view-state');
  try {
    await w.page.locator(GRID).waitFor();
    await w.clickCell(3, 5);
    await w.waitForMessage((m) => m.type === 'query');
    await w.page.getByTestId('tool-symbol-color').click(); // token map
    await w.page.getByTestId('tool-zoom-in').click();
    await w.page.getByTestId('tool-zoom-in').click();
    const zoom = Number(await w.page.locator('.viewport').getAttribute('data-zoom'));
    for (let i = 0; i < 50 && Math.abs(((w.savedState() as { zoom?: number } | undefined)?.zoom ?? 0) - zoom) > 1e-3; i++)
      await new Promise((r) => setTimeout(r, 50));
    const saved = w.savedState() as Record<string, unknown>;
    assert.deepEqual(saved.selection, { row: 3, col: 5 });
    assert.equal(saved.overlay, 'tokens');
    const queriesBefore = w.sent.filter((m) => m.type === 'query').length;
    host.gridDelayMs = 400; // the grid comes late (tokenizing): the saved view must survive the wait
    await w.reload();
    await w.page.locator(GRID).waitFor();
    await w.waitForMessage((m) => m.type === 'query' && w.sent.filter((x) => x.type === 'query').length > queriesBefore);
    assert.deepEqual(await selected(w), { row: 3, col: 5, token: gridTokens()[3 * IMAGE.cols + 5] });
    assert.ok(await w.page.locator('.overlay.show-tokens').count());
    assert.equal(await w.page.locator('.token-map rect').count(), IMAGE.rows * IMAGE.cols);
    assert.ok(Math.abs(Number(await w.page.locator('.viewport').getAttribute('data-zoom')) - zoom) < 1e-3);
    await w.page.getByTestId('retrieved-item').first().waitFor();
    await w.screenshot('restored-token-map');
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('a state for another image, or a damaged one, falls back to the defaults', async () => {
  const { w } = await open('stale-state', {}, { state: { image: 'photos/dog.png', selection: { row: 1, col: 1 }, overlay: 'tokens', zoom: 'big' } });
  try {
    await w.page.locator(GRID).waitFor();
    assert.equal(await w.page.locator('[data-testid="selected-patch"]').count(), 0);
    assert.equal(await w.page.locator('.overlay.show-tokens').count(), 0);
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('without a database: the message and a Build button that asks the host to build', async () => {
  const { w } = await open('no-database', {
    database: null,
    status: { state: 'noDatabase', message: "photos has no patch database yet. Build it to see this image's tokens and search its patches.", canBuild: true },
  });
  try {
    const status = w.page.getByTestId('status');
    await status.waitFor();
    assert.equal(await status.getAttribute('data-state'), 'noDatabase');
    assert.match((await status.textContent()) ?? '', /no patch database yet/);
    await w.page.locator('.stage .image').evaluate((img: HTMLImageElement) => img.decode());
    await w.screenshot('message');
    await w.page.getByTestId('build-database').click();
    await w.waitForMessage((m) => m.type === 'build');
    // The host reports the build, then a failure with Retry and Show Log.
    await w.post({ type: 'status', status: { state: 'building', message: 'Building the patch database of photos…', canBuild: false } });
    assert.equal(await status.getAttribute('data-state'), 'building');
    await w.post({ type: 'status', status: { state: 'error', message: 'the database manifest is damaged', canBuild: false } });
    await w.page.getByTestId('retry').click();
    await w.waitForMessage((m) => m.type === 'reload');
    await w.page.getByTestId('show-log').click();
    await w.waitForMessage((m) => m.type === 'showLog');
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test("a failed query shows the host's error in the list", async () => {
  const { w } = await open('query-error', { failQueries: 'the index cannot be read' });
  try {
    await w.page.locator(GRID).waitFor();
    await w.clickCell(0, 0);
    await w.page.locator('.list-message.error').waitFor();
    assert.match((await w.page.locator('.list-message.error').textContent()) ?? '', /the index cannot be read/);
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('usage and DAiD rows outline the cells of a token; the token map colours every cell', async () => {
  const { w } = await open('token-modes');
  try {
    await w.page.locator(GRID).waitFor();
    const tokens = gridTokens();
    const row = w.page.locator('.usage-row').first();
    const token = Number(await row.getAttribute('data-token'));
    await row.click();
    assert.equal(await w.page.getByTestId('token-highlight').count(), tokens.filter((t) => t === token).length);
    await row.click();
    assert.equal(await w.page.getByTestId('token-highlight').count(), 0);
    await w.page.getByTestId('tool-symbol-color').click();
    assert.equal(await w.page.locator('.overlay.show-tokens .token-map rect').count(), tokens.length);
    await w.page.getByTestId('tool-table').click();
    assert.equal(await w.page.locator('.overlay.hide-grid').count(), 1);
    await w.screenshot('token-map');
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('the reconstruction is drawn beside the image with its error heatmap', async () => {
  const { w } = await open('reconstruction');
  try {
    await w.page.locator(GRID).waitFor();
    await w.clickCell(2, 4);
    await w.page.getByTestId('tool-split-horizontal').click();
    await w.waitForMessage((m) => m.type === 'reconstruct');
    await w.waitForMessage((m) => m.type === 'imagePixels');
    const stats = w.page.getByTestId('reconstruction-stats');
    await stats.waitFor();
    // The fake reconstruction is the model's view of the image itself: a near-zero error.
    assert.ok(Number(await stats.getAttribute('data-psnr')) > 25, (await stats.textContent()) ?? '');
    const size = await w.page.getByTestId('reconstruction-image').evaluate((c: HTMLCanvasElement) => [c.width, c.height]);
    assert.deepEqual(size, [IMAGE.input.width, IMAGE.input.height]);
    await w.page.getByTestId('error-heatmap').waitFor();
    await w.page.getByTestId('retrieved-item').first().waitFor();
    await w.screenshot('reconstruction');
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('light and high-contrast themes', async () => {
  for (const theme of ['light', 'highContrast'] as const) {
    const { w } = await open(`theme-${theme}`, {}, { theme });
    try {
      await w.page.locator(GRID).waitFor();
      await w.clickCell(3, 3);
      await w.page.locator('.thumb-patch:not([hidden])').first().waitFor();
      await w.screenshot('selected');
      await assertClean(w);
    } finally {
      await w.close();
    }
  }
});

test('a narrow editor puts the panels under the image', async () => {
  const { w } = await open('narrow', {}, { viewport: { width: 640, height: 820 } });
  try {
    await w.page.locator(GRID).waitFor();
    await w.clickCell(2, 5);
    await w.page.getByTestId('retrieved-item').first().waitFor();
    const viewer = (await w.page.locator('.viewer').boundingBox())!;
    const sidebar = (await w.page.locator('.sidebar').boundingBox())!;
    assert.ok(sidebar.y >= viewer.y + viewer.height - 1, JSON.stringify({ viewer, sidebar }));
    assert.ok(viewer.height > 250);
    await w.screenshot('stacked');
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('selecting a patch marks every cell of its token, apart from the selection outline; a DAiD bar marks its own token', async () => {
  const { w } = await open('select-highlights-token');
  try {
    await w.page.locator(GRID).waitFor();
    const tokens = gridTokens();
    const marked = () =>
      w.page.getByTestId('token-highlight').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-row')},${e.getAttribute('data-col')}`).sort());
    const cellsOf = (token: number) =>
      [...tokens.keys()]
        .filter((i) => tokens[i] === token)
        .map((i) => `${Math.floor(i / IMAGE.cols)},${i % IMAGE.cols}`)
        .sort();
    await w.clickCell(2, 3);
    const token = tokens[2 * IMAGE.cols + 3];
    assert.ok(cellsOf(token).length > 1, 'the token occurs more than once in the test grid');
    assert.deepEqual(await marked(), cellsOf(token));
    // Drawn differently from the selection outline.
    const style = (sel: string) =>
      w.page
        .locator(sel)
        .first()
        .evaluate((e) => getComputedStyle(e).stroke);
    assert.notEqual(await style('[data-testid="token-highlight"]'), await style('[data-testid="selected-patch"]'));
    assert.equal(await w.page.locator(`.usage-row.highlighted[data-token="${token}"]`).count(), 1);
    // The arrow keys move the mark with the selection.
    await w.page.keyboard.press('ArrowRight');
    assert.deepEqual(await marked(), cellsOf(tokens[2 * IMAGE.cols + 4]));
    // A DAiD bar for another token marks that token's cells instead.
    await w.page.keyboard.press('Enter');
    const bar = w.page.locator(`[data-testid="daid-bar"]:not([data-token="${tokens[2 * IMAGE.cols + 4]}"])`).first();
    await bar.waitFor();
    const other = Number(await bar.getAttribute('data-token'));
    await bar.click();
    assert.deepEqual(await marked(), cellsOf(other));
    await w.screenshot('token-of-selection');
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('zoom: Ctrl+wheel around the pointer, a plain wheel scrolls, the buttons keep the selected patch in view, the level is shown, lines keep their screen width', async () => {
  const { w } = await open('zoom-around');
  try {
    await w.page.locator(GRID).waitFor();
    const vp = w.page.locator('.viewport');
    const zoom = async () => Number(await vp.getAttribute('data-zoom'));
    const box = async () => (await w.page.getByTestId('selected-patch').boundingBox())!;
    const lineWidth = () => w.page.locator('.grid-lines').evaluate((e) => parseFloat(getComputedStyle(e).strokeWidth));
    const level = async () => (await w.page.getByTestId('zoom-level').textContent())?.trim();
    const z0 = await zoom();
    assert.ok(Math.abs((await lineWidth()) * z0 - 1) < 0.02, `grid line ${await lineWidth()} at zoom ${z0}`);
    assert.equal(await level(), `${Math.round(z0 * 100)}%`);
    // The bottom-right patch: zooming around the centre would push it out of the view.
    await w.clickCell(IMAGE.rows - 1, IMAGE.cols - 1);
    for (let i = 0; i < 4; i++) await w.page.getByTestId('tool-zoom-in').click();
    const z1 = await zoom();
    assert.ok(z1 > z0 * 2, `${z1} > 2 × ${z0}`);
    const view = (await vp.boundingBox())!;
    const b = await box();
    assert.ok(b.x >= view.x && b.y >= view.y && b.x + b.width <= view.x + view.width && b.y + b.height <= view.y + view.height, JSON.stringify({ b, view }));
    assert.equal(await level(), `${Math.round(z1 * 100)}%`);
    assert.ok(Math.abs((await lineWidth()) * z1 - 1) < 0.02, `grid line ${await lineWidth()} at zoom ${z1}`);
    // Ctrl+wheel zooms around the pointer: the patch under it stays put.
    const cx = b.x + b.width / 2;
    const cy = b.y + b.height / 2;
    await w.page.mouse.move(cx, cy);
    await w.page.keyboard.down('Control');
    await w.page.mouse.wheel(0, 200);
    await w.page.keyboard.up('Control');
    await w.page.waitForFunction((z) => Number(document.querySelector('.viewport')!.getAttribute('data-zoom')) < z, z1);
    const b2 = await box();
    assert.ok(Math.abs(b2.x + b2.width / 2 - cx) < 1.5 && Math.abs(b2.y + b2.height / 2 - cy) < 1.5, JSON.stringify({ b2, cx, cy }));
    // A plain wheel scrolls and leaves the zoom alone.
    const z2 = await zoom();
    await w.page.mouse.wheel(0, 40);
    await w.page.waitForFunction((y) => document.querySelector('[data-testid="selected-patch"]')!.getBoundingClientRect().y < y - 10, b2.y);
    assert.equal(await zoom(), z2);
    await w.screenshot('zoomed-around-selection');
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('a long file name stays on one toolbar row, cut with an ellipsis, the full name in its tooltip', async () => {
  const name = `${'a-very-long-photo-name-from-a-camera-export-'.repeat(4)}final.png`;
  const { w } = await open('long-name', { imageName: name }, { viewport: { width: 1000, height: 700 } });
  try {
    await w.page.locator(GRID).waitFor();
    const title = w.page.getByTestId('image-name');
    assert.equal(await title.getAttribute('title'), name);
    assert.ok(await title.evaluate((e) => e.scrollWidth > e.clientWidth), 'the name is cut');
    // One row: every toolbar part shares the title's line.
    const tops = await w.page
      .locator('.toolbar > *')
      .evaluateAll((els) =>
        els.filter((e) => !(e as HTMLElement).hidden).map((e) => Math.round(e.getBoundingClientRect().top + e.getBoundingClientRect().height / 2)),
      );
    assert.ok(Math.max(...tops) - Math.min(...tops) <= 4, JSON.stringify(tops));
    assert.ok(((await w.page.locator('.toolbar').boundingBox())?.height ?? 99) < 48);
    await w.screenshot('long-name');
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('the Neighbours controls say they only draw; "Rebuild with" asks the host to rebuild with them, "Draw" goes back to the keys', async () => {
  const { w } = await open('keys-banner');
  try {
    await w.page.locator(GRID).waitFor();
    const banner = w.page.getByTestId('keys-banner');
    assert.equal(await banner.isHidden(), true, "no banner while the drawn neighbourhood is the database's");
    assert.match(
      (await w.page.locator('.tool-group', { has: w.page.getByTestId('select-hops') }).getAttribute('title')) ?? '',
      /Drawn only: queries use the keys the database was built with/,
    );
    await w.page.evaluate(() => {
      const s = document.querySelector('[data-testid="select-shape"]') as HTMLElement & { value: string };
      s.value = 'ring';
      s.dispatchEvent(new Event('change'));
      const h = document.querySelector('[data-testid="select-hops"]') as HTMLElement & { value: string };
      h.value = '2';
      h.dispatchEvent(new Event('change'));
    });
    await banner.waitFor();
    assert.match((await banner.textContent()) ?? '', /Drawn only: ring, h = 2\. Queries use the keys photos's database was built with \(causal, h = 1\)/);
    await w.screenshot('keys-banner');
    await w.page.getByTestId('rebuild-with-keys').click();
    assert.deepEqual(await w.waitForMessage((m) => m.type === 'rebuildWithKeys'), { type: 'rebuildWithKeys', shape: 'ring', hops: 2 });
    await w.page.getByTestId('draw-database-keys').click();
    await banner.waitFor({ state: 'hidden' });
    assert.equal(await w.page.getByTestId('select-shape').evaluate((e) => (e as HTMLElement & { value: string }).value), 'causal');
    assert.equal(await w.page.getByTestId('select-hops').evaluate((e) => (e as HTMLElement & { value: string }).value), '1');
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('an image still on its way: a loading card naming its size and no grid, then the image and its grid', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const { w } = await open('image-loading', { imageSrc: '', pixelsGate: gate });
  try {
    const status = w.page.getByTestId('status');
    await w.page.locator('[data-testid="status"][data-phase="image"]').waitFor();
    assert.match((await status.textContent()) ?? '', /Drawing the image \(400 × 240 pixels\)…/);
    assert.equal(await w.page.locator('[data-testid="patch-grid"][data-rows]').evaluate((e) => getComputedStyle(e).visibility), 'hidden');
    await w.screenshot('image-loading');
    release();
    await status.waitFor({ state: 'hidden' });
    await w.page.locator(GRID).waitFor();
    assert.equal(await w.page.locator(GRID).evaluate((e) => getComputedStyle(e).visibility), 'visible');
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('the same image again (the session restarted after a build): the grid shows again, with no decode left to wait for', async () => {
  const { w, host } = await open('image-again');
  try {
    await w.page.locator(GRID).waitFor();
    await host.sendInit();
    await host.sendGrid();
    await w.page.getByTestId('status').waitFor({ state: 'hidden' });
    assert.equal(await w.page.locator(GRID).evaluate((e) => getComputedStyle(e).visibility), 'visible');
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('the retrieved list is one Tab stop: arrow keys, Home and End move inside it, Enter opens; listbox and option roles', async () => {
  const { w, host } = await open('list-keys');
  try {
    await w.page.locator(GRID).waitFor();
    await w.clickCell(2, 3);
    const items = w.page.getByTestId('retrieved-item');
    await items.first().waitFor();
    assert.equal(await w.page.getByTestId('retrieved-list').getAttribute('role'), 'listbox');
    const tabStops = () => items.evaluateAll((els) => els.filter((e) => (e as HTMLElement).tabIndex === 0).length);
    assert.equal(await items.first().getAttribute('role'), 'option');
    // The token's swatch: the colour the Codebook view shows beside the prototype, its meaning in the tooltip.
    const chip = items.first().locator('.token-chip .swatch');
    assert.equal(
      await chip.evaluate((e) => (e as HTMLElement).style.background),
      await w.page.evaluate((c) => {
        const probe = document.createElement('span');
        probe.style.background = c;
        return probe.style.background;
      }, tokenColour(host.queries[0].reply.results[0].token)),
    );
    assert.match((await chip.getAttribute('title')) ?? '', /colour in the token map/);
    assert.equal(await tabStops(), 1);
    await items.first().focus();
    const focused = () => w.page.evaluate(() => document.activeElement?.getAttribute('data-rank'));
    await w.page.keyboard.press('ArrowDown');
    await w.page.keyboard.press('ArrowDown');
    assert.equal(await focused(), '3');
    assert.equal(await items.nth(2).getAttribute('aria-selected'), 'true');
    assert.equal(await tabStops(), 1);
    await w.page.keyboard.press('End');
    assert.equal(await focused(), String(SETTINGS.topK));
    await w.page.keyboard.press('Home');
    await w.page.keyboard.press('ArrowDown');
    await w.page.keyboard.press('Enter');
    const r = host.queries[0].reply;
    await w.waitForMessage((m) => m.type === 'openPatch' && m.image === r.results[1].image && m.row === r.results[1].row && m.col === r.results[1].col);
    // Tab leaves the list from the row it is on, Shift+Tab comes back to that row.
    await w.page.keyboard.press('Tab');
    assert.notEqual(await w.page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'retrieved-item');
    await w.page.keyboard.press('Shift+Tab');
    assert.equal(await focused(), '2');
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('a jump keeps the view: settings init carries start a fresh view; the view reports its own, and its saved view wins on reload', async () => {
  const view = { shape: 'ring', hops: 2, overlay: 'tokens', showGrid: false, reconstruction: false } as const;
  const { w } = await open('jump-view', { view });
  try {
    await w.page.locator(GRID).waitFor();
    const value = (id: string) => w.page.getByTestId(id).evaluate((e) => (e as HTMLElement & { value: string }).value);
    const checked = (id: string) => w.page.getByTestId(id).evaluate((e) => (e as HTMLElement & { checked: boolean }).checked);
    assert.deepEqual([await value('select-shape'), await value('select-hops')], ['ring', '2']);
    assert.deepEqual([await checked('tool-symbol-color'), await checked('tool-table')], [true, false]);
    // ring h = 2 around (2, 3): the full 5x5 square less the centre
    await w.clickCell(2, 3);
    await w.page.getByTestId('neighbour-cell').nth(23).waitFor();
    assert.equal(await w.page.getByTestId('neighbour-cell').count(), 24);
    // what the host hears: the carried view, then each change (for the next jump)
    assert.deepEqual(await w.waitForMessage((m) => m.type === 'view'), { type: 'view', view });
    await w.page.getByTestId('select-hops').evaluate((e) => {
      (e as HTMLElement & { value: string }).value = '3';
      e.dispatchEvent(new Event('change'));
    });
    assert.deepEqual(await w.waitForMessage((m) => m.type === 'view' && (m.view as { hops: number }).hops === 3), { type: 'view', view: { ...view, hops: 3 } });
    // the same image again (a reload): its own saved view, not the carried one
    await w.reload();
    await w.page.locator(GRID).waitFor();
    assert.equal(await value('select-hops'), '3');
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('the Retrieved and DAiD export buttons: labelled, off until a query answers, then each sends a valid export message; off again after a failed query', async () => {
  const { w } = await open('export-buttons');
  try {
    await w.page.locator(GRID).waitFor();
    const retrieved = w.page.getByTestId('export-retrieved');
    const daid = w.page.getByTestId('export-daid');
    assert.equal(await retrieved.getAttribute('aria-label'), 'Export the retrieved patches as CSV or JSON');
    assert.equal(await daid.getAttribute('aria-label'), 'Export the DAiD distribution as CSV or JSON');
    assert.equal(await retrieved.evaluate((b) => (b as HTMLElement & { disabled: boolean }).disabled), true, 'nothing to export before a query');
    await retrieved.click({ force: true });
    await w.clickCell(2, 3);
    await w.page.getByTestId('daid-bar').first().waitFor();
    await w.page.waitForFunction(() => !(document.querySelector('[data-testid="export-daid"]') as HTMLElement & { disabled: boolean }).disabled);
    assert.equal(w.sent.filter((m) => m.type === 'export').length, 0, 'a disabled button sends nothing');
    const openBefore = await w.page.locator('.section-daid').evaluate((c) => (c as HTMLElement & { open: boolean }).open);
    await daid.click();
    const m = await w.waitForMessage((x) => x.type === 'export', 5000);
    assert.deepEqual(m, { type: 'export', kind: 'daid' });
    assert.ok(v.is(inspectorToHostSchema, m), "the message passes the host's schema");
    assert.equal(
      await w.page.locator('.section-daid').evaluate((c) => (c as HTMLElement & { open: boolean }).open),
      openBefore,
      'the click does not fold the section',
    );
    await retrieved.click();
    await w.waitForMessage((x) => x.type === 'export' && x.kind === 'retrieved', 5000);
    await w.screenshot('export-buttons');
    await assertClean(w);
  } finally {
    await w.close();
  }
  const failed = await open('export-after-failure', { failQueries: 'the index cannot be read' });
  try {
    await failed.w.page.locator(GRID).waitFor();
    await failed.w.clickCell(0, 0);
    await failed.w.page.locator('.list-message.error').waitFor();
    assert.equal(await failed.w.page.getByTestId('export-retrieved').evaluate((b) => (b as HTMLElement & { disabled: boolean }).disabled), true);
  } finally {
    await failed.w.close();
  }
});

test('compare on hover: the query and the hovered (or focused) retrieved patch side by side, their neighbourhoods, tokens and distance; no new crop for a row already drawn', async () => {
  const { w, host } = await open('compare-hover');
  try {
    await w.page.locator(GRID).waitFor();
    await w.clickCell(2, 3);
    const items = w.page.getByTestId('retrieved-item');
    await items.nth(SETTINGS.topK - 1).waitFor();
    // rows load their crops as they scroll into view: let the first four draw theirs
    for (let i = 0; i < 4; i++) {
      await items.nth(i).scrollIntoViewIfNeeded();
      await items.nth(i).locator('.thumb-image[src^="blob:"]').waitFor();
    }
    const crops = () => w.sent.filter((m) => m.type === 'crop').length;
    const before = crops();
    const r = host.queries[0].reply;
    const pane = w.page.getByTestId('compare-pane');
    assert.equal(await pane.isHidden(), true);

    await items.nth(1).hover();
    await pane.waitFor();
    const q = pane.getByTestId('compare-query');
    const s = pane.getByTestId('compare-retrieved');
    await s.locator('.compare-image[src^="blob:"]').waitFor();
    assert.deepEqual(await q.evaluate((e) => [e.dataset.row, e.dataset.col, e.dataset.token]), ['2', '3', String(r.token)]);
    assert.deepEqual(await s.evaluate((e) => [e.dataset.row, e.dataset.col, e.dataset.token]), [
      String(r.results[1].row),
      String(r.results[1].col),
      String(r.results[1].token),
    ]);
    assert.equal(await pane.getByTestId('compare-distance').textContent(), `squared distance ${formatDistance(r.results[1].distance)}`);
    assert.equal(await pane.getByTestId('compare-verdict').textContent(), r.results[1].token === r.token ? 'same token' : 'different tokens');
    assert.match((await s.locator('.compare-heading').textContent()) ?? '', new RegExp(`^#2 · ${r.results[1].image.split('/').pop()!.replace('.', '\\.')}$`));
    // The database's keys (causal, h = 1) over each side, in key order, inside the 3 x 3 cells shown.
    const drawn = (side: typeof q) =>
      side.getByTestId('compare-neighbour').evaluateAll((es) => es.map((e) => `${e.getAttribute('data-row')},${e.getAttribute('data-col')}`));
    assert.deepEqual(
      await drawn(q),
      neighbourOffsets('causal', 1).map((o) => `${2 + o.dr},${3 + o.dc}`),
    );
    const p = r.results[1];
    const inGrid = neighbourOffsets('causal', 1).filter((o) => p.row + o.dr >= 0 && p.col + o.dc >= 0 && p.col + o.dc < IMAGE.cols);
    assert.deepEqual(
      await drawn(s),
      inGrid.map((o) => `${p.row + o.dr},${p.col + o.dc}`),
    );
    // The query's picture is the image on screen, scaled so its 3 x 3 window fills the picture.
    assert.equal(await q.locator('.compare-image').getAttribute('src'), 'https://webview.test/res/cat.png');
    const picture = (await q.locator('.compare-picture').boundingBox())!;
    assert.ok(picture.width >= 150, JSON.stringify(picture));
    // Beside the row, not over it; and the row names the pane for screen readers.
    const rowBox = (await items.nth(1).boundingBox())!;
    const paneBox = (await pane.boundingBox())!;
    assert.ok(
      paneBox.x + paneBox.width <= rowBox.x + 1 || paneBox.y >= rowBox.y + rowBox.height - 1 || paneBox.y + paneBox.height <= rowBox.y + 1,
      JSON.stringify({ rowBox, paneBox }),
    );
    assert.equal(await items.nth(1).getAttribute('aria-describedby'), 'compare-pane');
    await w.screenshot('compare-hover');

    // Leaving the row hides it; the keyboard shows it for the focused row.
    await w.page.mouse.move(1, 1);
    await pane.waitFor({ state: 'hidden' });
    await items.nth(3).focus();
    await pane.waitFor();
    assert.equal(await s.getAttribute('data-row'), String(r.results[3].row));
    await s.locator('.compare-image[src^="blob:"]').waitFor();
    // Both rows had their crops already: hovering and focusing asked the host for nothing.
    assert.equal(crops(), before);
    await w.page.keyboard.press('ArrowDown');
    await w.page.waitForFunction(
      (row) => document.querySelector('[data-testid="compare-retrieved"]')?.getAttribute('data-row') === row,
      String(r.results[4].row),
    );
    await w.page.keyboard.press('Tab');
    await pane.waitFor({ state: 'hidden' });
    await assertClean(w);
  } finally {
    await w.close();
  }
});

for (const hops of [2, 3]) {
  test(`compare on hover with ring h = ${hops} keys: both sides show the whole h-hop neighbourhood, every neighbour drawn, from one crop of it`, async () => {
    const { w, host } = await open(`compare-h${hops}`, { database: { ...DATABASE, keys: { ...DATABASE.keys, shape: 'ring', hops } } });
    try {
      await w.page.locator(GRID).waitFor();
      await w.clickCell(2, 3);
      const items = w.page.getByTestId('retrieved-item');
      await items.nth(2).waitFor();
      const p = host.queries[0].reply.results[2];
      await items.nth(2).hover();
      const pane = w.page.getByTestId('compare-pane');
      await pane.waitFor();
      const q = pane.getByTestId('compare-query');
      const s = pane.getByTestId('compare-retrieved');
      await s.locator('.compare-image[src^="blob:"]').waitFor();
      const inGrid = (row: number, col: number) =>
        neighbourOffsets('ring', hops)
          .filter((o) => row + o.dr >= 0 && col + o.dc >= 0 && row + o.dr < IMAGE.rows && col + o.dc < IMAGE.cols)
          .map((o) => `${row + o.dr},${col + o.dc}`);
      const drawn = (side: typeof q) =>
        side.getByTestId('compare-neighbour').evaluateAll((es) => es.map((e) => `${e.getAttribute('data-row')},${e.getAttribute('data-col')}`));
      // every neighbour of the key inside the 6 x 8 grid is drawn, on both sides (ring h = 2 at (2, 3): all 24; h = 3: 41)
      assert.deepEqual(await drawn(q), inGrid(2, 3));
      assert.equal((await drawn(q)).length, hops === 2 ? 24 : 41);
      assert.deepEqual(await drawn(s), inGrid(p.row, p.col));
      // the windows: (2h + 1)² cells around each patch, shifted inside the grid, clipped to it where it is smaller
      assert.deepEqual([p.row, p.col], [4, 7]);
      assert.equal(await q.getAttribute('data-window'), hops === 2 ? '0,1,5,5' : '0,0,6,7');
      assert.equal(await s.getAttribute('data-window'), hops === 2 ? '1,3,5,5' : '0,1,6,7');
      // the retrieved side is one crop of its neighbourhood, asked for with the hops
      const crops = w.sent.filter((m) => m.type === 'crop' && m.row === p.row && m.col === p.col && m.hops === hops);
      assert.equal(crops.length, 1, JSON.stringify(w.sent.filter((m) => m.type === 'crop')));
      await w.screenshot(`compare-h${hops}`);
      await assertClean(w);
    } finally {
      await w.close();
    }
  });
}
