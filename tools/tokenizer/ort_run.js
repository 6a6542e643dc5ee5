#!/usr/bin/env node
// Runs an ONNX model with onnxruntime-node (the engine's runtime) on a float32 .npy
// input and writes its first (or named) output as a float32 .npy. The Python export
// scripts use it to check parity with PyTorch.
//
//   node tools/tokenizer/ort_run.js MODEL.onnx INPUT.npy OUTPUT.npy [outputName]
'use strict';
const fs = require('node:fs');
const ort = require('onnxruntime-node');

function readNpy(path) {
  const buf = fs.readFileSync(path);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${path}: not a .npy file`);
  const major = buf[6];
  const headerLen = major >= 2 ? buf.readUInt32LE(8) : buf.readUInt16LE(8);
  const start = (major >= 2 ? 12 : 10) + headerLen;
  const header = buf.toString('latin1', major >= 2 ? 12 : 10, start);
  if (!/'descr':\s*'<f4'/.test(header)) throw new Error(`${path}: expected little-endian float32, got ${header}`);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${path}: Fortran order not supported`);
  const shape = header
    .match(/'shape':\s*\(([^)]*)\)/)[1]
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + buf.length));
  return { data, shape };
}

function writeNpy(path, data, shape) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header = header + ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  fs.writeFileSync(path, Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

async function main() {
  const [modelPath, inPath, outPath, outName] = process.argv.slice(2);
  if (!outPath) {
    console.error('usage: ort_run.js MODEL.onnx INPUT.npy OUTPUT.npy [outputName]');
    process.exit(2);
  }
  const session = await ort.InferenceSession.create(modelPath, { graphOptimizationLevel: 'all', intraOpNumThreads: 2 });
  const { data, shape } = readNpy(inPath);
  const t0 = Date.now();
  const result = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', data, shape) });
  const out = result[outName ?? session.outputNames[0]];
  writeNpy(outPath, out.data, out.dims);
  console.log(JSON.stringify({ input: session.inputNames[0], output: outName ?? session.outputNames[0], dims: out.dims, ms: Date.now() - t0 }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
