// Archives as folders in a real VS Code (code-server): a WebDataset shard
// made by GNU tar (images with .txt captions and .json metadata) in the
// workspace is listed in the Datasets view as a folder, a big shard a page at
// a time ("Show more…"); after a build, a member opens in the inspector with
// its caption, the retrieved patches carry their source members' captions and
// open, Go to Patch takes a member id and VS Code's own image preview opens
// one; a row of an AR-RAG code shard (h5py, no pixels) shows its token map in
// the token colours.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FrameLocator, Locator } from 'playwright-core';
import { tempDir, texturedImage } from '../support/fixtures';
import { writeTinyModel } from '../support/tinyModel';
import { commandQuickInput, launchVSCode, sideBarPane, webviewWith, type VSCode } from '../support/vscode';
import { clickCell } from '../support/patchGrid';
import { ARCHIVE_PAGE } from '../../src/extension/sidePanel/datasetTreeModel';
import { tokenRgb } from '../../src/core/tokenColours';

const SMALL = 12;
/** The captioned sample inspected; sample SMALL - 1 is the same picture under another key. */
const TWIN = 3;
const CODE_ROWS = 3;
let codeTokens: number[][] = [];
const BIG = ARCHIVE_PAGE + 20;
const K = 6;
let vs: VSCode;
let ws: string;

const key = (i: number) => String(i).padStart(9, '0');
const caption = (i: number) => `a photo of sample ${i}, seen from above`;

/** A WebDataset shard written by GNU tar: <key>.jpg, <key>.txt and <key>.json per sample. */
async function writeShard(out: string, n: number, seed: number, withMeta: boolean): Promise<void> {
  const staging = tempDir('pl-e2e-shard-');
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    // the captioned shard's last sample is the same picture as its sample 3: the nearest patches to one are the other's
    const picture = withMeta && i === n - 1 ? TWIN : i;
    await (
      await texturedImage(64 + (picture % 3) * 8, 64, seed * 1000 + picture)
    )
      .jpeg({ quality: picture === i ? 90 : 88 })
      .toFile(path.join(staging, `${key(i)}.jpg`)); // the twin: other bytes
    names.push(`${key(i)}.jpg`);
    if (withMeta) {
      fs.writeFileSync(path.join(staging, `${key(i)}.txt`), `${caption(i)}\n`);
      fs.writeFileSync(path.join(staging, `${key(i)}.json`), JSON.stringify({ key: key(i), width: 64, url: `https://example.org/${i}.jpg` }));
      names.push(`${key(i)}.txt`, `${key(i)}.json`);
    }
  }
  fs.mkdirSync(path.dirname(out), { recursive: true });
  execFileSync('tar', ['--format=gnu', '-cf', out, '-C', staging, ...names.sort()]);
}

before(
  async () => {
    const work = tempDir('pl-datasets-');
    const model = writeTinyModel(path.join(work, 'model'), { size: 64, patch: 8, dim: 4, codes: 128 });
    ws = path.join(work, 'shards-ws');
    await writeShard(path.join(ws, 'shards', '00000.tar'), SMALL, 5, true);
    await writeShard(path.join(ws, 'big', '00001.tar'), BIG, 6, false);
    // AR-RAG's layout (img2code_L.py), for the model's 8x8 grid of d=4 latents
    fs.mkdirSync(path.join(ws, 'codes'));
    const made = execFileSync(
      '/usr/bin/python3',
      [
        '-c',
        `
import h5py, json, numpy as np
rng = np.random.default_rng(3)
t = rng.integers(0, 128, (${CODE_ROWS}, 64)).astype(np.int64)
v = rng.standard_normal((${CODE_ROWS}, 64, 4)).astype(np.float32)
with h5py.File(${JSON.stringify(path.join(ws, 'codes', 'shard-0.h5'))}, 'w') as f:
    f.create_dataset('indices', data=t)
    f.create_dataset('vectors', data=v / np.linalg.norm(v, axis=-1, keepdims=True))
print(json.dumps(t.tolist()))
`,
      ],
      { encoding: 'utf8' },
    );
    codeTokens = JSON.parse(made) as number[][];
    fs.mkdirSync(path.join(ws, '.vscode'));
    fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), JSON.stringify({ 'patchlens.model': model, 'patchlens.topK': K }));
    vs = await launchVSCode({ name: 'datasets', workspace: ws });
    await vs.waitForLog('activated', { timeoutMs: 90_000 });
  },
  { timeout: 10 * 60_000 },
);

after(async () => {
  await vs?.close();
});

function pane(title: string): Locator {
  return sideBarPane(vs.page, title);
}

