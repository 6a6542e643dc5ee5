// A WebAssembly SIMD kernel for exact search: it streams float32 keys held in
// its linear memory and emits the slots whose squared L2 distance to a query,
// computed in float32 with four-lane SIMD, is at most a threshold. The exact
// index re-checks those few candidates in float64, so float32 rounding decides
// nothing (see ExactPatchIndex). The module is emitted as bytes here, unrolled
// for the key width, so no toolchain is needed to build or ship it.

/** Bytes of a WebAssembly page. */
export const WASM_PAGE = 65536;

// Instruction bytes used below (core and SIMD opcode tables of the spec).
const OP = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  void: 0x40,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Store: 0x36,
  f32Store: 0x38,
  i32Const: 0x41,
  i32Eqz: 0x45,
  i32LtU: 0x49,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Mul: 0x6c,
  i32Shl: 0x74,
  f32Le: 0x5f,
  f32Gt: 0x5e,
  f32Add: 0x92,
  simd: 0xfd,
} as const;
const SIMD = { load: 0x00, extractF32: 0x1f, i32x4Add: 0xae, f32x4Add: 0xe4, f32x4Sub: 0xe5, f32x4Mul: 0xe6 } as const;
const T = { i32: 0x7f, f32: 0x7d, v128: 0x7b } as const;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const name = (s: string) => [...uleb(s.length), ...Buffer.from(s, 'utf8')];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const simd = (op: number, ...imm: number[]) => [OP.simd, ...uleb(op), ...imm];
const load = (offset: number) => simd(SIMD.load, 4, ...uleb(offset));

/**
 * scan(query, keys, capacity, start, end, step, threshold, out) -> count. Keys
 * are stored in planes: plane g holds vectors [g * pv, (g + 1) * pv) of every
 * key (the last plane may be narrower), capacity keys to a plane, planes one
 * after another from `keys`. For slots start, start + step, ... below end,
 * writes (slot i32, distance f32) of every key whose float32 squared distance
 * to the query is <= threshold to out[] and returns how many. After each plane
 * but the last, a key whose partial sum already exceeds the threshold is
 * dropped: the remaining planes of most keys are never read, so far fewer
 * bytes are streamed than the keys hold.
 */
function scanBody(vectors: number, planeVectors: number): number[] {
  const planes = Math.ceil(vectors / planeVectors);
  // params: 0 query, 1 keys, 2 capacity, 3 start, 4 end, 5 step, 6 threshold, 7 out; then locals.
  const THR = 6,
    OUT = 7;
  const I = 8,
    CNT = 9,
    P0 = 10; // P0..: one pointer per plane, S0..: its advance per step (i32)
  const S0 = P0 + planes;
  const D = S0 + planes; // f32
  const T0 = D + 1,
    A0 = T0 + 1,
    A1 = A0 + 1,
    Q0 = A1 + 1; // v128
  const locals = [
    [...uleb(2 + 2 * planes), T.i32],
    [...uleb(1), T.f32],
    [...uleb(3 + vectors), T.v128],
  ];
  const width = (g: number) => Math.min(planeVectors, vectors - g * planeVectors);
  const c: number[] = [];
  for (let j = 0; j < vectors; j++) c.push(OP.localGet, 0, ...load(16 * j), OP.localSet, Q0 + j);
  for (let g = 0; g < planes; g++) {
    // P_g = keys + capacity * 16 * pv * g + start * 16 * width(g)
    c.push(OP.localGet, 1, OP.localGet, 2, OP.i32Const, ...sleb(16 * planeVectors * g), OP.i32Mul, OP.i32Add);
    c.push(OP.localGet, 3, OP.i32Const, ...sleb(16 * width(g)), OP.i32Mul, OP.i32Add, OP.localSet, P0 + g);
    c.push(OP.localGet, 5, OP.i32Const, ...sleb(16 * width(g)), OP.i32Mul, OP.localSet, S0 + g);
  }
  c.push(OP.localGet, 3, OP.localSet, I);
  c.push(OP.block, OP.void, OP.localGet, 3, OP.localGet, 4, OP.i32GeU, OP.brIf, 0);
  c.push(OP.loop, OP.void, OP.block, OP.void); // the inner block: `continue` is br 0
  const hsum = (acc: number) => [
    OP.localGet,
    acc,
    ...simd(SIMD.extractF32, 0),
    OP.localGet,
    acc,
    ...simd(SIMD.extractF32, 1),
    OP.f32Add,
    OP.localGet,
    acc,
    ...simd(SIMD.extractF32, 2),
    OP.localGet,
    acc,
    ...simd(SIMD.extractF32, 3),
    OP.f32Add,
    OP.f32Add,
  ];
  const total = (summed: number) => (summed === 1 ? hsum(A0) : [OP.localGet, A0, OP.localGet, A1, ...simd(SIMD.f32x4Add), OP.localSet, T0, ...hsum(T0)]);
  let j = 0;
  for (let g = 0; g < planes; g++) {
    for (let v = 0; v < width(g); v++, j++) {
      // Two accumulators (even and odd vectors) halve the dependency chain.
      const acc = j % 2 === 0 ? A0 : A1;
      const sq = [OP.localGet, P0 + g, ...load(16 * v), OP.localGet, Q0 + j, ...simd(SIMD.f32x4Sub), OP.localTee, T0, OP.localGet, T0, ...simd(SIMD.f32x4Mul)];
      if (j < 2) c.push(...sq, OP.localSet, acc);
      else c.push(OP.localGet, acc, ...sq, ...simd(SIMD.f32x4Add), OP.localSet, acc);
    }
    // Early abandon after this plane: a partial sum of non-negative terms above the threshold.
    if (g < planes - 1) c.push(...total(j), OP.localGet, THR, OP.f32Gt, OP.brIf, 0);
  }
  c.push(...total(vectors), OP.localTee, D, OP.localGet, THR, OP.f32Le, OP.if, OP.void);
  c.push(OP.localGet, OUT, OP.localGet, CNT, OP.i32Const, ...sleb(3), OP.i32Shl, OP.i32Add, OP.localGet, I, OP.i32Store, 2, 0);
  c.push(OP.localGet, OUT, OP.localGet, CNT, OP.i32Const, ...sleb(3), OP.i32Shl, OP.i32Add, OP.localGet, D, OP.f32Store, 2, 4);
  c.push(OP.localGet, CNT, OP.i32Const, ...sleb(1), OP.i32Add, OP.localSet, CNT);
  c.push(OP.end); // if
  c.push(OP.end); // inner block
  for (let g = 0; g < planes; g++) c.push(OP.localGet, P0 + g, OP.localGet, S0 + g, OP.i32Add, OP.localSet, P0 + g);
  c.push(OP.localGet, I, OP.localGet, 5, OP.i32Add, OP.localTee, I, OP.localGet, 4, OP.i32LtU, OP.brIf, 0);
  c.push(OP.end, OP.end); // loop, block
  c.push(OP.localGet, CNT, OP.end);
  const body = [...vec(locals), ...c];
  return [...uleb(body.length), ...body];
}

