import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { ManifestError, parseModelManifest } from '../../src/core/modelManifest';

const base = {
  format: 'patchlens.model/v1',
  name: 'm',
  encoder: 'enc.onnx',
  input: { size: 256 },
  codebook: { path: 'cb.npy' },
};
const parse = (m: unknown) => parseModelManifest(m, '/models/x/manifest.json', path.posix);
const fieldOf = (m: unknown) => {
  try {
    parse(m);
  } catch (err) {
    assert.ok(err instanceof ManifestError, String(err));
    return err.field;
  }
  assert.fail('expected a ManifestError');
};

test('defaults: crop resize, RGB NCHW, mean/std 0.5, paths resolved against the manifest folder', () => {
  const m = parse(base);
  assert.equal(m.encoder, '/models/x/enc.onnx');
  assert.equal(m.codebook.path, '/models/x/cb.npy');
  assert.deepEqual([m.input.width, m.input.height, m.input.resize, m.input.channels, m.input.layout], [256, 256, 'crop', 'RGB', 'NCHW']);
  assert.deepEqual(m.input.mean, [0.5, 0.5, 0.5]);
  assert.equal(m.latent.layout, 'NCHW');
  assert.equal(m.decoder, undefined);
  const abs = parse({ ...base, encoder: '/abs/e.onnx', decoder: 'd.onnx', latent: { normalize: true } });
  assert.equal(abs.encoder, '/abs/e.onnx');
  assert.equal(abs.decoder?.path, '/models/x/d.onnx');
  assert.equal(abs.codebook.normalize, true, 'codebook normalisation follows the latents by default');
});

test('every invalid field is named in the error', () => {
  assert.equal(fieldOf(null), '(manifest)');
  assert.equal(fieldOf({ ...base, format: 'v0' }), 'format');
  assert.equal(fieldOf({ ...base, name: '' }), 'name');
  assert.equal(fieldOf({ ...base, encoder: 3 }), 'encoder');
  assert.equal(fieldOf({ ...base, input: undefined }), 'input');
  assert.equal(fieldOf({ ...base, input: { size: 0 } }), 'input.size');
  assert.equal(fieldOf({ ...base, input: { width: 64 } }), 'input.height');
  assert.equal(fieldOf({ ...base, input: { size: 64, width: 64 } }), 'input.size');
  assert.equal(fieldOf({ ...base, input: { size: 64, resize: 'zoom' } }), 'input.resize');
  assert.equal(fieldOf({ ...base, input: { size: 64, std: [1, 0, 1] } }), 'input.std');
  assert.equal(fieldOf({ ...base, input: { size: 64, mean: [1, 2] } }), 'input.mean');
  assert.equal(fieldOf({ ...base, input: { size: 64, layout: 'CHW' } }), 'input.layout');
  assert.equal(fieldOf({ ...base, latent: { layout: 'HWC' } }), 'latent.layout');
  assert.equal(fieldOf({ ...base, latent: { normalize: 'yes' } }), 'latent.normalize');
  assert.equal(fieldOf({ ...base, codebook: {} }), 'codebook');
  assert.equal(fieldOf({ ...base, codebook: { path: 'a.npy', initializer: 'w' } }), 'codebook');
  assert.equal(fieldOf({ ...base, decoder: { input: 'x' } }), 'decoder.path');
});

test('the message carries the manifest path and the field', () => {
  assert.throws(() => parse({ ...base, input: { size: -1 } }), /\/models\/x\/manifest\.json: input\.size: must be an integer/);
});