function treeItem(p: Locator, name: string | RegExp): Locator {
  return p.getByRole('treeitem', { name }).first();
}

/** Moves the tree's focus down a page at a time until a row matching `name` is drawn. */
async function pageDownTo(p: Locator, name: RegExp): Promise<Locator> {
  const row = p.getByRole('treeitem', { name }).first();
  for (let i = 0; i < 60 && !(await row.isVisible()); i++) {
    if (i === 0) await p.locator('.monaco-list').first().focus();
    await vs.page.keyboard.press('PageDown');
  }
  await row.waitFor({ timeout: 10_000 });
  return row;
}

/** Expands a tree row; clicks again if a redraw of the tree (a build finishing, statuses) swallowed the click. */
async function expand(item: Locator): Promise<void> {
  await item.waitFor({ timeout: 60_000 });
  const expanded = item.and(vs.page.locator('[aria-expanded="true"]'));
  for (let attempt = 0; ; attempt++) {
    if ((await item.getAttribute('aria-expanded')) === 'false') await item.click();
    try {
      await expanded.waitFor({ timeout: 10_000 });
      return;
    } catch (e) {
      if (attempt === 2) throw e;
    }
  }
}

/** The visible inspector's document once its grid is drawn for `name`. */
async function inspector(name: string | RegExp): Promise<FrameLocator> {
  const doc = await webviewWith(vs, '[data-testid="image-name"]', { hasText: name }).catch(async (e: Error) => {
    const tabs = await vs.page.locator('.tabs-container .tab').allInnerTexts();
    throw new Error(`${e.message} (tabs: ${JSON.stringify(tabs)})`);
  });
  await doc.locator('[data-testid="patch-grid"][data-rows]').waitFor({ timeout: 60_000 });
  return doc;
}

/**
 * "Inspect Patches" from a row's context menu, until the member's tab opens: a redraw of the tree as the build's
 * statuses arrive can take the row from under the menu (as `expand` clicks again), leaving the menu open and its item
 * without effect; so this closes such a menu and asks again, then twice by a plain click on the row (its command).
 */
async function inspectFromMenu(row: Locator, name: string): Promise<void> {
  const tab = vs.page.locator('.tabs-container .tab').filter({ hasText: name }).first();
  const menu = vs.page.locator('.context-view .monaco-menu');
  for (let attempt = 0; ; attempt++) {
    // A menu left open by the try before (its item's click fell on a redraw) covers the tree: close it first.
    if (await menu.isVisible()) {
      await vs.page.keyboard.press('Escape');
      await menu.waitFor({ state: 'hidden', timeout: 5_000 });
    }
    let closed = true;
    if (attempt < 2) {
      await row.click({ button: 'right' });
      await menu.getByRole('menuitem', { name: 'Inspect Patches' }).click();
      closed = await menu
        .waitFor({ state: 'hidden', timeout: 5_000 })
        .then(() => true)
        .catch(() => false);
    } else {
      await row.click(); // the row's own command, Inspect Patches, as a plain click runs it
    }
    try {
      if (!closed) throw new Error('the context menu stayed open: its item did not take the click');
      await tab.waitFor({ timeout: 30_000 });
      return;
    } catch (e) {
      await vs.screenshot(`inspect-no-tab-${attempt}`);
      if (attempt === 3) throw e;
    }
  }
}

async function openPatchLens(): Promise<Locator> {
  const item = vs.page.locator('.part.activitybar').getByRole('tab', { name: /^Patch Lens/ });
  await item.waitFor({ timeout: 60_000 });
  if ((await item.getAttribute('aria-selected')) !== 'true') await item.click();
  const ds = pane('Datasets');
  await ds.waitFor();
  return ds;
}

