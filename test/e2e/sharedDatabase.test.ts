// A team's database in VS Code (code-server): a Lance database on an S3
// fake (s3rver on 127.0.0.1), built by two CLI builders (--part 1/2, 2/2,
// then --finalize) from another copy of the dataset, named for the workspace
// folder by patchlens.databases. The
// credentials are set through Set Storage Credentials… (VS Code's secret
// storage; the extension host has no AWS_* variables); the Index view shows
// where the database is and its Lance index; the inspector lists retrieved
// patches from it; its fidelity is measured; a build from VS Code appends to
// it; wrong credentials, and an endpoint where nothing listens, each give
// one line (Index view, notification, inspector) and the credentials command,
// within seconds (no hang); no secret reaches the log.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as net from 'node:net';
import { promisify } from 'node:util';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Locator } from 'playwright-core';
import { tempDir, texturedImage, writeDataset } from '../support/fixtures';
import { writeTinyModel } from '../support/tinyModel';
import { launchVSCode, sideBarPane, type VSCode } from '../support/vscode';
import { clickCell } from '../support/patchGrid';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (o: object) => { run(): Promise<{ port: number }>; close(): Promise<void> };

const repo = path.resolve(__dirname, '..', '..');
const DB = 's3://bucket/team/photos';
const K = 6;
const IMAGES = 8;
let vs: VSCode;
let server: InstanceType<typeof S3rver>;
let endpoint = '';
let names: string[] = [];

before(
  async () => {
    const work = tempDir('pl-e2e-shared-');
    server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: path.join(work, 's3'), configureBuckets: [{ name: 'bucket' }] });
    endpoint = `http://127.0.0.1:${(await server.run()).port}`;
    const model = writeTinyModel(path.join(work, 'model'), { size: 64, patch: 8, dim: 4, codes: 64 });
    // A builder machine's copy of the dataset, and this machine's (another path, other file times).
    const builder = path.join(work, 'builder', 'photos');
    names = await writeDataset(builder, IMAGES, { seed: 21 });
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: endpoint,
      AWS_ALLOW_HTTP: 'true',
    };
    // Two builders, each its part, then the index (one after the other: s3rver ignores conditional writes).
    // Not execFileSync: s3rver answers from this process.
    const index = (...args: string[]) =>
      promisify(execFile)(process.execPath, [path.join(repo, 'bin', 'patchlens.js'), 'index', builder, '--db', DB, '--model', model, '--quiet', ...args], {
        env,
        encoding: 'utf8',
      });
    await index('--part', '1/2');
    await index('--part', '2/2');
    await index('--finalize');
    const ws = path.join(work, 'photos');
    fs.cpSync(builder, ws, { recursive: true });
    vs = await launchVSCode({
      name: 'shared-database',
      workspace: ws,
      settings: { 'patchlens.databases': { [ws]: DB }, 'patchlens.model': model, 'patchlens.autoUpdate': false, 'patchlens.topK': K },
    });
    await vs.waitForLog(/Patch Lens .* activated/, { timeoutMs: 90_000 });
  },
  { timeout: 10 * 60_000 },
);

after(async () => {
  await vs?.close();
  await server?.close();
});

async function indexPane(): Promise<Locator> {
  const tab = vs.page.locator('.part.activitybar').getByRole('tab', { name: /^Patch Lens/ });
  await tab.waitFor({ timeout: 60_000 });
  if ((await tab.getAttribute('aria-selected')) !== 'true') await tab.click();
  // Room for the Index view's rows (a row scrolled out of the tree is not in the page): the other views folded.
  for (const [title, expanded] of [
    ['Datasets', false],
    ['Codebook', false],
    ['Index', true],
  ] as const) {
    const header = sideBarPane(vs.page, title).locator('.pane-header').first();
    await header.waitFor();
    if ((await header.getAttribute('aria-expanded')) !== String(expanded)) await header.click();
  }
  return sideBarPane(vs.page, 'Index');
}

