// Reading and writing NumPy .npy arrays (format versions 1-3), little-endian,
// C order. Enough for codebooks, logits and benchmark keys.

export type NpyDtype = 'float32' | 'float16' | 'float64' | 'int32' | 'int64' | 'uint8';

export interface NpyArray {
  readonly dtype: NpyDtype;
  readonly shape: readonly number[];
  /** Values as float32 (float16/float64/int are converted). */
  readonly data: Float32Array;
}

const DESCR: Record<string, NpyDtype> = {
  '<f4': 'float32',
  '<f2': 'float16',
  '<f8': 'float64',
  '<i4': 'int32',
  '<i8': 'int64',
  '|u1': 'uint8',
  '<u1': 'uint8',
};
const SIZE: Record<NpyDtype, number> = { float32: 4, float16: 2, float64: 8, int32: 4, int64: 8, uint8: 1 };

export class NpyError extends Error {
  override name = 'NpyError';
}

/** Parses an .npy file's bytes. */
export function parseNpy(bytes: Uint8Array): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  if (bytes.length < 10 || !magic.every((b, i) => bytes[i] === b)) throw new NpyError('not a .npy file (bad magic)');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new NpyError('truncated .npy header');
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    throw new NpyError(`unsupported .npy version ${major}`);
  }
  if (start + headerLen > bytes.length) throw new NpyError('truncated .npy header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new NpyError('malformed .npy header');
  const dtype = DESCR[descr];
  if (!dtype) throw new NpyError(`unsupported dtype ${descr} (expected little-endian float32, float16, float64, int32, int64 or uint8)`);
  if (fortran === 'True') throw new NpyError('Fortran-ordered arrays are not supported; save with np.ascontiguousarray');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const n = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(n) || n < 0) throw new NpyError(`bad dimension ${s} in .npy shape`);
      return n;
    });
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  const needed = count * SIZE[dtype];
  if (bytes.length - dataStart < needed) throw new NpyError(`truncated .npy data: ${bytes.length - dataStart} bytes for ${needed}`);
  // A real copy (Buffer.slice would be a view): aligned and owned.
  const raw = Uint8Array.prototype.slice.call(bytes, dataStart, dataStart + needed);
  const data = new Float32Array(count);
  const dv = new DataView(raw.buffer);
  switch (dtype) {
    case 'float32':
      data.set(new Float32Array(raw.buffer, 0, count));
      break;
    case 'float16':
      for (let i = 0; i < count; i++) data[i] = halfToFloat(dv.getUint16(i * 2, true));
      break;
    case 'float64':
      for (let i = 0; i < count; i++) data[i] = dv.getFloat64(i * 8, true);
      break;
    case 'int32':
      for (let i = 0; i < count; i++) data[i] = dv.getInt32(i * 4, true);
      break;
    case 'int64':
      for (let i = 0; i < count; i++) data[i] = Number(dv.getBigInt64(i * 8, true));
      break;
    case 'uint8':
      data.set(raw);
      break;
  }
  return { dtype, shape, data };
}

export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Serialises a float32 or int32 array as .npy (version 1). */
export function writeNpy(data: Float32Array | Int32Array, shape: readonly number[]): Uint8Array {
  const descr = data instanceof Float32Array ? '<f4' : '<i4';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
