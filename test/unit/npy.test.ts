import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { halfToFloat, parseNpy, writeNpy, NpyError } from '../../src/core/npy';

test('float32 and int32 arrays round-trip through .npy', () => {
  const f = new Float32Array([1.5, -2, 3.25, 0, 7, 8]);
  const a = parseNpy(writeNpy(f, [2, 3]));
  assert.equal(a.dtype, 'float32');
  assert.deepEqual(a.shape, [2, 3]);
  assert.deepEqual(Array.from(a.data), Array.from(f));
  const i = parseNpy(writeNpy(new Int32Array([5, -6, 7]), [3]));
  assert.equal(i.dtype, 'int32');
  assert.deepEqual(i.shape, [3]);
  assert.deepEqual(Array.from(i.data), [5, -6, 7]);
});

test('the header is padded to a multiple of 64 bytes as numpy writes it', () => {
  const bytes = writeNpy(new Float32Array(4), [4]);
  const headerLen = bytes[8] | (bytes[9] << 8);
  assert.equal((10 + headerLen) % 64, 0);
  assert.equal(bytes[10 + headerLen - 1], 0x0a);
});

function npyWith(descr: string, shape: string, payload: Uint8Array, fortran = 'False'): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(payload, 10 + header.length);
  return out;
}

test('float16 codebooks are converted to float32', () => {
  // 1.0 = 0x3c00, -2.0 = 0xc000, 0.5 = 0x3800, 65504 = 0x7bff
  const payload = new Uint8Array([0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38, 0xff, 0x7b]);
  const a = parseNpy(npyWith('<f2', '(2, 2)', payload));
  assert.equal(a.dtype, 'float16');
  assert.deepEqual(Array.from(a.data), [1, -2, 0.5, 65504]);
  assert.equal(halfToFloat(0x0001), 2 ** -24);
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
});

test('bad files are rejected with a reason', () => {
  assert.throws(() => parseNpy(new Uint8Array([1, 2, 3])), NpyError);
  assert.throws(() => parseNpy(npyWith('<f4', '(2, 2)', new Uint8Array(8))), /truncated/);
  assert.throws(() => parseNpy(npyWith('>f4', '(1,)', new Uint8Array(4))), /unsupported dtype/);
  assert.throws(() => parseNpy(npyWith('<f4', '(1,)', new Uint8Array(4), 'True')), /Fortran/);
});

test('a Buffer view into a larger buffer parses (Node Buffers are often pooled)', () => {
  const npy = writeNpy(new Float32Array([1, 2, 3]), [3]);
  const view = Buffer.concat([Buffer.alloc(3, 7), Buffer.from(npy), Buffer.alloc(5)]).subarray(3, 3 + npy.length);
  assert.deepEqual(Array.from(parseNpy(view).data), [1, 2, 3]);
});
