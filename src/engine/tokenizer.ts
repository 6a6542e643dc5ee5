// The ONNX VQ tokenizer: loads and validates a model manifest (everything is
// checked before any image is touched), encodes batches of model-input pixels
// into latents, and quantises them to token ids.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { ManifestError, parseModelManifest, preprocessingSignature, type ModelManifest } from '../core/modelManifest';
import { NpyError, halfToFloat, parseNpy } from '../core/npy';
import { l2NormalizeRows, nearestCodes, rowSquaredNorms } from '../core/quantize';
import { writeInputTensor } from './imageDecoder';
import { sha256 } from './sha256';

export interface ModelInfo {
  readonly manifest: ModelManifest;
  /** Hash of the encoder, the codebook and the preprocessing: databases record it. */
  readonly fingerprint: string;
  readonly rows: number;
  readonly cols: number;
  /** Latent / code dimension d. */
  readonly dim: number;
  readonly codebookSize: number;
  /** Codebook rows as used for quantisation (normalised when the manifest says so), [K * d]. */
  readonly codebook: Float32Array;
}

export interface EncodedImage {
  /** Token id per cell, row-major [rows * cols]. */
  readonly tokens: Int32Array;
  /** Latents per cell as used for keys (normalised when the manifest says so), [rows * cols * d]. */
  readonly latents: Float32Array;
  /** Squared L2 distance from each latent to its code, [rows * cols]. */
  readonly distances: Float32Array;
}

export interface TokenizerOptions {
  /** Threads for the encoder's operators (onnxruntime intra-op). */
  readonly threads?: number;
}

function readManifestJson(manifestPath: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(manifestPath, 'utf8');
  } catch (err) {
    throw new ManifestError('(manifest)', `cannot read the model manifest: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, manifestPath);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ManifestError('(manifest)', `is not valid JSON: ${(err as Error).message}`, manifestPath);
  }
}

function readModelFile(p: string, field: string, manifestPath: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(p);
  } catch (err) {
    throw new ManifestError(field, `cannot read ${p}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, manifestPath);
  }
  if (bytes.length === 0) throw new ManifestError(field, `${p} is empty`, manifestPath);
  return bytes;
}

/** Reads a float tensor stored as an initializer of an ONNX model. */
function readInitializer(modelBytes: Uint8Array, name: string, manifestPath: string): { shape: number[]; data: Float32Array } {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(modelBytes);
  } catch (err) {
    throw new ManifestError('encoder', `is not an ONNX model: ${(err as Error).message}`, manifestPath);
  }
  const t = model.graph?.initializer?.find((i) => i.name === name);
  if (!t) throw new ManifestError('codebook.initializer', `no initializer named ${JSON.stringify(name)} in the encoder`, manifestPath);
  const shape = (t.dims ?? []).map((d) => Number(d));
  const count = shape.reduce((a, b) => a * b, 1);
  if ((t.externalData?.length ?? 0) > 0)
    throw new ManifestError('codebook.initializer', 'is stored as external data; export the codebook as a .npy instead', manifestPath);
  const data = new Float32Array(count);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  if (t.dataType === onnx.TensorProto.DataType.FLOAT) {
    if (raw) {
      if (raw.length !== count * 4) throw new ManifestError('codebook.initializer', 'has inconsistent raw data size', manifestPath);
      const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let i = 0; i < count; i++) data[i] = dv.getFloat32(i * 4, true);
    } else {
      if ((t.floatData?.length ?? 0) !== count) throw new ManifestError('codebook.initializer', 'has inconsistent data size', manifestPath);
      data.set(t.floatData!);
    }
  } else if (t.dataType === onnx.TensorProto.DataType.FLOAT16) {
    if (raw) {
      if (raw.length !== count * 2) throw new ManifestError('codebook.initializer', 'has inconsistent raw data size', manifestPath);
      const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let i = 0; i < count; i++) data[i] = halfToFloat(dv.getUint16(i * 2, true));
    } else {
      for (let i = 0; i < count; i++) data[i] = halfToFloat(t.int32Data![i]);
    }
  } else {
    throw new ManifestError('codebook.initializer', `must be float32 or float16, got ONNX data type ${t.dataType}`, manifestPath);
  }
  return { shape, data };
}

function tensorMeta(list: readonly ort.InferenceSession.ValueMetadata[], name: string) {
  const m = list.find((v) => v.name === name);
  return m && m.isTensor ? m : undefined;
}

