// The Duplicates view's webview bundle in Chromium with a scripted host: the
// dataset picker, Find and Find Leaks with the chosen options, progress and
// Cancel, ranked pairs with both thumbnails, score and shared cells (hostile
// file names stay text), paging as the list scrolls, opening a pair, invalid
// host messages, the options across reloads, and the page's CSP.
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import sharp from 'sharp';
import type { CodebookDataset, DuplicateResults } from '../../src/protocol';
import { closeBrowser, openWebview, type WebviewPage } from '../support/webviewHarness';

after(closeBrowser);

const ROOT = '/data/photos';
const HOSTILE = '<img src=x onerror="document.title=1">.png';
const DATASETS: CodebookDataset[] = [
  { root: ROOT, name: 'photos', built: true },
  { root: '/data/<b>empty</b>', name: '<b>empty</b>', built: false },
];
const TOTAL = 120;
const PAGE = 50;

function results(searchId = 7): DuplicateResults {
  return {
    searchId,
    dataset: 'photos',
    against: '',
    pairs: TOTAL,
    totalPairs: TOTAL,
    cells: 256,
    images: 60,
    distinctWindows: 9000,
    commonWindows: 2,
    elapsedMs: 1234,
    window: 3,
    near: -1,
  };
}

function pair(rank: number) {
  return {
    rank,
    a: rank === 0 ? 'copies/a.jpg' : `img-${rank}.jpg`,
    b: rank === 1 ? `sub/${HOSTILE}` : `copy-${rank}.jpg`,
    score: (TOTAL - rank) / TOTAL,
    sharedCells: Math.round((256 * (TOTAL - rank)) / TOTAL),
    identical: rank === 0,
  };
}

let png: Uint8Array;

/** A host that answers pages and thumbnails as the extension does. */
async function open(name: string, opts: { state?: unknown } = {}): Promise<WebviewPage> {
  png ??= new Uint8Array(
    await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 40, b: 40 } } })
      .png()
      .toBuffer(),
  );
  const w = await openWebview({ name: `duplicates-${name}`, bundle: 'duplicates', viewport: { width: 340, height: 700 }, ...opts });
  w.onMessage((m) => {
    if (m.type === 'ready') void w.post({ type: 'datasets', datasets: DATASETS, selected: ROOT });
    if (m.type === 'page') {
      const offset = m.offset as number;
      const pairs = Array.from({ length: Math.max(0, Math.min(PAGE, TOTAL - offset)) }, (_, i) => pair(offset + i));
      void w.post({ type: 'pageResult', inReplyTo: m.messageId, searchId: m.searchId, offset, pairs });
    }
    if (m.type === 'thumbnail') void w.post({ type: 'thumbnailResult', inReplyTo: m.messageId, png });
  });
  await w.page.locator('[data-testid="find"]').waitFor();
  return w;
}

async function assertClean(w: WebviewPage): Promise<void> {
  assert.deepEqual(w.errors, []);
  assert.deepEqual(await w.cspViolations(), []);
}

