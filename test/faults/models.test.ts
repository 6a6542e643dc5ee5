// Bad model input: manifests pointing at missing files or out of their folder,
// encoders that are not ONNX, codebooks of the wrong shape, dtype or
// dimension, NaN/Inf in the codebook or in the encoder's output. Each is
// refused before anything is written, naming the manifest field: no database
// folder appears, and an existing database is left byte-for-byte as it was.

import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import sharp from 'sharp';
import { ManifestError } from '../../src/core/modelManifest';
import { writeNpy } from '../../src/core/npy';
import { buildDatabase } from '../../src/engine/indexer';
import { writeTinyModel } from '../support/tinyModel';
import { tempDir, writeDataset } from '../support/fixtures';
import { buildCli, cli, snapshot } from './helpers';

const work = tempDir('patchlens-faults-models-');
const good = path.join(work, 'good');
const data = path.join(work, 'data');
let goodManifest = '';
let before0: Record<string, string>;

/** A copy of the good model with its manifest JSON and files edited. */
function variant(name: string, edit: (manifest: Record<string, any>, dir: string) => void): string {
  const dir = path.join(work, 'models', name);
  fs.cpSync(good, dir, { recursive: true });
  const p = path.join(dir, 'manifest.json');
  const m = JSON.parse(fs.readFileSync(p, 'utf8'));
  edit(m, dir);
  fs.writeFileSync(p, JSON.stringify(m));
  return p;
}