test('the Datasets view lists a tar shard as a folder of its members, a big one a page at a time', { timeout: 180_000 }, async () => {
  const ds = await openPatchLens();
  await expand(treeItem(ds, /^shards(?!-ws)/));
  await expand(treeItem(ds, /^00000\.tar/));
  await treeItem(ds, /^000000003\.jpg/).waitFor({ timeout: 60_000 });
  // Only the images are rows: the captions and metadata are not.
  assert.equal(await ds.getByRole('treeitem', { name: /^000000003\.(txt|json)/ }).count(), 0);
  await vs.screenshot('shard-as-folder');

  await treeItem(ds, /^00000\.tar/).click(); // collapse it again: the big shard's rows come into view
  await expand(treeItem(ds, /^big/));
  await expand(treeItem(ds, /^00001\.tar/));
  // the first page: its last member, then the row for the next page (the tree draws only the rows in view)
  await treeItem(ds, /^000000000\.jpg/).waitFor({ timeout: 60_000 });
  await pageDownTo(ds, new RegExp(`^${key(ARCHIVE_PAGE - 1)}\\.jpg`));
  const more = await pageDownTo(ds, /^Show more/);
  assert.match(await more.innerText(), new RegExp(`Show more… \\(${BIG - ARCHIVE_PAGE} of ${BIG - ARCHIVE_PAGE} more\\)`));
  assert.equal(await ds.getByRole('treeitem', { name: new RegExp(`^${key(ARCHIVE_PAGE)}\\.jpg`) }).count(), 0, 'the second page is not listed yet');
  await vs.screenshot('big-shard-first-page');
  await more.click();
  await vs.page.mouse.move(800, 500); // off the tree: no hover over its rows
  await ds.getByRole('treeitem', { name: /^Show more/ }).waitFor({ state: 'detached', timeout: 30_000 });
  await pageDownTo(ds, new RegExp(`^${key(BIG - 1)}\\.jpg`));
  assert.equal(await ds.getByRole('treeitem', { name: /^Show more/ }).count(), 0);
  await vs.screenshot('big-shard-second-page');
  // back to the top, the big shard's folder collapsed again
  await vs.page.keyboard.press('Home');
  const big = treeItem(ds, /^big/);
  await big.waitFor();
  await big.click();
  await big.and(vs.page.locator('[aria-expanded="false"]')).waitFor({ timeout: 30_000 });
});

test('the build indexes every member of the shards and the code rows', { timeout: 240_000 }, async () => {
  await vs.runCommand('Patch Lens: Build or Update Patch Database');
  await vs.waitForLog(new RegExp(`shards-ws: ${SMALL + BIG + CODE_ROWS} images, [\\d,]+ entries`), { timeoutMs: 180_000 });
});

test('after a build a member opens in the inspector with its caption; retrieved members show theirs and open', { timeout: 300_000 }, async () => {
  const ds = await openPatchLens();
  await expand(treeItem(ds, /^shards(?!-ws)/));
  await expand(treeItem(ds, /^00000\.tar/));
  const member = treeItem(ds, new RegExp(`^${key(TWIN)}\\.jpg.*8×8 tokens`));
  await member.waitFor({ timeout: 60_000 });
  await inspectFromMenu(member, `${key(TWIN)}.jpg`);
  const frame = await inspector(`${key(TWIN)}.jpg`);
  assert.equal((await frame.getByTestId('image-caption').textContent())?.trim(), caption(TWIN));
  assert.ok(await frame.locator('.stage .image').evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth > 0), 'the member is drawn');
  await vs.screenshot('member-inspector');

  await clickCell(vs.page, frame, 4, 4);
  const items = frame.getByTestId('retrieved-item');
  await items.nth(K - 1).waitFor({ timeout: 60_000 });
  await frame.locator('.thumb-image[src^="blob:"]').first().waitFor({ timeout: 30_000 });
  // The retrieved patches come from members of both shards; those of the captioned one show their captions.
  const rows = await items.evaluateAll((es) =>
    es.map((e) => ({
      image: e.getAttribute('data-image')!,
      row: e.getAttribute('data-row'),
      col: e.getAttribute('data-col'),
      caption: e.querySelector('[data-testid="retrieved-caption"]')?.textContent ?? '',
    })),
  );
  for (const r of rows) {
    const m = /^shards\/00000\.tar\/(\d{9})\.jpg$/.exec(r.image);
    if (m) assert.equal(r.caption, caption(Number(m[1])), JSON.stringify(r));
    else assert.match(r.image, /^big\/00001\.tar\/\d{9}\.jpg$/);
  }
  const i = rows.findIndex((r) => r.image === `shards/00000.tar/${key(SMALL - 1)}.jpg`);
  assert.ok(i >= 0, `the twin's patch is retrieved: ${JSON.stringify(rows)}`);
  assert.equal(rows[i].caption, caption(SMALL - 1));
  await vs.screenshot('member-retrieved');
  await items.nth(i).click();
  const name = path.posix.basename(rows[i].image);
  const opened = await inspector(name);
  const sel = opened.getByTestId('selected-patch');
  await sel.waitFor({ timeout: 30_000 });
  assert.deepEqual([await sel.getAttribute('data-row'), await sel.getAttribute('data-col')], [rows[i].row, rows[i].col]);
  assert.equal((await opened.getByTestId('image-caption').textContent())?.trim(), caption(Number(name.slice(0, 9))));
  await vs.screenshot('member-retrieved-opened');
});