test('Find sends the dataset and options; progress with Cancel; then ranked pairs with thumbnails, scores and shared cells', async () => {
  const w = await open('find');
  try {
    await w.page.locator('[data-testid="find"]').click();
    const find = await w.waitForMessage((m) => m.type === 'find');
    assert.deepEqual(find, { type: 'find', root: ROOT, window: 3, near: -1 });
    await w.post({ type: 'progress', phase: 'pair', done: 5, total: 10 });
    const progress = w.page.locator('[data-testid="progress"]');
    await progress.waitFor();
    assert.match(await progress.innerText(), /Pairing images… 50\.0%/);
    assert.equal(await w.page.locator('[data-testid="cancel"]').isVisible(), true);
    assert.equal(await w.page.locator('[data-testid="find"]').getAttribute('disabled'), '');
    await w.page.locator('[data-testid="cancel"]').click();
    await w.waitForMessage((m) => m.type === 'cancel');
    await w.screenshot('progress');

    await w.post({ type: 'results', results: results() });
    const rows = w.page.locator('[data-testid="pair"]');
    await rows.first().waitFor();
    assert.equal(await progress.isVisible(), false);
    assert.match(
      await w.page.locator('[data-testid="summary"]').innerText(),
      /120 pairs in photos; 60 images, 1\.2 s, window 3×3; 2 windows too common to count/,
    );
    assert.equal(await rows.count(), PAGE);
    const first = rows.first();
    assert.equal(await first.locator('[data-testid="score"]').innerText(), '100%');
    assert.equal(await first.locator('[data-testid="shared-cells"]').innerText(), '256/256 cells');
    assert.equal(await first.locator('[data-testid="identical"]').innerText(), 'identical files');
    assert.equal(await rows.nth(2).locator('[data-testid="identical"]').count(), 0);
    // Both thumbnails load (PNG from the host, as blob: URLs).
    await w.page.waitForFunction(() =>
      [...document.querySelectorAll('[data-testid="pair"]:first-child img')].every(
        (i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth === 64,
      ),
    );
    const asked = w.sent
      .filter((m) => m.type === 'thumbnail' && m.rank === 0)
      .map((m) => m.side)
      .sort();
    assert.deepEqual(asked, ['a', 'b']);
    // A hostile name is text, not markup.
    const hostileRow = rows.nth(1);
    assert.equal(await hostileRow.locator('.name').nth(1).innerText(), HOSTILE);
    assert.equal(await w.page.locator('img[src="x"]').count(), 0);
    assert.notEqual(await w.page.title(), '1');
    await w.screenshot('pairs');
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('scrolling pages in the rest of the pairs; a click or Enter opens the pair', async () => {
  const w = await open('paging');
  try {
    await w.post({ type: 'results', results: results(9) });
    const rows = w.page.locator('[data-testid="pair"]');
    await rows.first().waitFor();
    for (let want = PAGE * 2; want <= TOTAL; want = Math.min(TOTAL, want + PAGE)) {
      await w.page.locator('[data-testid="more"]').scrollIntoViewIfNeeded();
      await w.page.waitForFunction((n) => document.querySelectorAll('[data-testid="pair"]').length >= n, want);
      if (want === TOTAL) break;
    }
    assert.equal(await rows.count(), TOTAL);
    const offsets = w.sent.filter((m) => m.type === 'page').map((m) => m.offset);
    assert.deepEqual(offsets, [0, 50, 100]);
    assert.deepEqual(
      [await rows.nth(TOTAL - 1).getAttribute('data-rank'), await rows.nth(TOTAL - 1).getAttribute('data-a')],
      [String(TOTAL - 1), `img-${TOTAL - 1}.jpg`],
    );
    await rows.nth(3).click();
    assert.deepEqual(await w.waitForMessage((m) => m.type === 'openPair'), { type: 'openPair', searchId: 9, rank: 3 });
    await rows.nth(4).focus();
    await w.page.keyboard.press('Enter');
    await w.waitForMessage((m) => m.type === 'openPair' && m.rank === 4);
    await assertClean(w);
  } finally {
    await w.close();
  }
});

test('Find Leaks Against… sends the options chosen; they survive a reload; empty and error states; invalid messages are dropped', async () => {
  const w = await open('leaks');
  try {
    const select = w.page.locator('[data-testid="window-select"]');
    await select.evaluate((e) => {
      (e as HTMLElement & { value: string }).value = '4';
      e.dispatchEvent(new Event('change'));
    });
    await w.page.locator('[data-testid="near-box"]').click();
    const eps = w.page.locator('[data-testid="near-eps"] input');
    await eps.fill('0.2');
    await eps.dispatchEvent('change');
    await w.page.locator('[data-testid="near-eps"]').dispatchEvent('change');
    await w.page.locator('[data-testid="find-leaks"]').click();
    assert.deepEqual(await w.waitForMessage((m) => m.type === 'findLeaks'), { type: 'findLeaks', root: ROOT, window: 4, near: 0.2 });
    await w.post({ type: 'results', results: { ...results(3), against: 'train <set>', pairs: 0, totalPairs: 0 } });
    await w.page.locator('[data-testid="summary"]').filter({ hasText: 'No pairs share content leaks of photos into train <set>' }).waitFor();
    await w.post({ type: 'empty', reason: 'error', message: 'the two databases were built with different tokenizers' });
    await w.page.locator('[data-testid="summary"].error').filter({ hasText: 'different tokenizers' }).waitFor();
    // A message that fails its schema is not handled.
    await w.post({ type: 'results', results: { ...results(), pairs: -1 } });
    await w.post({ type: 'progress', phase: 'bogus', done: 1, total: 2 });
    await w.page.waitForTimeout(100);
    assert.equal(await w.page.locator('[data-testid="pair"]').count(), 0);
    assert.equal(await w.page.locator('[data-testid="progress"]').isVisible(), false);
    const saved = w.savedState() as { window: number; near: number; root: string | undefined };
    assert.deepEqual([saved.window, saved.near], [4, 0.2]);
    await w.reload();
    await w.page.locator('[data-testid="find"]').waitFor();
    assert.equal(await w.page.locator('[data-testid="window-select"]').evaluate((e) => (e as HTMLElement & { value: string }).value), '4');
    assert.equal(await w.page.locator('[data-testid="near-box"]').evaluate((e) => (e as HTMLElement & { checked: boolean }).checked), true);
    await assertClean(w);
  } finally {
    await w.close();
  }
});