/** touch(ptr, bytes) -> i32: reads every 16 bytes of a range (bytes a multiple of 64), for the bandwidth figure. */
function touchBody(): number[] {
  const END = 2,
    ACC = 3;
  const locals = [
    [...uleb(1), T.i32],
    [...uleb(1), T.v128],
  ];
  const c: number[] = [OP.localGet, 0, OP.localGet, 1, OP.i32Add, OP.localSet, END];
  c.push(OP.block, OP.void, OP.localGet, 1, OP.i32Eqz, OP.brIf, 0, OP.loop, OP.void);
  for (let j = 0; j < 4; j++) c.push(OP.localGet, ACC, OP.localGet, 0, ...load(16 * j), ...simd(SIMD.i32x4Add), OP.localSet, ACC);
  c.push(OP.localGet, 0, OP.i32Const, ...sleb(64), OP.i32Add, OP.localTee, 0, OP.localGet, END, OP.i32LtU, OP.brIf, 0);
  c.push(OP.end, OP.end, OP.localGet, ACC, ...simd(0x1b, 0), OP.end); // i32x4.extract_lane 0
  const body = [...vec(locals), ...c];
  return [...uleb(body.length), ...body];
}

/** The module's bytes for keys of `vectors` v128 (4 floats) each in planes of `planeVectors`; it imports its memory as env.memory. */
export function scanModuleBytes(vectors: number, planeVectors: number): Uint8Array<ArrayBuffer> {
  if (!Number.isInteger(vectors) || vectors < 1 || vectors > 4096) throw new RangeError(`unsupported key width: ${vectors} vectors`);
  if (!Number.isInteger(planeVectors) || planeVectors < 1) throw new RangeError(`unsupported plane width: ${planeVectors} vectors`);
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(
      1,
      vec([
        [0x60, ...vec([[T.i32], [T.i32], [T.i32], [T.i32], [T.i32], [T.i32], [T.f32], [T.i32]]), ...vec([[T.i32]])],
        [0x60, ...vec([[T.i32], [T.i32]]), ...vec([[T.i32]])],
      ]),
    ),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(1)]])),
    ...section(3, vec([[0], [1]])),
    ...section(
      7,
      vec([
        [...name('scan'), 0x00, 0],
        [...name('touch'), 0x00, 1],
      ]),
    ),
    ...section(10, vec([scanBody(vectors, planeVectors), touchBody()])),
  ];
  return new Uint8Array(bytes);
}

export interface ScanKernel {
  readonly memory: WebAssembly.Memory;
  /** See scanBody: (slot, float32 distance) of the keys within threshold among start, start + step, ... < end, written to out (byte offsets throughout). */
  scan(query: number, keys: number, capacity: number, start: number, end: number, step: number, threshold: number, out: number): number;
  /** Reads bytes (a multiple of 64) from ptr; for the memory-bandwidth figure. */
  touch(ptr: number, bytes: number): number;
}

const modules = new Map<string, WebAssembly.Module | null>();

/** A kernel over `memory` for keys of `vectors` v128 in planes of `planeVectors`; undefined where WebAssembly SIMD is unavailable. */
export function scanKernel(vectors: number, planeVectors: number, memory: WebAssembly.Memory): ScanKernel | undefined {
  const id = `${vectors}/${planeVectors}`;
  let mod = modules.get(id);
  if (mod === undefined) {
    const bytes = scanModuleBytes(vectors, planeVectors);
    mod = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
    modules.set(id, mod);
  }
  if (!mod) return undefined;
  const inst = new WebAssembly.Instance(mod, { env: { memory } });
  const e = inst.exports as unknown as { scan: ScanKernel['scan']; touch: ScanKernel['touch'] };
  return { memory, scan: e.scan, touch: e.touch };
}
