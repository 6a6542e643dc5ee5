// The Codebook view's webview bundle in Chromium with a scripted host: codes in
// usage order with prototype thumbnails and counts, dead codes, the token-id
// filter, a code's images and positions on request (hostile file names stay
// text), opening a patch, errors, invalid host messages, state across reloads,
// focusToken, the dataset picker, both themes, and the page's CSP.
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import type { CodebookData, CodebookDataset } from '../../src/protocol';
import { closeBrowser, openWebview, type WebviewPage } from '../support/webviewHarness';
import { tokenColour } from '../../webview/shared/tokenColour';

after(closeBrowser);

const K = 64;
const P = 4;
const ROOT = '/data/photos';
const HOSTILE = '<img src=x onerror="document.title=1">.png';

/** Counts: code i used (i % 5) * 7 + (i % 3) times, every 4th code dead. */
function counts(): Uint32Array {
  const c = new Uint32Array(K);
  for (let i = 0; i < K; i++) c[i] = i % 4 === 0 ? 0 : (i % 5) * 7 + (i % 3) + 1;
  return c;
}

function prototypes(c: Uint32Array): Uint8Array {
  const p = new Uint8Array(K * P * P * 3);
  for (let k = 0; k < K; k++) {
    if (!c[k]) continue;
    for (let i = 0; i < P * P; i++) p.set([(k * 4) % 256, (i * 16) % 256, 255 - ((k * 4) % 256)], (k * P * P + i) * 3);
  }
  return p;
}

const DATASETS: CodebookDataset[] = [
  { root: ROOT, name: 'photos', built: true },
  { root: '/data/<b>other</b>', name: '<b>other</b>', built: false },
];

function data(): CodebookData {
  const c = counts();
  return { root: ROOT, model: 'tiny', codebookSize: K, patch: P, counts: c, prototypes: prototypes(c), images: 3, staleImages: 0, generation: 2 };
}

/** The order the view must show: by count, then id; dead codes last. */
function expectedOrder(): number[] {
  const c = counts();
  return Array.from({ length: K }, (_, i) => i).sort((a, b) => c[b] - c[a] || a - b);
}

async function open(
  name: string,
  opts: { theme?: 'dark' | 'light'; state?: unknown; viewport?: { width: number; height: number } } = {},
): Promise<WebviewPage> {
  const w = await openWebview({ name: `codebook-${name}`, bundle: 'codebook', viewport: { width: 320, height: 640 }, ...opts });
  w.onMessage((m) => {
    if (m.type === 'ready') {
      void w.post({ type: 'datasets', datasets: DATASETS, selected: ROOT }).then(() => w.post({ type: 'codebook', data: data() }));
    }
  });
  await w.page.locator('.row').first().waitFor();
  return w;
}

async function assertClean(w: WebviewPage): Promise<void> {
  assert.deepEqual(w.errors, []);
  assert.deepEqual(await w.cspViolations(), []);
}

async function visibleTokens(w: WebviewPage): Promise<number[]> {
  return w.page.locator('.row:not([hidden])').evaluateAll((rows) =>
    rows
      .map((r) => ({ t: Number((r as HTMLElement).dataset.token), i: Number((r as HTMLElement).dataset.index) }))
      .sort((a, b) => a.i - b.i)
      .map((x) => x.t),
  );
}