/** Creates a session, turning onnxruntime's failure into a manifest error naming the field. */
async function createSession(bytes: Uint8Array, field: string, manifestPath: string, threads: number | undefined): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: threads ?? 0,
      interOpNumThreads: 1,
      logSeverityLevel: 3, // errors only: unused-initializer warnings are noise
    });
  } catch (err) {
    const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    throw new ManifestError(field, `is not a loadable ONNX model: ${msg}`, manifestPath);
  }
}

/** The model's files read and checked, everything but the encoder session (see Tokenizer.load). */
function readModel(manifestPath: string) {
  const abs = path.resolve(manifestPath);
  const manifest = parseModelManifest(readManifestJson(abs), abs, path);
  const encoderBytes = readModelFile(manifest.encoder, 'encoder', abs);

  let codebookBytes: Uint8Array;
  let codebook: { shape: readonly number[]; data: Float32Array };
  if (manifest.codebook.path) {
    codebookBytes = readModelFile(manifest.codebook.path, 'codebook.path', abs);
    let npy: ReturnType<typeof parseNpy>;
    try {
      npy = parseNpy(codebookBytes);
    } catch (err) {
      throw new ManifestError('codebook.path', err instanceof NpyError ? err.message : String(err), abs);
    }
    if (!npy.dtype.startsWith('float')) throw new ManifestError('codebook.path', `must hold floats (float32, float16 or float64), got ${npy.dtype}`, abs);
    codebook = npy;
  } else {
    codebook = readInitializer(encoderBytes, manifest.codebook.initializer!, abs);
    codebookBytes = new Uint8Array(codebook.data.buffer);
  }
  const cbField = manifest.codebook.path ? 'codebook.path' : 'codebook.initializer';
  if (codebook.shape.length !== 2) throw new ManifestError(cbField, `must be a 2-D array [K, d], got shape [${codebook.shape.join(', ')}]`, abs);
  const [K, d] = codebook.shape;
  if (K < 2 || d < 1) throw new ManifestError(cbField, `must have at least 2 codes of dimension >= 1, got [${K}, ${d}]`, abs);
  if (!codebook.data.every(Number.isFinite)) throw new ManifestError(cbField, 'contains NaN or infinite values', abs);
  const cb = new Float32Array(codebook.data);
  if (manifest.codebook.normalize) l2NormalizeRows(cb, d);

  if (manifest.decoder) {
    const st = fs.statSync(manifest.decoder.path, { throwIfNoEntry: false });
    if (!st || !st.isFile() || st.size === 0) throw new ManifestError('decoder.path', `cannot read ${manifest.decoder.path}`, abs);
  }

  return { abs, manifest, encoderBytes, codebookBytes, cb, K, d, cbField };
}

/** The fingerprint of a model: its encoder, codebook and preprocessing. */
function modelFingerprint(encoderBytes: Uint8Array, codebookBytes: Uint8Array, manifest: ModelManifest): string {
  return sha256(encoderBytes, codebookBytes, preprocessingSignature(manifest)).slice(0, 16);
}

export class Tokenizer {
  private decoderSession?: Promise<ort.InferenceSession>;

  private constructor(
    readonly info: ModelInfo,
    private readonly session: ort.InferenceSession,
    private readonly inputName: string,
    private readonly outputName: string,
    /** Whether the encoder takes any batch size (else images go one at a time). */
    readonly dynamicBatch: boolean,
    private readonly codeNorms: Float64Array,
    private readonly threads: number | undefined,
  ) {}

  /**
   * The model's description without starting the encoder when `known` (what a database built with it recorded)
   * has its fingerprint: the same encoder bytes, codebook and preprocessing give the same grid, so the grid is
   * taken from the record and no session or dry run is needed (the encode workers load and check the model
   * fully before they encode, and their grid is checked against this one). Otherwise as load().
   */
  static async describe(
    manifestPath: string,
    known?: { fingerprint: string; rows: number; cols: number; dim: number; codebookSize: number },
  ): Promise<ModelInfo> {
    const model = readModel(manifestPath);
    const { manifest, encoderBytes, codebookBytes, cb, K, d } = model;
    const fingerprint = modelFingerprint(encoderBytes, codebookBytes, manifest);
    if (known && known.fingerprint === fingerprint && known.dim === d && known.codebookSize === K)
      return { manifest, fingerprint, rows: known.rows, cols: known.cols, dim: d, codebookSize: K, codebook: cb };
    const tok = await Tokenizer.fromModel(model); // the files already read, not read again
    await tok.release();
    return tok.info;
  }