const F = onnx.TensorProto.DataType.FLOAT;
const ints = (name: string, v: number[]) => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
const floats = (name: string, dims: number[], v: number[]) => ({ name, dims, dataType: F, rawData: new Uint8Array(new Float32Array(v).buffer) });
const info = (name: string, dims: (number | string)[]) => ({
  name,
  type: { tensorType: { elemType: F, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
});

/**
 * The tiny model's encoder (patchify Conv, 64x64 input, patch 8, d 4) with extra nodes after the Conv:
 * `always`: latent = conv / 0 (NaN or +-Inf everywhere; the load-time probe sees it);
 * `dark`: latent = conv + log(mean of the image's normalised pixels + 1), which is -Inf exactly
 *   for an all-black image (every value -1) and finite otherwise (the load-time probe is mid-grey).
 */
function writeNanEncoder(dir: string, kind: 'always' | 'dark'): void {
  const enc = onnx.ModelProto.decode(fs.readFileSync(path.join(good, 'encoder.onnx')));
  const g = enc.graph!;
  g.node![0].output = ['conv'];
  if (kind === 'always') {
    g.initializer!.push(floats('zero', [1], [0]));
    g.node!.push({ opType: 'Div', input: ['conv', 'zero'], output: ['latent'] });
  } else {
    g.initializer!.push(floats('one', [1], [1]));
    g.node!.push(
      {
        opType: 'ReduceMean',
        input: ['image'],
        output: ['lowest'],
        attribute: [ints('axes', [1, 2, 3]), { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
      },
      { opType: 'Add', input: ['lowest', 'one'], output: ['shifted'] },
      { opType: 'Log', input: ['shifted'], output: ['logged'] },
      { opType: 'Add', input: ['conv', 'logged'], output: ['latent'] },
    );
  }
  g.output = [info('latent', ['batch', 4, 8, 8])];
  fs.writeFileSync(path.join(dir, 'encoder.onnx'), onnx.ModelProto.encode(enc).finish());
}

/** The same encoder with the codebook as an initializer of the given ONNX data type. */
function writeInitializerEncoder(dir: string, dataType: number): void {
  const enc = onnx.ModelProto.decode(fs.readFileSync(path.join(good, 'encoder.onnx')));
  enc.graph!.initializer!.push({ name: 'codebook', dims: [64, 4], dataType, int32Data: Array.from({ length: 256 }, (_, i) => i % 7) });
  fs.writeFileSync(path.join(dir, 'encoder.onnx'), onnx.ModelProto.encode(enc).finish());
}

before(async () => {
  buildCli();
  goodManifest = writeTinyModel(good, { size: 64, patch: 8, dim: 4, codes: 64 });
  await writeDataset(data, 3, { seed: 41 });
  const r = cli(['index', data, '--model', goodManifest, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  before0 = snapshot(path.join(data, '.patchlens'));
});

/** [name, manifest, field, message pattern] */
function cases(): [string, string, string, RegExp][] {
  const npy = (dir: string, arr: Float32Array | Int32Array, shape: number[]) => fs.writeFileSync(path.join(dir, 'codebook.npy'), writeNpy(arr, shape));
  return [
    ['manifest missing', path.join(work, 'models', 'nope', 'manifest.json'), '(manifest)', /cannot read the model manifest: ENOENT/],
    ['manifest not JSON', writeRaw('not-json', '{"format": "patchlens.model/v1",'), '(manifest)', /is not valid JSON/],
    ['manifest is a list', writeRaw('a-list', '[1, 2, 3]'), '(manifest)', /must be an object/],
    ['manifest is a folder', path.join(good), '(manifest)', /cannot read the model manifest: EISDIR/],
    ['encoder missing', variant('enc-missing', (m) => (m.encoder = 'gone.onnx')), 'encoder', /cannot read .*gone\.onnx: ENOENT/],
    ['encoder empty', variant('enc-empty', (_m, d) => fs.writeFileSync(path.join(d, 'encoder.onnx'), '')), 'encoder', /is empty/],
    [
      'encoder not ONNX',
      variant('enc-garbage', (_m, d) => fs.writeFileSync(path.join(d, 'encoder.onnx'), Buffer.from('PK\x03\x04 definitely a zip, not a model'))),
      'encoder',
      /is not a loadable ONNX model/,
    ],
    [
      'encoder is a PNG',
      variant('enc-png', (_m, d) => fs.copyFileSync(path.join(data, 'img-00.png'), path.join(d, 'encoder.onnx'))),
      'encoder',
      /is not a loadable ONNX model/,
    ],
    ['encoder outside the folder', variant('enc-escape', (m) => (m.encoder = '../good/encoder.onnx')), 'encoder', /must stay inside the manifest's folder/],
    [
      'codebook outside the folder',
      variant('cb-escape', (m) => (m.codebook.path = 'sub/../../good/codebook.npy')),
      'codebook.path',
      /must stay inside the manifest's folder/,
    ],
    [
      'decoder outside the folder',
      variant('dec-escape', (m) => (m.decoder = { path: '../../../etc/passwd' })),
      'decoder.path',
      /must stay inside the manifest's folder/,
    ],
    ['codebook missing', variant('cb-missing', (_m, d) => fs.rmSync(path.join(d, 'codebook.npy'))), 'codebook.path', /ENOENT/],
    ['decoder missing', variant('dec-missing', (m) => (m.decoder = { path: 'decoder.onnx' })), 'decoder.path', /cannot read/],
    ['codebook not .npy', variant('cb-garbage', (_m, d) => fs.writeFileSync(path.join(d, 'codebook.npy'), 'K,d\n1,2\n')), 'codebook.path', /not a \.npy file/],
    ['codebook truncated', variant('cb-trunc', (_m, d) => fs.truncateSync(path.join(d, 'codebook.npy'), 200)), 'codebook.path', /truncated \.npy data/],
    ['codebook of int32', variant('cb-int', (_m, d) => npy(d, new Int32Array(64 * 4).fill(1), [64, 4])), 'codebook.path', /must hold floats .* got int32/],
    [
      'codebook 3-D',
      variant('cb-3d', (_m, d) => npy(d, new Float32Array(64 * 4), [8, 8, 4])),
      'codebook.path',
      /must be a 2-D array \[K, d\], got shape \[8, 8, 4\]/,
    ],
    ['codebook 1-D', variant('cb-1d', (_m, d) => npy(d, new Float32Array(256), [256])), 'codebook.path', /must be a 2-D array/],
    ['codebook of one code', variant('cb-k1', (_m, d) => npy(d, new Float32Array(4).fill(1), [1, 4])), 'codebook.path', /at least 2 codes/],
    [
      'codebook d != latent d',
      variant('cb-dim', (_m, d) => npy(d, new Float32Array(64 * 6).fill(0.5), [64, 6])),
      'codebook.path',
      /codebook dimension 6 differs from the latent dimension 4/,
    ],
    [
      'codebook with NaN',
      variant('cb-nan', (_m, d) => npy(d, new Float32Array(64 * 4).fill(0.5).fill(NaN, 17, 18), [64, 4])),
      'codebook.path',
      /contains NaN or infinite values/,
    ],
    [
      'codebook with Inf',
      variant('cb-inf', (_m, d) => npy(d, new Float32Array(64 * 4).fill(-Infinity, 100, 101).fill(0.5, 0, 100), [64, 4])),
      'codebook.path',
      /contains NaN or infinite values/,
    ],
    [
      'codebook initializer of int32',
      variant('init-int', (m, d) => (writeInitializerEncoder(d, onnx.TensorProto.DataType.INT32), (m.codebook = { initializer: 'codebook' }))),
      'codebook.initializer',
      /must be float32 or float16/,
    ],
    ['encoder outputs NaN', variant('nan-always', (_m, d) => writeNanEncoder(d, 'always')), 'encoder', /produces NaN or infinite latents/],
    ['latent output missing', variant('out-name', (m) => (m.latent.output = 'logits')), 'latent.output', /no tensor output "logits"/],
  ];
}

/** A model folder whose manifest.json is the given raw text. */
function writeRaw(name: string, text: string): string {
  const dir = path.join(work, 'models', name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'manifest.json'), text);
  return path.join(dir, 'manifest.json');
}

test('each bad model is refused naming its field; nothing is written, an existing database is untouched', async () => {
  const fresh = path.join(work, 'fresh');
  await writeDataset(fresh, 2, { seed: 42 });
  for (const [name, manifest, field, re] of cases()) {
    for (const [root, rebuild] of [
      [fresh, false],
      [data, true],
    ] as const) {
      await assert.rejects(buildDatabase({ root, model: manifest, rebuild }), (e: unknown) => {
        assert.ok(e instanceof ManifestError, `${name}: ${String(e)}`);
        assert.equal(e.field, field, `${name}: ${e.message}`);
        assert.match(e.message, re, name);
        assert.ok(e.message.includes(`${field}: `), `${name}: the message names the field: ${e.message}`);
        return true;
      });
    }
    assert.ok(!fs.existsSync(path.join(fresh, '.patchlens')), `${name}: no database folder created`);
    assert.deepEqual(snapshot(path.join(data, '.patchlens')), before0, `${name}: the existing database is untouched`);
  }
});

test('through the CLI: exit 1 and one line naming the manifest and the field', () => {
  const all = new Map(cases().map(([name, manifest, field, re]) => [name, { manifest, field, re }]));
  for (const name of ['codebook of int32', 'codebook d != latent d', 'encoder outputs NaN', 'encoder outside the folder']) {
    const { manifest, field, re } = all.get(name)!;
    const r = cli(['index', data, '--model', manifest, '--rebuild', '--json']);
    assert.equal(r.code, 1, `${name}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.ok(r.reason.startsWith(`patchlens: ${manifest}: ${field}: `), `${name}: ${r.reason}`);
    assert.match(r.reason, re);
    assert.deepEqual(snapshot(path.join(data, '.patchlens')), before0);
  }
});

test('an encoder that gives NaN for some images: those are skipped with the reason, their batch-mates are indexed', async () => {
  const manifest = variant('nan-dark', (_m, d) => writeNanEncoder(d, 'dark'));
  const root = path.join(work, 'dark');
  await writeDataset(root, 4, { seed: 43 });
  // an all-black image makes this encoder output -Inf for that image only
  await sharp({ create: { width: 80, height: 60, channels: 3, background: '#000' } })
    .png()
    .toFile(path.join(root, 'img-01b.png'));
  const r = cli(['index', root, '--model', manifest, '--json', '--batch', '8', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const j = r.json();
  assert.deepEqual(j.skipped, [{ path: 'img-01b.png', error: 'encoder failed: the encoder produced NaN or infinite latents' }]);
  assert.equal(j.images, 4, 'the other images of the same batch are indexed');
});

test('relative paths resolve against the manifest folder, whatever the current folder; absolute paths are taken as written', async () => {
  const abs = variant('absolute', (m) => {
    m.encoder = path.join(good, 'encoder.onnx');
    m.codebook.path = path.join(good, 'codebook.npy');
  });
  const fresh = path.join(work, 'paths');
  await writeDataset(fresh, 1, { seed: 45 });
  for (const [m, cwd] of [
    [goodManifest, '/'],
    [abs, data],
  ] as const) {
    const r = cli(['index', fresh, '--model', path.relative(cwd, m) || m, '--json', '--rebuild', '--quiet'], { cwd });
    assert.equal(r.code, 0, `${m} from ${cwd}: ${r.stderr}`);
  }
});
