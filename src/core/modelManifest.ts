// The model manifest: a JSON file that describes a VQ tokenizer exported to ONNX,
// so users can bring their own (LlamaGen, Janus-Pro, VQGAN...). Parsing is pure:
// it checks shapes and types and resolves paths; the engine checks the files.

export const MODEL_MANIFEST_FORMAT = 'patchlens.model/v1';

export type ResizeMode = 'crop' | 'pad' | 'stretch';
export type Layout = 'NCHW' | 'NHWC';
export type ChannelOrder = 'RGB' | 'BGR';

export interface ModelInput {
  /** ONNX input name; the model's first input when absent. */
  readonly name?: string;
  readonly width: number;
  readonly height: number;
  /** crop: resize the shorter side, centre crop; pad: fit inside and pad; stretch: ignore aspect. */
  readonly resize: ResizeMode;
  /** Pad colour (0..255 per channel) for `pad`. */
  readonly padColor: readonly [number, number, number];
  readonly channels: ChannelOrder;
  readonly layout: Layout;
  /** Applied to pixels scaled to [0, 1]: (x - mean) / std, per channel in `channels` order. */
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

export interface ModelLatent {
  /** ONNX output holding the pre-quantisation latents; the model's first output when absent. */
  readonly output?: string;
  readonly layout: Layout;
  /** L2-normalise latents before quantising (LlamaGen does). */
  readonly normalize: boolean;
}

export interface ModelCodebook {
  /** A .npy file of float32 or float16 [K, d] (absolute path once resolved). */
  readonly path?: string;
  /** Or the name of an initializer inside the encoder ONNX. */
  readonly initializer?: string;
  /** L2-normalise the codebook rows (LlamaGen does). */
  readonly normalize: boolean;
}

export interface ModelDecoder {
  readonly path: string;
  readonly input?: string;
  readonly output?: string;
  /** Layout of the decoder's input (quantised latents) and output (image). */
  readonly layout: Layout;
}

export interface ModelManifest {
  readonly format: typeof MODEL_MANIFEST_FORMAT;
  readonly name: string;
  readonly description?: string;
  /** Absolute path of the manifest file itself. */
  readonly manifestPath: string;
  /** Absolute path of the encoder ONNX. */
  readonly encoder: string;
  readonly input: ModelInput;
  readonly latent: ModelLatent;
  readonly codebook: ModelCodebook;
  readonly decoder?: ModelDecoder;
}

export class ManifestError extends Error {
  constructor(
    readonly field: string,
    message: string,
    readonly manifestPath?: string,
  ) {
    super(`${manifestPath ? manifestPath + ': ' : ''}${field}: ${message}`);
    this.name = 'ManifestError';
  }
}

type PathApi = { isAbsolute(p: string): boolean; resolve(...p: string[]): string; dirname(p: string): string };

/** Parses and validates a manifest's JSON; relative paths are resolved against the manifest's folder and may not leave it. */
export function parseModelManifest(raw: unknown, manifestPath: string, pathApi: PathApi): ModelManifest {
  const fail = (field: string, msg: string): never => {
    throw new ManifestError(field, msg, manifestPath);
  };
  const obj = (v: unknown, field: string): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(field, 'must be an object');
    return v as Record<string, unknown>;
  };
  const str = (o: Record<string, unknown>, key: string, field: string, optional = false): string | undefined => {
    const v = o[key];
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'string' || v.length === 0) fail(field, optional ? 'must be a non-empty string when present' : 'is required (a non-empty string)');
    return v as string;
  };
  const oneOf = <T extends string>(o: Record<string, unknown>, key: string, field: string, allowed: readonly T[], dflt?: T): T => {
    const v = o[key] ?? dflt;
    if (typeof v !== 'string' || !allowed.includes(v as T))
      fail(field, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}${v === undefined ? '' : `, got ${JSON.stringify(v)}`}`);
    return v as T;
  };
  const bool = (o: Record<string, unknown>, key: string, field: string, dflt: boolean): boolean => {
    const v = o[key] ?? dflt;
    if (typeof v !== 'boolean') fail(field, 'must be true or false');
    return v as boolean;
  };
  const triple = (
    o: Record<string, unknown>,
    key: string,
    field: string,
    dflt: [number, number, number],
    check: (x: number) => boolean,
    what: string,
  ): [number, number, number] => {
    const v = o[key] ?? dflt;
    if (typeof v === 'number') return check(v) ? [v, v, v] : fail(field, `must be ${what}`);
    if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x) && check(x)))
      fail(field, `must be a number or three numbers, each ${what}`);
    return v as [number, number, number];
  };
  const dir = pathApi.dirname(manifestPath);
  // Relative paths resolve against the manifest's folder and must stay inside it
  // ('..' may not climb out of it); an absolute path is taken as written.
  const resolvePath = (p: string, field: string) => {
    if (pathApi.isAbsolute(p)) return p;
    if (/^[A-Za-z]:/.test(p)) fail(field, `must be relative to the manifest's folder or absolute, got ${JSON.stringify(p)}`);
    let depth = 0;
    for (const seg of p.split(/[\\/]+/)) {
      if (seg === '..') depth--;
      else if (seg !== '.' && seg !== '') depth++;
      if (depth < 0) fail(field, `must stay inside the manifest's folder (relative paths resolve against it), got ${JSON.stringify(p)}`);
    }
    return pathApi.resolve(dir, p);
  };

  const m = obj(raw, '(manifest)');
  if (m.format !== MODEL_MANIFEST_FORMAT)
    fail('format', `must be ${JSON.stringify(MODEL_MANIFEST_FORMAT)}${m.format === undefined ? '' : `, got ${JSON.stringify(m.format)}`}`);
  const name = str(m, 'name', 'name')!;
  const description = str(m, 'description', 'description', true);
  const encoder = resolvePath(str(m, 'encoder', 'encoder')!, 'encoder');

  const i = obj(m.input, 'input');
  let width: unknown = i.width;
  let height: unknown = i.height;
  if (i.size !== undefined) {
    if (width !== undefined || height !== undefined) fail('input.size', 'give either size or width and height, not both');
    width = height = i.size;
  }
  const dimOk = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 8192;
  if (!dimOk(width)) fail(i.size !== undefined ? 'input.size' : 'input.width', 'must be an integer from 1 to 8192');
  if (!dimOk(height)) fail('input.height', 'must be an integer from 1 to 8192');
  const input: ModelInput = {
    name: str(i, 'name', 'input.name', true),
    width: width as number,
    height: height as number,
    resize: oneOf(i, 'resize', 'input.resize', ['crop', 'pad', 'stretch'] as const, 'crop'),
    padColor: triple(i, 'padColor', 'input.padColor', [0, 0, 0], (x) => x >= 0 && x <= 255, 'from 0 to 255'),
    channels: oneOf(i, 'channels', 'input.channels', ['RGB', 'BGR'] as const, 'RGB'),
    layout: oneOf(i, 'layout', 'input.layout', ['NCHW', 'NHWC'] as const, 'NCHW'),
    mean: triple(i, 'mean', 'input.mean', [0.5, 0.5, 0.5], () => true, 'finite'),
    std: triple(i, 'std', 'input.std', [0.5, 0.5, 0.5], (x) => x > 0, 'positive'),
  };

  const l = obj(m.latent ?? {}, 'latent');
  const latent: ModelLatent = {
    output: str(l, 'output', 'latent.output', true),
    layout: oneOf(l, 'layout', 'latent.layout', ['NCHW', 'NHWC'] as const, 'NCHW'),
    normalize: bool(l, 'normalize', 'latent.normalize', false),
  };

  const c = obj(m.codebook, 'codebook');
  const cbPath = str(c, 'path', 'codebook.path', true);
  const cbInit = str(c, 'initializer', 'codebook.initializer', true);
  if ((cbPath === undefined) === (cbInit === undefined))
    fail('codebook', 'give exactly one of "path" (a .npy file) or "initializer" (a tensor in the encoder ONNX)');
  const codebook: ModelCodebook = {
    path: cbPath === undefined ? undefined : resolvePath(cbPath, 'codebook.path'),
    initializer: cbInit,
    normalize: bool(c, 'normalize', 'codebook.normalize', latent.normalize),
  };

  let decoder: ModelDecoder | undefined;
  if (m.decoder !== undefined && m.decoder !== null) {
    const d = typeof m.decoder === 'string' ? { path: m.decoder } : obj(m.decoder, 'decoder');
    decoder = {
      path: resolvePath(str(d, 'path', 'decoder.path')!, 'decoder.path'),
      input: str(d, 'input', 'decoder.input', true),
      output: str(d, 'output', 'decoder.output', true),
      layout: oneOf(d, 'layout', 'decoder.layout', ['NCHW', 'NHWC'] as const, latent.layout),
    };
  }
  return { format: MODEL_MANIFEST_FORMAT, name, description, manifestPath, encoder, input, latent, codebook, decoder };
}

/** The preprocessing part of a manifest, in a canonical form for fingerprints. */
export function preprocessingSignature(m: ModelManifest): string {
  const { input, latent, codebook } = m;
  return JSON.stringify({
    input: [input.name ?? '', input.width, input.height, input.resize, input.padColor, input.channels, input.layout, input.mean, input.std],
    latent: [latent.output ?? '', latent.layout, latent.normalize],
    codebook: [codebook.initializer ?? '', codebook.normalize],
  });
}