  /** Loads and validates a model; throws ManifestError naming the offending field. */
  static async load(manifestPath: string, options: TokenizerOptions = {}): Promise<Tokenizer> {
    return Tokenizer.fromModel(readModel(manifestPath), options);
  }

  private static async fromModel(model: ReturnType<typeof readModel>, options: TokenizerOptions = {}): Promise<Tokenizer> {
    const { abs, manifest, encoderBytes, codebookBytes, cb, K, d, cbField } = model;
    const session = await createSession(encoderBytes, 'encoder', abs, options.threads);
    const inputName = manifest.input.name ?? session.inputNames[0];
    const outputName = manifest.latent.output ?? session.outputNames[0];
    const inMeta = tensorMeta(session.inputMetadata, inputName);
    if (!inMeta)
      throw new ManifestError('input.name', `the encoder has no tensor input ${JSON.stringify(inputName)} (inputs: ${session.inputNames.join(', ')})`, abs);
    if (inMeta.type !== 'float32') throw new ManifestError('input.name', `input ${inputName} must be float32, got ${inMeta.type}`, abs);
    if (inMeta.shape.length !== 4)
      throw new ManifestError('input.layout', `input ${inputName} must have rank 4 (${manifest.input.layout}), got rank ${inMeta.shape.length}`, abs);
    const { width, height, layout } = manifest.input;
    const expected = layout === 'NCHW' ? [null, 3, height, width] : [null, height, width, 3];
    for (let i = 1; i < 4; i++) {
      const got = inMeta.shape[i];
      if (typeof got === 'number' && got > 0 && got !== expected[i]) {
        throw new ManifestError(
          i === 1 && layout === 'NCHW' ? 'input.layout' : 'input.width',
          `the encoder expects input shape [${inMeta.shape.join(', ')}], the manifest says ${layout} ${width}x${height}x3`,
          abs,
        );
      }
    }
    const outMeta = tensorMeta(session.outputMetadata, outputName);
    if (!outMeta)
      throw new ManifestError(
        'latent.output',
        `the encoder has no tensor output ${JSON.stringify(outputName)} (outputs: ${session.outputNames.join(', ')})`,
        abs,
      );
    if (outMeta.type !== 'float32') throw new ManifestError('latent.output', `output ${outputName} must be float32, got ${outMeta.type}`, abs);
    const batchDim = inMeta.shape[0];
    const dynamicBatch = typeof batchDim !== 'number' || batchDim <= 0;

    // One dry run on a blank image gives the grid and checks the latent size.
    const probe = new Float32Array(width * height * 3);
    const dims = layout === 'NCHW' ? [1, 3, height, width] : [1, height, width, 3];
    let out: ort.Tensor;
    try {
      out = (await session.run({ [inputName]: new ort.Tensor('float32', probe, dims) }, [outputName]))[outputName] as ort.Tensor;
    } catch (err) {
      throw new ManifestError('encoder', `fails on a ${width}x${height} input: ${(err as Error).message.split('\n')[0]}`, abs);
    }
    if (out.dims.length !== 4) throw new ManifestError('latent.output', `must have rank 4, got [${out.dims.join(', ')}]`, abs);
    if (!(out.data as Float32Array).every(Number.isFinite))
      throw new ManifestError('encoder', `produces NaN or infinite latents (${outputName}) on a blank mid-grey input`, abs);
    const [, a, b, c] = out.dims;
    const [latentDim, rows, cols] = manifest.latent.layout === 'NCHW' ? [a, b, c] : [c, a, b];
    if (latentDim !== d)
      throw new ManifestError(
        cbField,
        `codebook dimension ${d} differs from the latent dimension ${latentDim} (latent.layout ${manifest.latent.layout}, output [${out.dims.join(', ')}])`,
        abs,
      );

    const fingerprint = modelFingerprint(encoderBytes, codebookBytes, manifest);
    const info: ModelInfo = { manifest, fingerprint, rows, cols, dim: d, codebookSize: K, codebook: cb };
    return new Tokenizer(info, session, inputName, outputName, dynamicBatch, rowSquaredNorms(cb, d), options.threads);
  }

