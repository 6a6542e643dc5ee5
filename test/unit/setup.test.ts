// The set-up step of `npm test` / `npm run demo` and `npm run doctor` on a machine that
// lacks something: Debian packages reported missing by a fake dpkg-query first on PATH
// (this machine has them all), apt-get faked the same way, node_modules compared with
// made-up lock files.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../support/chromium';
import type * as SetupModule from '../../scripts/setup.mjs' with { 'resolution-mode': 'import' };
import type * as RequirementsModule from '../../scripts/requirements.mjs' with { 'resolution-mode': 'import' };

const isRoot = process.getuid?.() === 0;

/** A bin folder with a dpkg-query that reports every package installed except `missing`, and an apt-get that logs its arguments. */
function fakeBin(missing: string[]): { bin: string; aptLog: string } {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'patchlens-setup-'));
  fs.chmodSync(bin, 0o755);
  const aptLog = path.join(bin, 'apt-get.log');
  fs.writeFileSync(
    path.join(bin, 'dpkg-query'),
    `#!/bin/sh\nshift 3\nfor p in "$@"; do case " ${missing.join(' ')} " in *" $p "*) ;; *) printf '%s\\tii \\n' "$p";; esac; done\n`,
    { mode: 0o755 },
  );
  fs.writeFileSync(path.join(bin, 'apt-get'), `#!/bin/sh\necho "$@" >> '${aptLog}'\n`, { mode: 0o755 });
  return { bin, aptLog };
}

function runSetup(args: string[], bin: string, asUser = false) {
  const cmd = asUser && isRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath] : [process.execPath];
  return spawnSync(cmd[0], [...cmd.slice(1), 'scripts/setup.mjs', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, PATCHLENS_SKIP_SETUP: '' },
    timeout: 120_000,
  });
}

test('not root and a Debian package missing: one line naming the sudo apt-get command, exit 1', () => {
  const { bin } = fakeBin(['python3-faiss', 'chromium']);
  try {
    const r = runSetup(['test'], bin, true);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr, 'setup: missing Debian packages; run: sudo apt-get install -y --no-install-recommends chromium python3-faiss\n');
    assert.equal(r.stdout, '');
    // The demo does not need the test-only packages.
    const demo = runSetup(['demo'], bin, true);
    assert.doesNotMatch(demo.stderr, /missing Debian packages/);
  } finally {
    fs.rmSync(bin, { recursive: true, force: true });
  }
});

test('as root a missing Debian package is installed with apt-get, then the set-up goes on', { skip: !isRoot && 'needs root' }, () => {
  const { bin, aptLog } = fakeBin(['python3-h5py']);
  try {
    const r = runSetup(['test'], bin);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(fs.readFileSync(aptLog, 'utf8').trim().split('\n'), ['update -q', 'install -y --no-install-recommends python3-h5py -q']);
    assert.match(r.stderr, /installing python3-h5py with apt-get/);
  } finally {
    fs.rmSync(bin, { recursive: true, force: true });
  }
});

test('doctor lists every requirement, present or missing, and exits 1 when one is missing', async () => {
  const { DEBIAN_PACKAGES } = (await import('../../scripts/requirements.mjs')) as typeof RequirementsModule;
  const { bin } = fakeBin(['ripgrep']);
  try {
    const r = runSetup(['--doctor'], bin);
    assert.equal(r.status, 1, r.stderr);
    const lines = r.stdout.trim().split('\n');
    for (const p of DEBIAN_PACKAGES)
      assert.ok(
        lines.some((l) => l.startsWith(p.pkg === 'ripgrep' ? 'MISSING  ripgrep' : `present  ${p.pkg} `)),
        p.pkg,
      );
    assert.ok(lines.some((l) => l.startsWith('present  node_modules matches package-lock.json')));
    assert.match(lines.at(-1)!, /^1 missing: sudo apt-get install -y --no-install-recommends ripgrep; /);
  } finally {
    fs.rmSync(bin, { recursive: true, force: true });
  }
});

test("node_modules is stale when missing or when it differs from the lock file; other platforms' optional packages do not count", async () => {
  const { nodeModulesStale } = (await import('../../scripts/setup.mjs')) as typeof SetupModule;
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'patchlens-lock-'));
  try {
    const lock = {
      '': { name: 'x' },
      'node_modules/a': { version: '1.0.0' },
      'node_modules/@img/sharp-darwin-arm64': { version: '0.35.5', optional: true },
    };
    fs.writeFileSync(path.join(repo, 'package-lock.json'), JSON.stringify({ packages: lock }));
    assert.equal(nodeModulesStale(repo), 'node_modules is missing');
    fs.mkdirSync(path.join(repo, 'node_modules'));
    const installed = (packages: object) => fs.writeFileSync(path.join(repo, 'node_modules', '.package-lock.json'), JSON.stringify({ packages }));
    installed({ 'node_modules/a': { version: '1.0.0' } });
    assert.equal(nodeModulesStale(repo), null);
    installed({ 'node_modules/a': { version: '0.9.0' } });
    assert.equal(nodeModulesStale(repo), 'a is 0.9.0, the lock file wants 1.0.0');
    installed({});
    assert.equal(nodeModulesStale(repo), 'a is not installed');
    installed({ 'node_modules/a': { version: '1.0.0' }, 'node_modules/b': { version: '2.0.0' } });
    assert.equal(nodeModulesStale(repo), 'b is installed but not in the lock file');
  } finally {
    fs.rmSync(repo, { recursive: true, force: true });
  }
  assert.equal(nodeModulesStale(), null, 'this checkout');
});
