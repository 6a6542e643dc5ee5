import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { codebookEndpoint, isSafeRelativePath, parseCodebookMessage } from '../../src/extension/sidePanel/codebookMessages';
import { checkMessage } from '../../src/messageSchema';
import { codebookConsistent, hostToCodebookSchema, type HostToCodebook } from '../../src/protocol';

const ok = (m: unknown) => {
  const r = parseCodebookMessage(m);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.ok ? r.message : undefined;
};

test('parseCodebookMessage accepts the protocol shapes', () => {
  assert.deepEqual(ok({ type: 'ready' }), { type: 'ready' });
  assert.deepEqual(ok({ type: 'refresh' }), { type: 'refresh' });
  assert.deepEqual(ok({ type: 'selectDataset', root: '/d' }), { type: 'selectDataset', root: '/d' });
  assert.deepEqual(ok({ type: 'build', root: '/d' }), { type: 'build', root: '/d' });
  assert.deepEqual(ok({ type: 'tokenUses', messageId: 3, root: '/d', token: 42 }), { type: 'tokenUses', messageId: 3, root: '/d', token: 42 });
  assert.deepEqual(ok({ type: 'openPatch', root: '/d', image: 'a b/<c>.png', row: 0, col: 23 }), {
    type: 'openPatch',
    root: '/d',
    image: 'a b/<c>.png',
    row: 0,
    col: 23,
  });
});

test('parseCodebookMessage rejects anything else, with a reason', () => {
  const bad: unknown[] = [
    null,
    'refresh',
    [],
    { type: 'unknown' },
    { type: 'refresh', extra: 1 },
    { type: 'selectDataset' },
    { type: 'selectDataset', root: 5 },
    { type: 'selectDataset', root: '' },
    { type: 'tokenUses', messageId: 1, root: '/d', token: -1 },
    { type: 'tokenUses', messageId: 1, root: '/d', token: 1.5 },
    { type: 'tokenUses', messageId: '1', root: '/d', token: 1 },
    { type: 'tokenUses', messageId: 0, root: '/d', token: 1 },
    { type: 'openPatch', root: '/d', image: '../etc/passwd', row: 0, col: 0 },
    { type: 'openPatch', root: '/d', image: '/etc/passwd', row: 0, col: 0 },
    { type: 'openPatch', root: '/d', image: 'a.png', row: -1, col: 0 },
    { type: 'openPatch', root: '/d', image: 'a.png', row: 0, col: '0' },
  ];
  for (const m of bad) {
    const r = parseCodebookMessage(m);
    assert.equal(r.ok, false, JSON.stringify(m));
    if (!r.ok) assert.ok(r.reason.length > 0);
  }
});

test('isSafeRelativePath', () => {
  for (const p of ['a.png', 'a/b.png', '<script>.png', 'ü/ß.jpg', '..a.png']) assert.equal(isSafeRelativePath(p), true, p);
  for (const p of ['', '/a.png', 'a/../b.png', './a.png', 'a//b.png', 'a\\b.png', 'C:/x.png', 'a\0.png', 5])
    assert.equal(isSafeRelativePath(p), false, String(p));
});

test('host messages: the codebook schema and its consistency check', () => {
  const data = {
    root: '/d',
    model: 'm',
    codebookSize: 4,
    patch: 2,
    counts: new Uint32Array(4),
    prototypes: new Uint8Array(4 * 2 * 2 * 3),
    images: 1,
    staleImages: 0,
    generation: 1,
  };
  const m = { type: 'codebook', data } as HostToCodebook;
  assert.ok(checkMessage(hostToCodebookSchema, m).ok);
  assert.equal(codebookConsistent(m), undefined);
  assert.match(codebookConsistent({ type: 'codebook', data: { ...data, counts: new Uint32Array(3) } })!, /counts has 3 entries for 4 codes/);
  assert.match(codebookConsistent({ type: 'codebook', data: { ...data, prototypes: new Uint8Array(5) } })!, /prototypes has 5 bytes/);
  assert.equal(checkMessage(hostToCodebookSchema, { type: 'codebook', data: { ...data, counts: [0, 0, 0, 0] } }).ok, false);
  const uses = {
    type: 'tokenUsesResult',
    inReplyTo: 1,
    token: 3,
    uses: [{ image: 'a.png', positions: [{ row: 0, col: 1 }] }],
    totalImages: 1,
    totalPositions: 1,
  };
  assert.ok(checkMessage(hostToCodebookSchema, uses).ok);
  assert.equal(checkMessage(hostToCodebookSchema, { ...uses, uses: [{ image: 'a.png', positions: [{ row: -1, col: 1 }] }] }).ok, false);
});

test('a rejected codebook request is answered with an error at once (the webview does not wait for its time-out)', () => {
  const posted: HostToCodebook[] = [];
  const warned: string[] = [];
  const endpoint = codebookEndpoint((m) => posted.push(m), { warn: (m) => warned.push(m), error: () => {} });
  let calls = 0;
  endpoint.handle('tokenUses', () => {
    calls++;
    return undefined;
  });
  endpoint.receive({ type: 'tokenUses', messageId: 7, root: '/d', token: -1 });
  endpoint.receive({ type: 'tokenUses', messageId: 8, root: '', token: 1 });
  assert.equal(calls, 0);
  assert.deepEqual(
    posted.map((m) => m.type === 'error' && [m.inReplyTo, m.kind]),
    [
      [7, 'InvalidMessage'],
      [8, 'InvalidMessage'],
    ],
  );
  assert.equal(warned.length, 2);
  assert.match(warned[1], /root is empty/);
});
