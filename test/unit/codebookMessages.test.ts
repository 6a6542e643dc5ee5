import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { isSafeRelativePath, parseCodebookMessage } from '../../src/extension/sidePanel/codebookMessages';
import { contentSecurityPolicy, makeNonce, webviewHtml } from '../../src/extension/sidePanel/webviewHtml';

test('parseCodebookMessage accepts the protocol shapes', () => {
  assert.deepEqual(parseCodebookMessage({ type: 'codebook/ready' }), { type: 'codebook/ready', root: undefined });
  assert.deepEqual(parseCodebookMessage({ type: 'codebook/ready', root: '/d' }), { type: 'codebook/ready', root: '/d' });
  assert.deepEqual(parseCodebookMessage({ type: 'codebook/refresh', extra: 1 }), { type: 'codebook/refresh' });
  assert.deepEqual(parseCodebookMessage({ type: 'codebook/selectDataset', root: '/d' }), { type: 'codebook/selectDataset', root: '/d' });
  assert.deepEqual(parseCodebookMessage({ type: 'codebook/tokenUses', messageId: 3, root: '/d', token: 42 }), { type: 'codebook/tokenUses', messageId: 3, root: '/d', token: 42 });
  assert.deepEqual(parseCodebookMessage({ type: 'codebook/openPatch', root: '/d', image: 'a b/c.png', row: 0, col: 23 }), { type: 'codebook/openPatch', root: '/d', image: 'a b/c.png', row: 0, col: 23 });
});

test('parseCodebookMessage drops anything else', () => {
  const bad: unknown[] = [
    null,
    'codebook/refresh',
    [],
    { type: 'codebook/unknown' },
    { type: 'codebook/selectDataset' },
    { type: 'codebook/selectDataset', root: 5 },
    { type: 'codebook/selectDataset', root: '' },
    { type: 'codebook/tokenUses', messageId: 1, root: '/d', token: -1 },
    { type: 'codebook/tokenUses', messageId: 1, root: '/d', token: 1.5 },
    { type: 'codebook/tokenUses', messageId: '1', root: '/d', token: 1 },
    { type: 'codebook/openPatch', root: '/d', image: '../etc/passwd', row: 0, col: 0 },
    { type: 'codebook/openPatch', root: '/d', image: '/etc/passwd', row: 0, col: 0 },
    { type: 'codebook/openPatch', root: '/d', image: 'a.png', row: -1, col: 0 },
    { type: 'codebook/openPatch', root: '/d', image: 'a.png', row: 0, col: '0' },
    { type: 'codebook/ready', root: 7 },
  ];
  for (const m of bad) assert.equal(parseCodebookMessage(m), undefined, JSON.stringify(m));
});

test('isSafeRelativePath', () => {
  for (const ok of ['a.png', 'a/b.png', '<script>.png', 'ü/ß.jpg', '..a.png']) assert.equal(isSafeRelativePath(ok), true, ok);
  for (const no of ['', '/a.png', 'a/../b.png', './a.png', 'a//b.png', 'a\\b.png', 'C:/x.png', 'a\0.png', 5]) assert.equal(isSafeRelativePath(no), false, String(no));
});

test('webviewHtml: a strict CSP with the nonce; scripts only with it; attributes escaped', () => {
  const nonce = makeNonce();
  assert.match(nonce, /^[A-Za-z0-9]{16,}$/);
  assert.notEqual(makeNonce(), nonce);
  const csp = contentSecurityPolicy('https://x.vscode-cdn.net', nonce);
  assert.match(csp, /^default-src 'none'; /);
  assert.match(csp, new RegExp(`script-src 'nonce-${nonce}'`));
  assert.doesNotMatch(csp, /unsafe-(inline|eval)/);
  const html = webviewHtml({ cspSource: 'https://x', nonce, scriptUri: 'https://x/a.js?"><script>', styleUri: 'https://x/a.css', codiconUri: 'https://x/c.css', title: 'Codebook' });
  assert.equal((html.match(/<script/g) ?? []).length, 1);
  assert.match(html, new RegExp(`<script nonce="${nonce}" src="https://x/a.js\\?&quot;&gt;&lt;script&gt;"></script>`));
  assert.match(html, /id="vscode-codicon-stylesheet"/);
});
