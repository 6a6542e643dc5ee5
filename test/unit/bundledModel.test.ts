// The bundled tokenizer on real sample photos: golden token grids catch an
// accidental change of the model files or of the preprocessing (decoding,
// EXIF, resize, normalisation, quantisation). After a deliberate change,
// regenerate them: PATCHLENS_UPDATE_GOLDEN=1 node scripts/test.mjs unit

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer } from '../../src/engine/tokenizer';
import { decodeForModel } from '../../src/engine/imageDecoder';
import { bundledModelPath } from '../../src/engine/locations';

const repo = path.resolve(__dirname, '..', '..');
const goldenFile = path.join(repo, 'test', 'fixtures', 'golden-tokens.json');
const SAMPLES = ['astronaut.jpg', 'bridge.jpg', 'coffee.jpg'];

interface Golden {
  model: string;
  fingerprint: string;
  images: { file: string; width: number; height: number; tokens: number[] }[];
}

test('the bundled model loads with the documented interface', async () => {
  const tok = await Tokenizer.load(bundledModelPath());
  const { info } = tok;
  assert.equal(info.manifest.name, 'patchlens-vq16');
  assert.deepEqual([info.manifest.input.width, info.manifest.input.height, info.manifest.input.resize], [256, 256, 'crop']);
  assert.deepEqual([info.rows, info.cols, info.dim], [16, 16, 8]);
  assert.ok(info.codebookSize >= 1024 && info.codebookSize <= 4096, `K = ${info.codebookSize}`);
  assert.ok(tok.hasDecoder);
  await tok.release();
});

test('sample photos tokenize to the golden grids', async () => {
  const tok = await Tokenizer.load(bundledModelPath());
  const images: Golden['images'] = [];
  for (const file of SAMPLES) {
    const d = await decodeForModel(fs.readFileSync(path.join(repo, 'media', 'sample', file)), tok.info.manifest.input);
    const [enc] = await tok.encode([d.rgb]);
    images.push({ file, width: d.width, height: d.height, tokens: Array.from(enc.tokens) });
    assert.ok(new Set(enc.tokens).size > 30, `${file}: a photo uses many codes`);
  }
  const current: Golden = { model: tok.info.manifest.name, fingerprint: tok.info.fingerprint, images };
  await tok.release();
  if (process.env.PATCHLENS_UPDATE_GOLDEN) {
    fs.mkdirSync(path.dirname(goldenFile), { recursive: true });
    fs.writeFileSync(goldenFile, JSON.stringify(current) + '\n');
    return;
  }
  const golden = JSON.parse(fs.readFileSync(goldenFile, 'utf8')) as Golden;
  assert.equal(current.fingerprint, golden.fingerprint, 'the model files or their preprocessing changed: if deliberate, regenerate the golden grids');
  for (const [i, g] of golden.images.entries()) {
    const c = current.images[i];
    assert.deepEqual([c.file, c.width, c.height], [g.file, g.width, g.height]);
    const differ = c.tokens.filter((t, k) => t !== g.tokens[k]).length;
    // A few near-ties may flip with another CPU's float rounding; a real change moves far more.
    assert.ok(differ <= g.tokens.length * 0.02, `${g.file}: ${differ} of ${g.tokens.length} tokens changed`);
  }
});
