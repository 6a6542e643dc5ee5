// Installs code-server (real VS Code in the browser, with a Node extension host)
// into the git-ignored cache `.cache/code-server/<version>/`, offline apart from
// the npm registry, following shared/recipes/vscode-e2e.md. Used by the e2e test
// support (test/support/vscode.ts) and the demo (scripts/demo.mjs); run it
// directly to provision ahead of time:
//
//   node scripts/provision-code-server.mjs          # no-op when already valid
//   node scripts/provision-code-server.mjs --force  # reinstall
//
// The install is pinned by scripts/code-server/package-lock.json and is valid
// while its marker file matches this script's version, the lock, the Node ABI
// and the platform. PATCHLENS_CODE_SERVER_CACHE=<dir> moves the cache (e.g. to
// share one install between worktrees).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const CODE_SERVER_VERSION = '4.100.3';
const RIPGREP_PKG_VERSION = '1.15.11'; // @vscode/ripgrep used by code-server 4.100.3
const RIPGREP_ASSET_VERSION = 'v13.0.0-10';
const MARKER_FORMAT = 1;

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const templateDir = path.join(root, 'scripts', 'code-server');

/** The cache folder holding every provisioned code-server version. */
export function cacheRoot() {
  return process.env.PATCHLENS_CODE_SERVER_CACHE ? path.resolve(process.env.PATCHLENS_CODE_SERVER_CACHE) : path.join(root, '.cache', 'code-server');
}

function installDir() {
  return path.join(cacheRoot(), CODE_SERVER_VERSION);
}

function paths(dir = installDir()) {
  const pkg = path.join(dir, 'node_modules', 'code-server');
  return {
    dir,
    marker: path.join(dir, '.provisioned.json'),
    entry: path.join(pkg, 'out', 'node', 'entry.js'),
    bin: path.join(dir, 'node_modules', '.bin', 'code-server'),
    // Files whose absence means a broken install (postinstall steps that can fail quietly).
    required: [
      path.join(pkg, 'out', 'node', 'entry.js'),
      path.join(pkg, 'lib', 'vscode', 'node_modules', '@vscode', 'ripgrep', 'bin', 'rg'),
      path.join(pkg, 'lib', 'vscode', 'node_modules', 'node-pty', 'build', 'Release', 'pty.node'),
      path.join(pkg, 'lib', 'vscode', 'node_modules.asar'),
    ],
  };
}

function expectedMarker() {
  const lock = fs.readFileSync(path.join(templateDir, 'package-lock.json'));
  return {
    format: MARKER_FORMAT,
    version: CODE_SERVER_VERSION,
    lock: createHash('sha256').update(lock).digest('hex').slice(0, 16),
    modules: process.versions.modules, // Node ABI of the native addons it compiled
    platform: `${process.platform}-${process.arch}`,
  };
}

/** Why the cached install is not usable, or null when it is. */
export function checkCodeServer() {
  const p = paths();
  if (!fs.existsSync(p.marker)) return `not provisioned (${p.dir})`;
  let marker;
  try {
    marker = JSON.parse(fs.readFileSync(p.marker, 'utf8'));
  } catch {
    return 'unreadable marker';
  }
  const want = expectedMarker();
  for (const k of Object.keys(want)) {
    if (marker[k] !== want[k]) return `stale install (${k}: ${marker[k]} != ${want[k]})`;
  }
  const missing = p.required.find((f) => !fs.existsSync(f));
  if (missing) return `incomplete install (missing ${path.relative(p.dir, missing)})`;
  return null;
}

function fail(message) {
  const err = new Error(message);
  err.name = 'ProvisionError';
  throw err;
}

function preflight() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major !== 20) {
    fail(
      `code-server ${CODE_SERVER_VERSION} installs only on Node 20 (this is Node ${process.versions.node}); ` +
        'see shared/recipes/vscode-e2e.md for newer code-server with Node 24.',
    );
  }
  if (process.platform !== 'linux') fail(`provisioning is scripted for Linux only (this is ${process.platform})`);
  const rg = ['/usr/bin/rg', '/usr/local/bin/rg'].find((f) => fs.existsSync(f));
  if (!rg) fail('ripgrep not found (needed offline by code-server): apt-get install -y ripgrep');
  const target = { x64: 'x86_64-unknown-linux-musl', arm64: 'aarch64-unknown-linux-musl' }[process.arch];
  if (!target) fail(`no ripgrep asset name known for ${process.arch}`);
  return { rg, target };
}

/** @vscode/ripgrep's postinstall downloads rg from GitHub unless it finds this tarball in $TMPDIR first. */
function seedRipgrep(tmp, rg, target) {
  const dir = path.join(tmp, `vscode-ripgrep-cache-${RIPGREP_PKG_VERSION}`);
  fs.mkdirSync(dir, { recursive: true });
  const stage = path.join(tmp, 'rg-stage');
  fs.mkdirSync(stage, { recursive: true });
  fs.copyFileSync(rg, path.join(stage, 'rg'));
  fs.chmodSync(path.join(stage, 'rg'), 0o755);
  const tarball = path.join(dir, `ripgrep-${RIPGREP_ASSET_VERSION}-${target}.tar.gz`);
  const r = spawnSync('tar', ['-czf', tarball, '-C', stage, 'rg'], { stdio: 'inherit' });
  if (r.status !== 0) fail('could not make the ripgrep tarball (tar failed)');
}

