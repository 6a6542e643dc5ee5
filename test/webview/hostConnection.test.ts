// The webview's messaging client: requests matched by messageId/inReplyTo,
// error answers and time-outs as rejections, incoming messages checked
// against the schema (rejections reported, never handled). Runs in Node with
// a window stand-in: the class only needs addEventListener and MessageEvent.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { HostConnection, HostError } from '../../webview/shared/hostConnection';
import { hostToInspectorSchema, INSPECTOR_REPLIES, type HostToInspector, type InspectorReplies, type InspectorToHost } from '../../src/protocol';

(globalThis as unknown as { window: EventTarget }).window ??= new EventTarget();

function connect(timeoutMs = 1000) {
  const posted: Record<string, unknown>[] = [];
  const rejected: string[] = [];
  const warn = console.warn;
  console.warn = () => {};
  const conn = new HostConnection<InspectorToHost, HostToInspector, InspectorReplies>(
    { postMessage: (m) => posted.push(m as Record<string, unknown>), getState: () => undefined, setState: () => {} },
    hostToInspectorSchema,
    INSPECTOR_REPLIES,
    { onRejected: (r) => rejected.push(r), timeoutMs },
  );
  const deliver = (data: unknown) => window.dispatchEvent(new MessageEvent('message', { data }));
  return { conn, posted, rejected, deliver, done: () => ((console.warn = warn), conn.dispose()) };
}

const png = new Uint8Array([1, 2, 3]);

test('answers are matched to their request by id, whatever their order', async () => {
  const c = connect();
  try {
    const a = c.conn.request({ type: 'reconstruct' });
    const b = c.conn.request({ type: 'imagePixels' });
    const [ida, idb] = c.posted.map((m) => m.messageId as number);
    assert.notEqual(ida, idb);
    c.deliver({ type: 'imagePixels', inReplyTo: idb, bytes: png, mime: 'image/png' });
    c.deliver({ type: 'reconstruction', inReplyTo: ida, png });
    assert.equal((await a).type, 'reconstruction');
    assert.equal((await b).mime, 'image/png');
    assert.deepEqual(c.rejected, []);
  } finally {
    c.done();
  }
});

test("an error answer rejects with the host's error class and message", async () => {
  const c = connect();
  try {
    const p = c.conn.request({ type: 'reconstruct' });
    c.deliver({ type: 'error', inReplyTo: c.posted[0].messageId, kind: 'ManifestError', message: 'no decoder' });
    await assert.rejects(p, (e: HostError) => e instanceof HostError && e.kind === 'ManifestError' && e.message === 'no decoder');
  } finally {
    c.done();
  }
});

test('a request without an answer times out; a late answer is then rejected as unexpected', async () => {
  const c = connect(30);
  try {
    const p = c.conn.request({ type: 'reconstruct' });
    await assert.rejects(p, (e: HostError) => e.kind === 'Timeout');
    c.deliver({ type: 'reconstruction', inReplyTo: c.posted[0].messageId, png });
    assert.match(c.rejected[0], /not waiting/);
  } finally {
    c.done();
  }
});

test('an answer of the wrong type for its request is rejected and the request keeps waiting', async () => {
  const c = connect();
  try {
    const p = c.conn.request({ type: 'reconstruct' });
    const id = c.posted[0].messageId;
    c.deliver({ type: 'imagePixels', inReplyTo: id, bytes: png, mime: 'image/png' });
    assert.match(c.rejected[0], /expects reconstruction/);
    c.deliver({ type: 'reconstruction', inReplyTo: id, png });
    assert.equal((await p).type, 'reconstruction');
  } finally {
    c.done();
  }
});

test('unsolicited messages reach their handler only when valid', () => {
  const c = connect();
  try {
    const got: unknown[] = [];
    c.conn.on('select', (m) => got.push(m));
    c.deliver({ type: 'select', row: 1, col: 2 });
    c.deliver({ type: 'select', row: 1, col: 2, evil: 1 });
    c.deliver({ type: 'select', row: '1', col: 2 });
    c.deliver({ type: 'settings', settings: { topK: 3, excludeSelf: true, temperature: 1, queryKeys: 'latent' } }); // no handler
    assert.deepEqual(got, [{ type: 'select', row: 1, col: 2 }]);
    assert.equal(c.rejected.length, 3);
  } finally {
    c.done();
  }
});

test('ready is the first message; cancelAll rejects what is pending', async () => {
  const c = connect();
  try {
    c.conn.ready();
    assert.deepEqual(c.posted[0], { type: 'ready' });
    const p = c.conn.request({ type: 'reconstruct' });
    c.conn.cancelAll('reloaded');
    await assert.rejects(p, (e: HostError) => e.kind === 'Cancelled');
  } finally {
    c.done();
  }
});