test('codes in usage order with thumbnails, counts and shares; dead codes marked; the summary', async () => {
  const w = await open('list');
  try {
    const shown = await visibleTokens(w);
    assert.deepEqual(shown, expectedOrder().slice(0, shown.length));
    const c = counts();
    const first = w.page.locator(`.row[data-token="${shown[0]}"]`);
    assert.equal(await first.locator('.count').innerText(), String(c[shown[0]]));
    // The thumbnail is the prototype: its top-left pixel.
    const px = await first.locator('canvas.thumb').evaluate((cv) => Array.from((cv as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 1, 1).data));
    assert.deepEqual(px, [(shown[0] * 4) % 256, 0, 255 - ((shown[0] * 4) % 256), 255]);
    // Beside it, the token's colour in the inspector (one colour system: the same function), with its meaning in the tooltip.
    const dot = first.locator('.map-colour');
    const sameColour = (c: string) =>
      w.page.evaluate((css) => {
        const probe = document.createElement('span');
        probe.style.background = css;
        document.body.append(probe);
        const out = getComputedStyle(probe).backgroundColor;
        probe.remove();
        return out;
      }, c);
    assert.equal(await dot.evaluate((e) => getComputedStyle(e).backgroundColor), await sameColour(tokenColour(shown[0])));
    assert.match((await dot.getAttribute('title')) ?? '', /colour in the token map .*prototype, the mean of its patches/);
    const used = c.filter((x) => x > 0).length;
    assert.match(await w.page.locator('.summary').innerText(), new RegExp(`^${used} of ${K} codes used · ${K - used} dead · perplexity \\d+\\.\\d · 3 images`));
    // Dead codes: scroll to the end of the list.
    await w.page.locator('.list').evaluate((l) => (l.scrollTop = l.scrollHeight));
    const dead = w.page.locator('.row.dead:not([hidden])').first();
    await dead.waitFor();
    assert.equal(await dead.locator('.count').innerText(), 'dead');
    assert.equal(await dead.locator('canvas.thumb').evaluate((e) => e.classList.contains('none')), true);
    await w.screenshot('dead-codes');
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('the filter narrows by token id, range or list; bad input explains itself; dead codes can be hidden', async () => {
  const w = await open('filter');
  try {
    const input = w.page.locator('vscode-textfield.filter input');
    await input.fill('5');
    const c = counts();
    const expected = [5, ...expectedOrder().filter((t) => t !== 5 && String(t).startsWith('5'))];
    assert.deepEqual(await visibleTokens(w), expected);
    assert.equal(c[5] > 0, true);
    await input.fill('10-12, 40');
    assert.deepEqual(
      await visibleTokens(w),
      expectedOrder().filter((t) => (t >= 10 && t <= 12) || t === 40),
    );
    await input.fill('cat');
    await w.page
      .locator('.filter-error')
      .getByText(/Type a token id/)
      .waitFor();
    await input.fill('');
    await w.page.locator('vscode-checkbox.dead-toggle').click();
    await w.page.locator('.list').evaluate((l) => (l.scrollTop = l.scrollHeight));
    assert.equal(await w.page.locator('.row.dead:not([hidden])').count(), 0);
    assert.match(await w.page.locator('.summary').innerText(), /codes used/);
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test("a click lists the code's images and positions (names as text); a position opens the inspector there", async () => {
  const w = await open('uses');
  try {
    w.onMessage((m) => {
      if (m.type === 'tokenUses') {
        void w.post({
          type: 'tokenUsesResult',
          inReplyTo: m.messageId,
          token: m.token,
          uses: [
            { image: 'sub/a.png', positions: Array.from({ length: 30 }, (_, i) => ({ row: Math.floor(i / 6), col: i % 6 })) },
            { image: HOSTILE, positions: [{ row: 2, col: 3 }] },
          ],
          totalImages: 2,
          totalPositions: 31,
        });
      }
    });
    const token = expectedOrder()[0];
    await w.page.locator(`.row[data-token="${token}"]`).click();
    const req = await w.waitForMessage((m) => m.type === 'tokenUses');
    assert.equal(req.root, ROOT);
    assert.equal(req.token, token);
    const names = w.page.locator('.use-list .image-name');
    await names.nth(1).waitFor();
    assert.deepEqual(await names.allInnerTexts(), ['sub/a.png', HOSTILE]);
    assert.equal(await w.page.locator('.use-list img').count(), 0);
    assert.match(await w.page.locator('.details .subtitle').innerText(), /31 patches in 2 images/);
    // 6 chips (about two rows in a sidebar), then "+24" shows the rest.
    const first = w.page.locator('.use').first();
    assert.equal(await first.locator('.chip:not(.more)').count(), 6);
    assert.equal(await first.locator('.chip.more').innerText(), '+24');
    await first.locator('.chip.more').click();
    assert.equal(await first.locator('.chip').count(), 30);
    await w.screenshot('uses');
    await w.page.locator('.use').nth(1).locator('.chip', { hasText: '(2, 3)' }).click();
    const open1 = await w.waitForMessage((m) => m.type === 'openPatch');
    assert.deepEqual(open1, { type: 'openPatch', root: ROOT, image: HOSTILE, row: 2, col: 3 });
    await first.locator('.image-link').click();
    const open2 = await w.waitForMessage((m) => m.type === 'openPatch' && m.image === 'sub/a.png');
    assert.deepEqual(open2, { type: 'openPatch', root: ROOT, image: 'sub/a.png', row: 0, col: 0 });
    // a click previews (the host reuses the preview tab); a double click keeps the tab
    await first.locator('.chip').nth(1).dblclick();
    const kept = await w.waitForMessage((m) => m.type === 'openPatch' && m.keep === true);
    assert.deepEqual(kept, { type: 'openPatch', root: ROOT, image: 'sub/a.png', row: 0, col: 1, keep: true });
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test("a failed request shows the host's error; a dead code needs no request", async () => {
  const w = await open('errors');
  try {
    w.onMessage((m) => {
      if (m.type === 'tokenUses') void w.post({ type: 'error', inReplyTo: m.messageId, kind: 'NoDatabaseError', message: 'no patch database in /x' });
    });
    await w.page.locator(`.row[data-token="${expectedOrder()[1]}"]`).click();
    await w.page.locator('.details .error').getByText('Could not list the images: no patch database in /x').waitFor();
    const before = w.sent.filter((m) => m.type === 'tokenUses').length;
    await w.page.locator('vscode-textfield.filter input').fill('4');
    await w.page.locator('.row[data-token="4"]').click();
    await w.page
      .locator('.details .note')
      .getByText(/Dead code/)
      .waitFor();
    assert.equal(w.sent.filter((m) => m.type === 'tokenUses').length, before);
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('invalid host messages are rejected without effect', async () => {
  const w = await open('invalid');
  try {
    const before = await visibleTokens(w);
    const bad = { ...data(), counts: new Uint32Array(K - 1) };
    await w.post({ type: 'codebook', data: bad });
    await w.post({ type: 'codebook', data: { ...data(), counts: Array.from(counts()) } });
    await w.post({ type: 'focusToken', token: -1 });
    await w.post({ type: 'tokenUsesResult', inReplyTo: 999, token: 1, uses: [], totalImages: 0, totalPositions: 0 });
    await w.post({ type: 'nonsense' });
    assert.deepEqual(await visibleTokens(w), before);
    assert.deepEqual(await w.cspViolations(), []);
  } finally {
    await w.close();
  }
});

test('focusToken selects a code, clearing a filter that hides it; the dataset picker asks the host', async () => {
  const w = await open('focus');
  try {
    await w.page.locator('vscode-textfield.filter input').fill('3');
    await w.post({ type: 'focusToken', token: 8 });
    await w.page.locator('.row.selected[data-token="8"]').waitFor();
    // The text field renders its new value asynchronously (lit).
    await w.page.waitForFunction(() => (document.querySelector('vscode-textfield.filter') as HTMLElement & { value: string }).value === '');
    assert.equal(await w.page.locator('vscode-textfield.filter input').inputValue(), '');
    await w.page.locator('.details .title').getByText('Token 8').waitFor();
    // Two datasets: the picker shows, the hostile name as text.
    const select = w.page.locator('vscode-single-select.dataset-select');
    assert.equal(await select.isVisible(), true);
    assert.equal(await w.page.locator('vscode-option').nth(1).textContent(), '<b>other</b> (no database)');
    await select.evaluate((s, root) => {
      (s as HTMLElement & { value: string }).value = root;
      s.dispatchEvent(new Event('change'));
    }, DATASETS[1].root);
    const m = await w.waitForMessage((x) => x.type === 'selectDataset');
    assert.equal(m.root, DATASETS[1].root);
    await w.post({ type: 'empty', root: DATASETS[1].root, reason: 'none', message: '<b>other</b> has no patch database yet.' });
    await w.page.locator('.empty').getByText('<b>other</b> has no patch database yet.').waitFor();
    await w.page.locator('.empty vscode-button').click();
    assert.equal((await w.waitForMessage((x) => x.type === 'build')).root, DATASETS[1].root);
    await w.screenshot('empty');
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('the filter, dead-code toggle and selection survive a reload (getState/setState)', async () => {
  const w = await open('state');
  try {
    await w.page.locator('vscode-textfield.filter input').fill('1-20');
    await w.page.locator('.row[data-token="14"]').click();
    await w.page.locator('.details .title').getByText('Token 14').waitFor();
    await w.reload();
    await w.page.locator('.row').first().waitFor();
    assert.equal(await w.page.locator('vscode-textfield.filter input').inputValue(), '1-20');
    await w.page.locator('.row.selected[data-token="14"]').waitFor();
    await w.page.locator('.details .title').getByText('Token 14').waitFor();
  } finally {
    await w.close();
  }
});

test('looks native in a light theme too', async () => {
  const w = await open('light', { theme: 'light' });
  try {
    await w.page.locator(`.row[data-token="${expectedOrder()[2]}"]`).click();
    await w.screenshot('light');
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('in a short, narrow sidebar the selected code leaves five code rows and several images in view; the summary wraps, the matching count first', async () => {
  const w = await open('sidebar', { viewport: { width: 260, height: 420 } });
  try {
    w.onMessage((m) => {
      if (m.type === 'tokenUses') {
        const uses = Array.from({ length: 6 }, (_, i) => ({
          image: `folder/image-with-a-long-name-${i}.png`,
          positions: Array.from({ length: 20 }, (_, j) => ({ row: j % 8, col: (j * 3) % 8 })),
        }));
        void w.post({ type: 'tokenUsesResult', inReplyTo: m.messageId, token: m.token, uses, totalImages: 6, totalPositions: 120 });
      }
    });
    await w.page.locator('vscode-textfield.filter input').fill('1-40');
    const summary = w.page.locator('.summary');
    assert.match(await summary.innerText(), /^\d+ matching · \d+ of \d+ codes used/);
    const clipped = await summary.evaluate((e) => e.scrollWidth > e.clientWidth || e.scrollHeight > e.clientHeight);
    assert.equal(clipped, false, 'nothing of the summary is cut off');
    await w.page.locator('.row').first().click();
    await w.page.locator('.use').nth(5).waitFor({ state: 'attached' });
    const box = async (sel: string) => (await w.page.locator(sel).first().boundingBox())!;
    const list = await box('.list');
    assert.ok(list.height >= 5 * 24, `the list keeps five rows (${list.height} px)`);
    const uses = await box('.uses');
    const visibleUses = await w.page.locator('.use').evaluateAll(
      (els, b) =>
        els.filter((e) => {
          const r = e.getBoundingClientRect();
          return r.top >= b.y - 1 && r.bottom <= b.y + b.height + 1;
        }).length,
      uses,
    );
    const useHeights = await w.page.locator('.use').evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().height)));
    assert.ok(
      visibleUses >= 2,
      `at least two images' uses are wholly in view (${visibleUses}; uses area ${Math.round(uses.height)} px, list ${Math.round(list.height)} px, uses ${useHeights.join(', ')} px)`,
    );
    await w.screenshot('sidebar');
    await assertClean(w);
  } finally {
    await w.close();
  }
});