/** Simple cross-process lock: a directory holding the owner's pid; stale owners are taken over. */
async function withLock(fn, log) {
  const lock = path.join(cacheRoot(), '.lock');
  fs.mkdirSync(cacheRoot(), { recursive: true });
  const deadline = Date.now() + 15 * 60_000;
  let told = false;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let owner = NaN;
      try {
        owner = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8'));
      } catch {}
      let alive = false;
      if (owner > 0) {
        try {
          process.kill(owner, 0);
          alive = true;
        } catch {}
      }
      if (!alive && owner > 0) {
        fs.rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) fail(`timed out waiting for another provisioning (lock ${lock})`);
      if (!told) log(`waiting for another process provisioning code-server (lock ${lock}) ...`);
      told = true;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Makes sure code-server is installed in the cache; installs it when missing or stale.
 * @param {{ force?: boolean, log?: (line: string) => void, quiet?: boolean }} [opts]
 * @returns {Promise<{ bin: string, entry: string, dir: string, version: string, installed: boolean, seconds: number }>}
 */
export async function provisionCodeServer(opts = {}) {
  const log = opts.log ?? ((l) => process.stderr.write(`[code-server] ${l}\n`));
  const t0 = performance.now();
  const p = paths();
  const result = (installed) => ({
    bin: p.bin,
    entry: p.entry,
    dir: p.dir,
    version: CODE_SERVER_VERSION,
    installed,
    seconds: (performance.now() - t0) / 1000,
  });
  if (!opts.force && checkCodeServer() === null) return result(false);

  return withLock(async () => {
    // Another process may have finished while we waited for the lock.
    if (!opts.force && checkCodeServer() === null) return result(false);
    const why = opts.force ? 'forced' : checkCodeServer();
    const { rg, target } = preflight();
    log(`installing code-server ${CODE_SERVER_VERSION} into ${p.dir} (${why}); takes about 2 minutes ...`);
    fs.rmSync(p.dir, { recursive: true, force: true });
    fs.mkdirSync(p.dir, { recursive: true });
    for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(templateDir, f), path.join(p.dir, f));
    const tmp = path.join(cacheRoot(), 'tmp');
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    seedRipgrep(tmp, rg, target);

    const logFile = path.join(cacheRoot(), `install-${CODE_SERVER_VERSION}.log`);
    const out = fs.openSync(logFile, 'w');
    const env = {
      ...process.env,
      TMPDIR: tmp,
      npm_config_unsafe_perm: 'true', // postinstall refuses to run as root without it
      npm_config_yes: 'true', // node-pty's `npx node-gyp` is cancelled without a TTY otherwise
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
      ONNXRUNTIME_NODE_INSTALL: 'skip',
    };
    const code = await new Promise((resolve) => {
      const child = spawn('npm', ['ci', '--foreground-scripts', '--no-audit', '--no-fund'], {
        cwd: p.dir,
        env,
        stdio: ['ignore', out, out],
      });
      child.on('error', () => resolve(-1));
      child.on('exit', (c) => resolve(c ?? -1));
    });
    fs.closeSync(out);
    if (code !== 0) {
      const tail = fs.readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
      fail(
        `npm ci of code-server failed (exit ${code}); full log: ${logFile}\n${tail}\n` +
          'System packages it needs: apt-get install -y ripgrep libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config build-essential',
      );
    }
    const missing = p.required.filter((f) => !fs.existsSync(f));
    if (missing.length) fail(`code-server installed but files are missing: ${missing.join(', ')} (log: ${logFile})`);
    // Smoke test: it starts and reports its version (config/home kept out of $HOME).
    const v = spawnSync(process.execPath, [p.entry, '--version'], {
      encoding: 'utf8',
      env: { ...process.env, HOME: tmp, XDG_CONFIG_HOME: path.join(tmp, 'config'), XDG_DATA_HOME: path.join(tmp, 'data') },
      timeout: 60_000,
    });
    if (!String(v.stdout).includes(CODE_SERVER_VERSION)) {
      fail(`code-server --version did not report ${CODE_SERVER_VERSION}: ${v.stdout}${v.stderr}`);
    }
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.writeFileSync(p.marker, JSON.stringify({ ...expectedMarker(), at: new Date().toISOString() }, null, 2) + '\n');
    const res = result(true);
    log(`installed code-server ${CODE_SERVER_VERSION} in ${res.seconds.toFixed(1)} s`);
    return res;
  }, log);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const r = await provisionCodeServer({ force: process.argv.includes('--force') });
    console.log(`code-server ${r.version}: ${r.installed ? 'installed' : 'already provisioned'} in ${r.seconds.toFixed(1)} s (${r.dir})`);
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}