test('Go to Patch takes a member id', { timeout: 120_000 }, async () => {
  const input = await commandQuickInput(vs, 'Patch Lens: Go to Patch…');
  // the members the database holds are offered as the id is typed
  await input.fill('shards/00000.tar/00000000');
  const rows = vs.page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
  await rows.filter({ hasText: '000000007.jpg' }).waitFor();
  assert.match((await rows.first().textContent()) ?? '', /00000000\d\.jpg.*shards\/00000\.tar/);
  // an out-of-range cell of a member is flagged while typing, as for a plain file
  await input.fill('shards/00000.tar/000000007.jpg:99,2');
  await vs.page
    .locator('.quick-input-widget')
    .getByText(/outside the 8×8 grid/)
    .waitFor();
  await input.fill('shards/00000.tar/000000007.jpg:5,2');
  await vs.page.keyboard.press('Enter');
  const frame = await inspector('000000007.jpg');
  const sel = frame.getByTestId('selected-patch');
  await sel.waitFor({ timeout: 30_000 });
  assert.deepEqual([await sel.getAttribute('data-row'), await sel.getAttribute('data-col')], ['5', '2']);
  assert.equal((await frame.getByTestId('image-caption').textContent())?.trim(), caption(7));
  assert.doesNotMatch(vs.logs().patchLens, /\[error\]/);
});

test("VS Code's own image preview opens a member too (Reopen Editor With… on its inspector)", { timeout: 120_000 }, async () => {
  // The inspector of member 7 (Go to Patch, above) is the active editor.
  await vs.page.locator('.tabs-container .tab.active').filter({ hasText: '000000007.jpg' }).waitFor({ timeout: 30_000 });
  await vs.runCommand('View: Reopen Editor With...');
  const input = vs.page.locator('.quick-input-widget input').first();
  await input.waitFor();
  await input.fill('Image Preview');
  await vs.page
    .locator('.quick-input-widget')
    .getByRole('option', { name: /Image Preview/ })
    .first()
    .click();
  // the media-preview extension marks its page ready once the picture has loaded through the archive file system
  const preview = await webviewWith(vs, 'body.ready img');
  const size = await preview
    .locator('img')
    .first()
    .evaluate((i: HTMLImageElement) => [i.naturalWidth, i.naturalHeight]);
  assert.deepEqual(size, [64 + (7 % 3) * 8, 64]);
  await vs.screenshot('member-image-preview');
});

test("a row of an AR-RAG code shard opens as its token map, each cell in its token's colour", { timeout: 120_000 }, async () => {
  const input = await commandQuickInput(vs, 'Patch Lens: Go to Patch…');
  await input.fill('codes/shard-0.h5/1:3,5');
  await vs.page.keyboard.press('Enter');
  const frame = await inspector(/^1$/);
  const img = frame.locator('.stage .image');
  await img.evaluate((i: HTMLImageElement) =>
    i.complete && i.naturalWidth > 0 ? undefined : new Promise((ok) => i.addEventListener('load', ok, { once: true })),
  );
  // the centre of every cell, read back from the picture the inspector shows
  const pixels = await img.evaluate((i: HTMLImageElement) => {
    const c = document.createElement('canvas');
    c.width = i.naturalWidth;
    c.height = i.naturalHeight;
    const g = c.getContext('2d')!;
    g.drawImage(i, 0, 0);
    const out: number[][] = [];
    for (let cell = 0; cell < 64; cell++) {
      const x = Math.floor(((cell % 8) + 0.5) * (c.width / 8));
      const y = Math.floor((Math.floor(cell / 8) + 0.5) * (c.height / 8));
      out.push(Array.from(g.getImageData(x, y, 1, 1).data.slice(0, 3)));
    }
    return out;
  });
  for (let cell = 0; cell < 64; cell++) {
    const want = tokenRgb(codeTokens[1][cell]);
    assert.ok(
      pixels[cell].every((v, i) => Math.abs(v - want[i]) <= 2),
      `cell ${cell}: ${pixels[cell]} is not token ${codeTokens[1][cell]}'s ${want}`,
    );
  }
  const sel = frame.getByTestId('selected-patch');
  await sel.waitFor({ timeout: 30_000 });
  assert.deepEqual([await sel.getAttribute('data-row'), await sel.getAttribute('data-col')], ['3', '5']);
  await frame.getByTestId('retrieved-item').first().waitFor({ timeout: 60_000 });
  await frame.locator('.thumb-image[src^="blob:"]').first().waitFor({ timeout: 30_000 });
  await vs.screenshot('code-row-token-map');
  assert.doesNotMatch(vs.logs().patchLens, /\[error\]/);
});