/** Answers the input boxes of Set Storage Credentials…, one after another. */
async function setCredentials(accessKeyId: string, secret: string, at = endpoint): Promise<void> {
  await vs.runCommand('Patch Lens: Set Storage Credentials…');
  const widget = vs.page.locator('.quick-input-widget');
  const input = widget.locator('input').first();
  for (const [prompt, value] of [
    ['Access key ID', accessKeyId],
    ['Secret access key', secret],
    ['Region', 'us-east-1'],
    ['Endpoint URL', at],
  ] as const) {
    await widget.filter({ hasText: prompt }).waitFor();
    await input.fill(value);
    await input.press('Enter');
  }
  await vs.page.locator('.notification-toast').filter({ hasText: 'credentials for s3://bucket saved' }).first().waitFor();
}

test('Set Storage Credentials… then the Index view shows the s3:// database and its Lance index', { timeout: 180_000 }, async () => {
  await setCredentials('S3RVER', 'S3RVER');
  const ix = await indexPane();
  const where = ix.getByRole('treeitem', { name: /^Database/ }).first();
  await where.waitFor({ timeout: 60_000 });
  assert.match(await where.innerText(), /s3:\/\/bucket\/team\/photos \(user settings\)/);
  const index = ix.getByRole('treeitem', { name: /^Index: Lance/ }).first();
  await index.waitFor({ timeout: 60_000 });
  assert.match(await index.innerText(), /flat \(exact\) search/);
  assert.match(
    await ix
      .getByRole('treeitem', { name: /^Images/ })
      .first()
      .innerText(),
    new RegExp(`^\\s*Images\\s*${IMAGES}\\s*$`),
    'the copy\'s images are the indexed ones (no "changed")',
  );
  await vs.waitForLog(`Connecting to ${DB} with the credentials kept for s3://bucket (endpoint ${endpoint})`);
  await vs.screenshot('shared-database-index');
});

test('the inspector lists retrieved patches from the shared database', { timeout: 180_000 }, async () => {
  await vs.runCommand('View: Show Explorer');
  await vs.rightClickExplorerItem(names[3], 'Inspect Patches');
  const frame = vs.webview({ extensionId: 'patchlens.patch-lens' });
  await frame.getByTestId('image-name').filter({ hasText: names[3] }).waitFor({ timeout: 60_000 });
  await frame.locator('[data-testid="patch-grid"][data-rows="8"]').waitFor({ timeout: 60_000 });
  await clickCell(vs.page, frame, 4, 4);
  const items = frame.getByTestId('retrieved-item');
  await items.nth(K - 1).waitFor({ timeout: 60_000 });
  assert.equal(await items.count(), K);
  const images = await items.evaluateAll((es) => es.map((e) => e.getAttribute('data-image')));
  assert.ok(
    images.every((i) => i && i !== names[3] && names.includes(i)),
    JSON.stringify(images),
  );
  await vs.screenshot('shared-database-inspector');
});

test('Measure Index Fidelity on the shared database: the Index view shows its recall', { timeout: 180_000 }, async () => {
  await vs.runCommand('Patch Lens: Measure Index Fidelity');
  await vs.waitForLog(/Index fidelity of .*photos: recall@10 100% at flat \(exact\) search/, { timeoutMs: 120_000 });
  const ix = await indexPane();
  const row = ix.getByRole('treeitem', { name: /^Fidelity/ }).first();
  await row.waitFor();
  assert.match(await row.innerText(), /recall@10 100%/);
});

test('Build from VS Code appends to the shared database', { timeout: 180_000 }, async () => {
  await (await texturedImage(64, 64, 77)).png().toFile(path.join(vs.workspace, 'added.png'));
  await vs.runCommand('Patch Lens: Build or Update Patch Database');
  await vs.waitForLog(new RegExp(`photos: ${IMAGES + 1} images, \\d+ entries \\(1 added, 0 updated, 0 removed\\)`), { timeoutMs: 120_000 });
  await vs.waitForLog(`Building ${DB} for ${vs.workspace}`);
});

