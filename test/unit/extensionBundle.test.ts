// The extension as VS Code loads it: dist/extension.js, built by
// scripts/build.mjs, must load in Node with every bundled dependency resolved
// (a dependency whose `main` esbuild cannot follow fails here, not as an
// extension that never activates).

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import Module from 'node:module';

const repo = path.resolve(__dirname, '..', '..');

/** Anything at all: every property, call and construction gives another stub (the vscode API surface at load time). */
function stub(): unknown {
  const f = function () {};
  return new Proxy(f, {
    get: (t, k) => (k === 'prototype' ? t.prototype : k === 'then' ? undefined : k === Symbol.toPrimitive ? () => '' : stub()),
    apply: () => stub(),
    construct: () => stub() as object,
  });
}

test('dist/extension.js loads with a stand-in vscode module and exports activate and deactivate', () => {
  const b = spawnSync(process.execPath, [path.join(repo, 'scripts', 'build.mjs'), '--only=extension'], { cwd: repo, encoding: 'utf8' });
  assert.equal(b.status, 0, b.stderr);
  const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const original = loader._load;
  loader._load = function (request: string, ...rest: unknown[]) {
    return request === 'vscode' ? stub() : original.call(this, request, ...rest);
  };
  try {
    const file = path.join(repo, 'dist', 'extension.js');
    const load = Module.createRequire(__filename);
    delete load.cache[file];
    const ext = load(file) as { activate?: unknown; deactivate?: unknown };
    assert.equal(typeof ext.activate, 'function');
    assert.equal(typeof ext.deactivate, 'function');
  } finally {
    loader._load = original;
  }
});
