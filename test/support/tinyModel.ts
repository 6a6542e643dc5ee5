// Builds small VQ tokenizers as real ONNX files for tests: a patchify Conv
// encoder (kernel = stride = patch) and a ConvTranspose decoder, seeded
// random weights, and a manifest. Fast enough to encode hundreds of images.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { seededRng } from '../../src/core/rng';
import { writeNpy } from '../../src/core/npy';

export interface TinyModelOptions {
  readonly size?: number; // input width = height
  readonly patch?: number; // downsampling factor
  readonly dim?: number; // latent dimension d
  readonly codes?: number; // codebook size K
  readonly seed?: number;
  readonly codebookAs?: 'npy' | 'initializer';
  readonly decoder?: boolean;
  readonly normalize?: boolean;
  readonly name?: string;
  /** Encoder weights [dim, 3, patch, patch] instead of random ones. */
  readonly encoderWeights?: Float32Array;
  /** Codebook [codes, dim] instead of a random one. */
  readonly codebook?: Float32Array;
  /** Extra manifest fields, merged over the defaults. */
  readonly manifest?: Record<string, unknown>;
}

function tensor(name: string, dims: number[], data: Float32Array): onnx.ITensorProto {
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer.slice(0)) };
}

function valueInfo(name: string, dims: (number | string)[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function modelBytes(graph: onnx.IGraphProto): Uint8Array {
  const model = onnx.ModelProto.create({ irVersion: 8, producerName: 'patchlens-tests', opsetImport: [{ domain: '', version: 13 }], graph });
  return onnx.ModelProto.encode(model).finish();
}

function randn(n: number, rng: () => number, scale: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(rng(), 1e-12);
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng()) * scale;
  }
  return out;
}

/** Writes encoder.onnx (+ decoder.onnx, codebook.npy) and manifest.json into dir; returns the manifest path. */
export function writeTinyModel(dir: string, opts: TinyModelOptions = {}): string {
  const size = opts.size ?? 64;
  const patch = opts.patch ?? 16;
  const dim = opts.dim ?? 4;
  const codes = opts.codes ?? 64;
  const rng = seededRng(opts.seed ?? 1);
  fs.mkdirSync(dir, { recursive: true });
  const w = opts.encoderWeights ?? randn(dim * 3 * patch * patch, rng, 1 / patch);
  const codebook = opts.codebook ?? randn(codes * dim, rng, 1);
  const initializers = [tensor('enc_w', [dim, 3, patch, patch], w)];
  if (opts.codebookAs === 'initializer') initializers.push(tensor('codebook', [codes, dim], codebook));
  const enc = modelBytes({
    name: 'tiny-encoder',
    node: [
      {
        opType: 'Conv',
        input: ['image', 'enc_w'],
        output: ['latent'],
        attribute: [
          { name: 'kernel_shape', type: onnx.AttributeProto.AttributeType.INTS, ints: [patch, patch] },
          { name: 'strides', type: onnx.AttributeProto.AttributeType.INTS, ints: [patch, patch] },
        ],
      },
    ],
    initializer: initializers,
    input: [valueInfo('image', ['batch', 3, size, size])],
    output: [valueInfo('latent', ['batch', dim, size / patch, size / patch])],
  });
  fs.writeFileSync(path.join(dir, 'encoder.onnx'), enc);
  if (opts.codebookAs !== 'initializer') fs.writeFileSync(path.join(dir, 'codebook.npy'), writeNpy(codebook, [codes, dim]));
  if (opts.decoder) {
    const dw = randn(dim * 3 * patch * patch, rng, 0.2);
    const dec = modelBytes({
      name: 'tiny-decoder',
      node: [
        {
          opType: 'ConvTranspose',
          input: ['code', 'dec_w'],
          output: ['raw'],
          attribute: [
            { name: 'kernel_shape', type: onnx.AttributeProto.AttributeType.INTS, ints: [patch, patch] },
            { name: 'strides', type: onnx.AttributeProto.AttributeType.INTS, ints: [patch, patch] },
          ],
        },
        { opType: 'Tanh', input: ['raw'], output: ['image'] },
      ],
      initializer: [tensor('dec_w', [dim, 3, patch, patch], dw)],
      input: [valueInfo('code', ['batch', dim, size / patch, size / patch])],
      output: [valueInfo('image', ['batch', 3, size, size])],
    });
    fs.writeFileSync(path.join(dir, 'decoder.onnx'), dec);
  }
  const manifest = {
    format: 'patchlens.model/v1',
    name: opts.name ?? `tiny-${size}-p${patch}-d${dim}-k${codes}`,
    encoder: 'encoder.onnx',
    input: { name: 'image', width: size, height: size, resize: 'crop', channels: 'RGB', layout: 'NCHW', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    latent: { output: 'latent', layout: 'NCHW', normalize: opts.normalize ?? true },
    codebook:
      opts.codebookAs === 'initializer'
        ? { initializer: 'codebook', normalize: opts.normalize ?? true }
        : { path: 'codebook.npy', normalize: opts.normalize ?? true },
    ...(opts.decoder ? { decoder: { path: 'decoder.onnx', input: 'code', output: 'image', layout: 'NCHW' } } : {}),
    ...opts.manifest,
  };
  const manifestPath = path.join(dir, 'manifest.json');
  fs.writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  return manifestPath;
}