test(
  'wrong credentials: one line in the inspector, the Index view and a notification, with the credentials command; no secret in the log',
  { timeout: 180_000 },
  async () => {
    await setCredentials('NOBODY', 'not-the-secret');
    // the open inspector (with the Explorer in the side bar, the one webview) says it in one line, with the command
    await vs.runCommand('View: Show Explorer');
    const status = vs.webview({ extensionId: 'patchlens.patch-lens' }).getByTestId('status');
    await status
      .filter({ hasText: 'the store refused the credentials. Run Patch Lens: Set Storage Credentials… to change them.' })
      .waitFor({ timeout: 90_000 });
    assert.doesNotMatch((await status.textContent()) ?? '', /--storage-option|AWS_ACCESS_KEY_ID/);
    const ix = await indexPane();
    const row = ix.getByRole('treeitem', { name: /^Credentials refused/ }).first();
    await row.waitFor({ timeout: 90_000 });
    assert.match(await row.innerText(), /cannot open the Lance database s3:\/\/bucket\/team\/photos: the store refused/);
    const toast = vs.page
      .locator('.notification-toast')
      .filter({ hasText: /the store refused the credentials/ })
      .first();
    await toast.waitFor();
    await toast.getByRole('button', { name: 'Set Storage Credentials…' }).waitFor();
    await vs.screenshot('shared-database-refused');
    const log = vs.logs().patchLens;
    assert.ok(!log.includes('not-the-secret') && !log.includes('S3RVER'), 'no credential in the Patch Lens log');
    await vs.runCommand('Patch Lens: Clear Storage Credentials');
    await vs.page.locator('.notification-toast').filter({ hasText: 'credentials for s3://bucket removed' }).first().waitFor();
  },
);

/** A loopback port nothing listens on (bound, then closed: connections to it are refused). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

test('an unreachable endpoint: one line in the inspector, the Index view and a notification, within seconds', { timeout: 180_000 }, async () => {
  const down = `http://127.0.0.1:${await closedPort()}`;
  await setCredentials('S3RVER', 'S3RVER', down);
  const t0 = Date.now();
  const line = `cannot open the Lance database ${DB}: the store cannot be reached (endpoint ${down})`;
  await vs.runCommand('View: Show Explorer');
  const status = vs.webview({ extensionId: 'patchlens.patch-lens' }).getByTestId('status');
  // object_store's retries are cut to seconds (lanceStore's QUICK_FAILURE): a refused connection is no hang
  await status.filter({ hasText: `${line}. Run Patch Lens: Set Storage Credentials… to change them.` }).waitFor({ timeout: 60_000 });
  const inspectorS = (Date.now() - t0) / 1000;
  assert.doesNotMatch((await status.textContent()) ?? '', /--storage-option|AWS_ENDPOINT_URL/);
  const ix = await indexPane();
  const row = ix.getByRole('treeitem', { name: /^Store unreachable/ }).first();
  await row.waitFor({ timeout: 60_000 });
  // the row's description is the line cut to 80 characters; its tooltip holds all of it
  assert.match(await row.innerText(), /cannot open the Lance database s3:\/\/bucket\/team\/photos: the store cannot be/);
  const toast = vs.page.locator('.notification-toast').filter({ hasText: line }).first();
  await toast.waitFor({ timeout: 60_000 });
  await toast.getByRole('button', { name: 'Set Storage Credentials…' }).waitFor();
  await vs.screenshot('shared-database-unreachable');
  console.log(`unreachable endpoint: the inspector said so ${inspectorS.toFixed(1)} s after the credentials were saved`);
  const log = vs.logs().patchLens;
  assert.ok(log.includes(line), 'the line is in the Patch Lens log');
  assert.ok(!log.includes('S3RVER'), 'no credential in the Patch Lens log');
  await vs.runCommand('Patch Lens: Clear Storage Credentials');
  await vs.page.locator('.notification-toast').filter({ hasText: 'credentials for s3://bucket removed' }).first().waitFor();
});
