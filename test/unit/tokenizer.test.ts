import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer } from '../../src/engine/tokenizer';
import { EncoderPool } from '../../src/engine/encoderPool';
import { ManifestError } from '../../src/core/modelManifest';
import { writeNpy } from '../../src/core/npy';
import { decodeForModel } from '../../src/engine/imageDecoder';
import { writeTinyModel } from '../support/tinyModel';
import { tempDir, texturedImage } from '../support/fixtures';

const dir = tempDir();

async function expectField(manifestPath: string, field: string, pattern?: RegExp) {
  await assert.rejects(Tokenizer.load(manifestPath), (err: unknown) => {
    assert.ok(err instanceof ManifestError, `expected ManifestError, got ${String(err)}`);
    assert.equal(err.field, field, err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

test('a valid model loads: grid, dimension and codebook size come from the files', async () => {
  const t = await Tokenizer.load(writeTinyModel(path.join(dir, 'ok'), { size: 64, patch: 16, dim: 4, codes: 32 }));
  assert.deepEqual([t.info.rows, t.info.cols, t.info.dim, t.info.codebookSize], [4, 4, 4, 32]);
  assert.equal(t.dynamicBatch, true);
  assert.match(t.info.fingerprint, /^[0-9a-f]{16}$/);
  // codebook rows are L2-normalised as the manifest asks
  for (let k = 0; k < 32; k++) {
    const n = Math.hypot(...t.info.codebook.subarray(k * 4, k * 4 + 4));
    assert.ok(Math.abs(n - 1) < 1e-5);
  }
  await t.release();
});

test("describe takes the grid from a database's record of the same model, and loads the model for any other", async () => {
  const manifest = writeTinyModel(path.join(dir, 'describe'), { size: 64, patch: 16, dim: 4, codes: 32 });
  const t = await Tokenizer.load(manifest);
  const loaded = t.info;
  await t.release();
  const record = { fingerprint: loaded.fingerprint, rows: loaded.rows, cols: loaded.cols, dim: loaded.dim, codebookSize: loaded.codebookSize };
  const same = await Tokenizer.describe(manifest, record);
  assert.deepEqual(
    [same.fingerprint, same.rows, same.cols, same.dim, same.codebookSize, Array.from(same.codebook)],
    [loaded.fingerprint, loaded.rows, loaded.cols, loaded.dim, loaded.codebookSize, Array.from(loaded.codebook)],
  );
  // the record is what gives the grid (no dry run): a record claiming another grid is taken as written
  assert.equal((await Tokenizer.describe(manifest, { ...record, rows: 7 })).rows, 7);
  // another model's record, or none: the encoder is loaded and run
  assert.equal((await Tokenizer.describe(manifest, { ...record, rows: 7, fingerprint: '0123456789abcdef' })).rows, 4);
  assert.equal((await Tokenizer.describe(manifest)).rows, 4);
});

test('encode workers that load another model than the one described fail to start', async () => {
  const manifest = writeTinyModel(path.join(dir, 'expect'), { size: 64, patch: 16, dim: 4, codes: 32 });
  const info = await Tokenizer.describe(manifest);
  const opts = { manifestPath: manifest, workers: 1, threads: 1, maxPixels: 1e6, protoPatch: 16 };
  const pool = await EncoderPool.start({ ...opts, expect: { fingerprint: info.fingerprint, rows: 4, cols: 4 } });
  await pool.close();
  await assert.rejects(EncoderPool.start({ ...opts, expect: { fingerprint: '0123456789abcdef', rows: 4, cols: 4 } }), /changed while indexing/);
  await assert.rejects(EncoderPool.start({ ...opts, expect: { fingerprint: info.fingerprint, rows: 5, cols: 4 } }), /changed while indexing/);
});

test('encoding a batch equals encoding each image alone; latents are unit vectors', async () => {
  const t = await Tokenizer.load(writeTinyModel(path.join(dir, 'batch'), { decoder: true }));
  const input = t.info.manifest.input;
  const imgs = await Promise.all([1, 2, 3].map(async (s) => (await decodeForModel(await (await texturedImage(90, 70, s)).png().toBuffer(), input)).rgb));
  const batch = await t.encode(imgs);
  for (let i = 0; i < 3; i++) {
    const [one] = await t.encode([imgs[i]]);
    assert.deepEqual(Array.from(one.tokens), Array.from(batch[i].tokens));
    for (let j = 0; j < one.latents.length; j++) assert.ok(Math.abs(one.latents[j] - batch[i].latents[j]) < 1e-5);
  }
  const lat = batch[0].latents;
  for (let c = 0; c < lat.length / 4; c++) assert.ok(Math.abs(Math.hypot(...lat.subarray(c * 4, c * 4 + 4)) - 1) < 1e-5);
  assert.ok(new Set(batch[0].tokens).size > 1, 'a textured image uses several tokens');
  const rec = await t.reconstruct(batch[0].tokens);
  assert.equal(rec.length, 64 * 64 * 3);
  await t.release();
});

test('the same model with the codebook as an ONNX initializer gives the same tokens', async () => {
  const a = await Tokenizer.load(writeTinyModel(path.join(dir, 'npy'), { seed: 5 }));
  const b = await Tokenizer.load(writeTinyModel(path.join(dir, 'init'), { seed: 5, codebookAs: 'initializer' }));
  const rgb = (await decodeForModel(await (await texturedImage(64, 64, 9)).png().toBuffer(), a.info.manifest.input)).rgb;
  const [ea] = await a.encode([rgb]);
  const [eb] = await b.encode([rgb]);
  assert.deepEqual(Array.from(ea.tokens), Array.from(eb.tokens));
  assert.notEqual(a.info.fingerprint, b.info.fingerprint, 'different files, different fingerprint');
});

test('wrong models are rejected before any work, naming the field', async () => {
  const m = writeTinyModel(path.join(dir, 'bad-base'), { dim: 4 });
  const variant = (name: string, edit: (j: Record<string, any>, d: string) => void) => {
    const d = path.join(dir, name);
    fs.cpSync(path.dirname(m), d, { recursive: true });
    const p = path.join(d, 'manifest.json');
    const j = JSON.parse(fs.readFileSync(p, 'utf8'));
    edit(j, d);
    fs.writeFileSync(p, JSON.stringify(j));
    return p;
  };
  await expectField(path.join(dir, 'nope', 'manifest.json'), '(manifest)', /cannot read/);
  await expectField(
    variant('missing-enc', (j) => (j.encoder = 'gone.onnx')),
    'encoder',
    /ENOENT/,
  );
  await expectField(
    variant('not-onnx', (_j, d) => fs.writeFileSync(path.join(d, 'encoder.onnx'), 'hello, not a model')),
    'encoder',
    /not a loadable ONNX model/,
  );
  await expectField(
    variant('cb-dim', (_j, d) => fs.writeFileSync(path.join(d, 'codebook.npy'), writeNpy(new Float32Array(16 * 5), [16, 5]))),
    'codebook.path',
    /codebook dimension 5 differs from the latent dimension 4/,
  );
  await expectField(
    variant('cb-rank', (_j, d) => fs.writeFileSync(path.join(d, 'codebook.npy'), writeNpy(new Float32Array(8), [2, 2, 2]))),
    'codebook.path',
    /2-D/,
  );
  await expectField(
    variant('cb-nan', (_j, d) => fs.writeFileSync(path.join(d, 'codebook.npy'), writeNpy(new Float32Array([NaN, 0, 0, 1, 1, 0, 0, 0]), [2, 4]))),
    'codebook.path',
    /NaN/,
  );
  await expectField(
    variant('cb-garbage', (_j, d) => fs.writeFileSync(path.join(d, 'codebook.npy'), 'xx')),
    'codebook.path',
    /not a \.npy/,
  );
  await expectField(
    variant('in-name', (j) => (j.input.name = 'pixels')),
    'input.name',
    /no tensor input "pixels"/,
  );
  await expectField(
    variant('out-name', (j) => (j.latent.output = 'z')),
    'latent.output',
    /no tensor output "z"/,
  );
  await expectField(
    variant('size', (j) => (j.input.width = j.input.height = 48)),
    'input.width',
    /expects input shape/,
  );
  await expectField(
    variant('layout', (j) => (j.input.layout = 'NHWC')),
    'input.width',
    /expects input shape/,
  );
  await expectField(
    variant('init', (j) => (j.codebook = { initializer: 'nothing' })),
    'codebook.initializer',
    /no initializer named "nothing"/,
  );
  await expectField(
    variant('dec', (j) => (j.decoder = { path: 'nodec.onnx' })),
    'decoder.path',
    /cannot read/,
  );
});
