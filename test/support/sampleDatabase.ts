// A small real database for engine tests: sample photos indexed by the CLI
// with the bundled tokenizer (16x16 tokens, causal h=1 keys: 210 a photo).

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { samplePhotos, SAMPLE_DIR } from './knownCopies';
import { repoRoot } from './chromium';

/** Runs bin/patchlens.js in `cwd`. */
export function runCli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'patchlens.js'), ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

/** Builds the CLI bundle, copies `count` sample photos (from `first` on) into `<work>/<name>` and indexes them; returns the database folder. */
export function sampleDatabase(work: string, count: number, opts: { first?: number; name?: string } = {}): string {
  const b = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'build.mjs'), '--only=cli,encodeWorker,engineWorker'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  assert.equal(b.status, 0, b.stderr);
  const root = path.join(work, opts.name ?? 'photos');
  fs.mkdirSync(root, { recursive: true });
  const first = opts.first ?? 0;
  for (const p of samplePhotos().slice(first, first + count)) fs.copyFileSync(path.join(SAMPLE_DIR, p), path.join(root, p));
  const r = runCli(['index', root, '--quiet', '--json'], work);
  assert.equal(r.code, 0, r.stderr);
  return path.join(root, '.patchlens');
}