  /** Encodes model-input pixels (8-bit RGB, input size) and quantises them. */
  async encode(images: readonly Uint8Array[]): Promise<EncodedImage[]> {
    if (images.length === 0) return [];
    if (!this.dynamicBatch && images.length > 1) {
      const out: EncodedImage[] = [];
      for (const img of images) out.push(...(await this.encode([img])));
      return out;
    }
    const { input, latent } = this.info.manifest;
    const { rows, cols, dim } = this.info;
    const n = images.length;
    const tensor = new Float32Array(n * input.width * input.height * 3);
    images.forEach((rgb, i) => writeInputTensor(rgb, input, tensor, i));
    const dims = input.layout === 'NCHW' ? [n, 3, input.height, input.width] : [n, input.height, input.width, 3];
    const result = await this.session.run({ [this.inputName]: new ort.Tensor('float32', tensor, dims) }, [this.outputName]);
    const raw = result[this.outputName] as ort.Tensor;
    const data = raw.data as Float32Array;
    const cells = rows * cols;
    const out: EncodedImage[] = [];
    for (let i = 0; i < n; i++) {
      const lat = new Float32Array(cells * dim);
      const base = i * cells * dim;
      if (latent.layout === 'NCHW') {
        for (let k = 0; k < dim; k++) for (let p = 0; p < cells; p++) lat[p * dim + k] = data[base + k * cells + p];
      } else {
        lat.set(data.subarray(base, base + cells * dim));
      }
      for (let j = 0; j < lat.length; j++)
        if (!Number.isFinite(lat[j])) throw new Error(`the encoder produced NaN or infinite latents${n > 1 ? ` (image ${i} of the batch)` : ''}`);
      if (latent.normalize) l2NormalizeRows(lat, dim);
      const tokens = new Int32Array(cells);
      const distances = new Float32Array(cells);
      nearestCodes(lat, this.info.codebook, this.codeNorms, dim, tokens, distances);
      out.push({ tokens, latents: lat, distances });
    }
    raw.dispose?.();
    return out;
  }

  /** Decodes a token grid back to 8-bit RGB at the model's input size (needs a decoder in the manifest). */
  async reconstruct(tokens: Readonly<Int32Array>): Promise<Uint8Array> {
    const dec = this.info.manifest.decoder;
    if (!dec) throw new Error(`model ${this.info.manifest.name} has no decoder`);
    this.decoderSession ??= (async () =>
      createSession(readModelFile(dec.path, 'decoder.path', this.info.manifest.manifestPath), 'decoder.path', this.info.manifest.manifestPath, this.threads))();
    const session = await this.decoderSession;
    const { rows, cols, dim, codebook } = this.info;
    const cells = rows * cols;
    const codes = new Float32Array(cells * dim);
    for (let p = 0; p < cells; p++) {
      for (let k = 0; k < dim; k++) {
        const v = codebook[tokens[p] * dim + k];
        if (dec.layout === 'NCHW') codes[k * cells + p] = v;
        else codes[p * dim + k] = v;
      }
    }
    const inName = dec.input ?? session.inputNames[0];
    const outName = dec.output ?? session.outputNames[0];
    const dims = dec.layout === 'NCHW' ? [1, dim, rows, cols] : [1, rows, cols, dim];
    const res = await session.run({ [inName]: new ort.Tensor('float32', codes, dims) }, [outName]);
    const img = res[outName] as ort.Tensor;
    const { input } = this.info.manifest;
    const [h, w] = dec.layout === 'NCHW' ? [img.dims[2], img.dims[3]] : [img.dims[1], img.dims[2]];
    const data = img.data as Float32Array;
    const order = input.channels === 'RGB' ? [0, 1, 2] : [2, 1, 0];
    const rgb = new Uint8Array(w * h * 3);
    for (let c = 0; c < 3; c++) {
      const dst = order[c];
      for (let p = 0; p < w * h; p++) {
        const v = dec.layout === 'NCHW' ? data[c * w * h + p] : data[p * 3 + c];
        rgb[p * 3 + dst] = Math.max(0, Math.min(255, Math.round((v * input.std[c] + input.mean[c]) * 255)));
      }
    }
    return rgb;
  }

  /** Size of the decoder's output image, or undefined without a decoder. */
  get hasDecoder(): boolean {
    return this.info.manifest.decoder !== undefined;
  }

  async release(): Promise<void> {
    await this.session.release();
    if (this.decoderSession) await (await this.decoderSession).release();
  }
}
