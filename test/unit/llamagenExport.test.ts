// A user's own tokenizer: tools/tokenizer/export_llamagen.py on a randomly
// initialised full-size LlamaGen VQ-16 (real weights cannot be downloaded here)
// must load in the engine and give PyTorch's tokens.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Tokenizer } from '../../src/engine/tokenizer';
import { decodeForModel } from '../../src/engine/imageDecoder';
import { tempDir } from '../support/fixtures';

const repo = path.resolve(__dirname, '..', '..');
const PYTHON = '/usr/bin/python3'; // Debian's python3-torch and python3-onnx live here

interface Expected {
  manifest: string;
  grid: number;
  codebookSize: number;
  dim: number;
  images: { file: string; tokens: number[][]; latentAt00: number[]; ambiguous: [number, number][] }[];
  tolerance: { latentAbs: number; margin: number };
}

test("a LlamaGen VQ-16 export loads in the engine and reproduces PyTorch's tokens", { timeout: 15 * 60_000 }, async () => {
  assert.ok(fs.existsSync(PYTHON), `${PYTHON} is missing: apt-get install python3-torch python3-onnx`);
  const out = tempDir('patchlens-llamagen-');
  const r = spawnSync(PYTHON, [path.join(repo, 'tools', 'tokenizer', 'make_parity_fixture.py'), '--out', out, '--seed', '0', '--images', '2'], {
    cwd: repo,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, `make_parity_fixture.py failed:\n${r.stderr}`);
  const expected = JSON.parse(fs.readFileSync(path.join(out, 'expected.json'), 'utf8')) as Expected;
  const tok = await Tokenizer.load(path.join(out, expected.manifest));
  assert.deepEqual([tok.info.rows, tok.info.cols, tok.info.dim, tok.info.codebookSize], [24, 24, 8, 16384]);
  assert.deepEqual([tok.info.manifest.input.width, tok.info.manifest.input.resize], [384, 'crop']);
  for (const img of expected.images) {
    const decoded = await decodeForModel(fs.readFileSync(path.join(out, img.file)), tok.info.manifest.input);
    const [enc] = await tok.encode([decoded.rgb]);
    const ambiguous = new Set(img.ambiguous.map(([i, j]) => i * 24 + j));
    let mismatches = 0;
    for (let i = 0; i < 24; i++) {
      for (let j = 0; j < 24; j++) {
        if (enc.tokens[i * 24 + j] !== img.tokens[i][j] && !ambiguous.has(i * 24 + j)) mismatches++;
      }
    }
    assert.equal(mismatches, 0, `${img.file}: ${mismatches} tokens differ from PyTorch outside near-ties`);
    // the latent at (0, 0): PyTorch's before normalisation, the engine's after (as the manifest asks)
    const norm = Math.hypot(...img.latentAt00);
    for (let k = 0; k < 8; k++) {
      const want = img.latentAt00[k] / norm;
      assert.ok(Math.abs(enc.latents[k] - want) < expected.tolerance.latentAbs, `latent ${k}: ${enc.latents[k]} vs ${want}`);
    }
  }
  await tok.release();
});
