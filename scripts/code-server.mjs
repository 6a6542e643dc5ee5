// Starts and stops code-server with a fresh profile and the Patch Lens extension
// installed from this checkout: by default the VSIX of `npm run package` (cached by
// content), installed with `code-server --install-extension`, as a user installs it.
// Shared by the e2e test support (test/support/vscode.ts) and the demo
// (scripts/demo.mjs). Types: code-server.d.mts.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cachedPackage } from './package.mjs';
import { provisionCodeServer } from './provision-code-server.mjs';

export const repoRoot = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** User settings every run starts from (shared/recipes/vscode-e2e.md), before the caller's own. */
export const defaultSettings = Object.freeze({
  'workbench.startupEditor': 'none',
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'workbench.enableExperiments': false,
  'workbench.tips.enabled': false,
  // Less work for the extension host on 2 cores; the tests do not need git.
  'git.enabled': false,
  'git.autoRepositoryDetection': false,
});

/** The extension's folder name in an extensions dir: `<publisher>.<name>-<version>`. */
export function extensionFolderName() {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  return `${pkg.publisher}.${pkg.name}-${pkg.version}`;
}

/**
 * The installed folders (relative to the repo) of the runtime dependencies: every
 * package-lock entry that is not dev-only and exists here (optional packages for
 * other platforms are absent).
 */
export function runtimeDependencyDirs() {
  const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8'));
  return Object.entries(lock.packages ?? {})
    .filter(([key, info]) => key.startsWith('node_modules/') && !info.dev && !info.link)
    .map(([key]) => key)
    .filter((key) => fs.existsSync(path.join(repoRoot, key)))
    .sort();
}

/** Copies a tree with hard links (fast, no extra space), falling back to copies across devices. */
function linkTree(src, dest, skip = () => false) {
  fs.mkdirSync(dest, { recursive: true });
  for (const ent of fs.readdirSync(src, { withFileTypes: true })) {
    const s = path.join(src, ent.name);
    const d = path.join(dest, ent.name);
    if (skip(ent)) continue;
    if (ent.isDirectory()) linkTree(s, d);
    else if (ent.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(s), d);
    else {
      try {
        fs.linkSync(s, d);
      } catch {
        fs.copyFileSync(s, d);
      }
    }
  }
}

/**
 * Installs the checkout's VSIX (packaged unless a package of the same files is cached)
 * as a user does: `code-server --install-extension` into an empty extensions dir. That
 * install is made once per VSIX (next to it, `<vsix>.installed/`) and hard-linked into
 * each run's extensions dir, so every test file does not pay for unpacking 34 MB.
 * @param {{ entry: string, extensionsDir: string, env: NodeJS.ProcessEnv, log?: (line: string) => void }} o
 */
export function installVsix(o) {
  const t0 = performance.now();
  const pkg = cachedPackage({ log: o.log });
  o.log?.(`VSIX ${pkg.cached ? 'cached' : 'packaged'} in ${pkg.seconds.toFixed(1)} s: ${path.relative(repoRoot, pkg.vsix)}`);
  const installed = `${pkg.vsix.slice(0, -'.vsix'.length)}.installed`;
  if (!fs.existsSync(installed)) {
    const tmp = `${installed}.${process.pid}.tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(path.join(tmp, 'ext'), { recursive: true });
    fs.mkdirSync(path.join(tmp, 'ud'), { recursive: true });
    const r = spawnSync(
      process.execPath,
      [o.entry, '--extensions-dir', path.join(tmp, 'ext'), '--user-data-dir', path.join(tmp, 'ud'), '--install-extension', pkg.vsix],
      {
        cwd: tmp,
        env: { ...o.env, HOME: tmp, XDG_CONFIG_HOME: path.join(tmp, 'ud'), XDG_DATA_HOME: path.join(tmp, 'ud') },
        encoding: 'utf8',
        timeout: 180_000,
      },
    );
    const added = fs.readdirSync(path.join(tmp, 'ext')).filter((d) => d.startsWith(`${extensionId()}-`));
    if (r.status !== 0 || added.length !== 1) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw new Error(`code-server --install-extension ${pkg.vsix} failed (exit ${r.status ?? r.signal}): ${`${r.stdout}${r.stderr}`.trim().slice(-2000)}`);
    }
    fs.mkdirSync(installed);
    fs.renameSync(path.join(tmp, 'ext', added[0]), path.join(installed, added[0]));
    fs.rmSync(tmp, { recursive: true, force: true });
    o.log?.(`installed ${path.basename(pkg.vsix)} with code-server --install-extension in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const dir = path.dirname(installed);
    for (const d of fs.readdirSync(dir))
      if (d.endsWith('.installed') && d !== path.basename(installed)) fs.rmSync(path.join(dir, d), { recursive: true, force: true });
  }
  const [folder] = fs.readdirSync(installed);
  linkTree(path.join(installed, folder), path.join(o.extensionsDir, folder));
  return { dir: path.join(o.extensionsDir, folder), mode: 'vsix', vsix: pkg.vsix, seconds: (performance.now() - t0) / 1000 };
}

/** `<publisher>.<name>`, lower-cased as VS Code spells extension ids. */
export function extensionId() {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  return `${pkg.publisher}.${pkg.name}`.toLowerCase();
}

/**
 * Installs the built extension (run `npm run build` first) into an extensions dir as
 * `<publisher>.<name>-<version>/` with package.json, dist/, media/ and a node_modules
 * holding only the runtime dependencies (mode 'copy', hard links) or a symlink to the
 * repo's node_modules (mode 'link').
 * @param {string} extensionsDir
 * @param {{ mode?: 'copy' | 'link' }} [opts]
 */
export function installExtension(extensionsDir, opts = {}) {
  const mode = opts.mode ?? (process.env.PATCHLENS_EXTENSION_MODE === 'link' ? 'link' : 'copy');
  const t0 = performance.now();
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'extension.js'))) {
    throw new Error('dist/extension.js is missing: run `npm run build` first');
  }
  const dest = path.join(extensionsDir, extensionFolderName());
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(dest, { recursive: true });
  for (const f of fs.readdirSync(repoRoot)) {
    if (f === 'package.json' || /^(README|LICENSE|CHANGELOG|package\.nls)/i.test(f)) {
      fs.copyFileSync(path.join(repoRoot, f), path.join(dest, f));
    }
  }
  for (const d of ['dist', 'media']) {
    if (fs.existsSync(path.join(repoRoot, d))) linkTree(path.join(repoRoot, d), path.join(dest, d));
  }
  if (mode === 'link') {
    fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dest, 'node_modules'), 'dir');
  } else {
    for (const rel of runtimeDependencyDirs()) {
      // Nested node_modules hold their own lock entries, copied on their own turn.
      linkTree(path.join(repoRoot, rel), path.join(dest, rel), (ent) => ent.name === 'node_modules' && ent.isDirectory());
    }
  }
  return { dir: dest, mode, seconds: (performance.now() - t0) / 1000 };
}

/** Live code-server process groups -> their stop(). */
const running = new Map();
let handlersInstalled = false;

/**
 * code-server runs in its own process group (so a stop takes its extension hosts
 * along), which also means a Ctrl-C in the terminal does not reach it: stop every
 * group on SIGINT/SIGTERM/SIGHUP (then exit), and kill them on any process exit.
 */
function installProcessHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const pgid of running.keys()) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {}
    }
  });
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ]) {
    process.on(signal, () => {
      const deadline = setTimeout(() => process.exit(code), 8000);
      Promise.allSettled([...running.values()].map((stop) => stop())).then(() => {
        clearTimeout(deadline);
        process.exit(code);
      });
    });
  }
}

/** An environment for code-server that keeps it off the user's home and out of any VS Code it runs in. */
function isolatedEnv(runDir) {
  const home = path.join(runDir, 'home');
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (k.startsWith('VSCODE_') || k === 'ELECTRON_RUN_AS_NODE' || k === 'NODE_OPTIONS' || k === 'PASSWORD' || k === 'HASHED_PASSWORD') delete env[k];
  }
  Object.assign(env, {
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_STATE_HOME: path.join(home, '.local', 'state'),
  });
  for (const k of ['XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME', 'XDG_STATE_HOME']) fs.mkdirSync(env[k], { recursive: true });
  return env;
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

async function waitFor(what, fn, timeoutMs, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Starts code-server on 127.0.0.1 (a free port chosen by the OS) with a fresh
 * profile under runDir: user data in runDir/ud, extensions in runDir/ext (the
 * extension is installed there unless `installExtension: false`), HOME and XDG dirs
 * in runDir/home. Resolves once /healthz answers. Always call stop().
 * @param {import('./code-server.d.mts').StartOptions} opts
 * @returns {Promise<import('./code-server.d.mts').CodeServer>}
 */
export async function startCodeServer(opts) {
  const runDir = path.resolve(opts.runDir);
  const log = opts.log ?? (() => {});
  const { entry } = await provisionCodeServer({ log });
  const userDataDir = path.join(runDir, 'ud');
  const extensionsDir = path.join(runDir, 'ext');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  const settings = { ...defaultSettings, ...(opts.settings ?? {}) };
  if (opts.trusted === false) {
    // Open straight into Restricted Mode instead of asking with a modal dialog.
    settings['security.workspace.trust.enabled'] ??= true;
    settings['security.workspace.trust.startupPrompt'] ??= 'never';
  }
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  const configFile = path.join(runDir, 'config.yaml');
  fs.writeFileSync(configFile, 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n');
  const env = isolatedEnv(runDir);
  const mode = opts.extensionMode ?? process.env.PATCHLENS_EXTENSION_MODE ?? 'vsix';
  let install = null;
  if (opts.installExtension !== false) {
    install = mode === 'vsix' ? installVsix({ entry, extensionsDir, env, log }) : installExtension(extensionsDir, { mode });
    log(`extension installed (${install.mode}) in ${install.seconds.toFixed(2)} s: ${install.dir}`);
  }

  const args = [
    entry,
    '--bind-addr',
    `${opts.host ?? '127.0.0.1'}:${opts.port ?? 0}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    ...(opts.trusted === false ? [] : ['--disable-workspace-trust']),
    '--config',
    configFile,
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    ...(opts.workspace ? [path.resolve(opts.workspace)] : []),
  ];
  const logFile = path.join(runDir, 'code-server.log');
  const out = fs.openSync(logFile, 'a');
  const t0 = performance.now();
  // Own process group, so stop() takes the extension hosts and helpers along.
  const child = spawn(process.execPath, args, { cwd: runDir, env, stdio: ['ignore', out, out], detached: true });
  fs.closeSync(out);
  const pid = child.pid;
  if (!pid) throw new Error('code-server did not start');
  let exited = null;
  const exitedPromise = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    }),
  );

  let stopping = null;
  const stop = () =>
    (stopping ??= (async () => {
      try {
        if (groupAlive(pid)) process.kill(-pid, 'SIGTERM');
      } catch {}
      try {
        await waitFor('code-server to exit', () => !groupAlive(pid), 5000);
      } catch {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {}
        await waitFor('code-server to die', () => !groupAlive(pid), 5000).catch(() => {});
      }
      running.delete(pid);
      child.unref();
    })());
  running.set(pid, stop);
  installProcessHandlers();

  try {
    const port = await waitFor(
      'code-server to listen',
      () => {
        if (exited)
          throw new Error(`code-server exited (${JSON.stringify(exited)}) before listening; log: ${logFile}\n${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
        const m = /HTTP server listening on https?:\/\/[^\s]*:(\d+)\//.exec(fs.readFileSync(logFile, 'utf8'));
        return m ? Number(m[1]) : 0;
      },
      60_000,
    );
    const host = opts.host && opts.host !== '0.0.0.0' ? opts.host : '127.0.0.1';
    const url = `http://${host}:${port}/`;
    await waitFor(
      'code-server /healthz',
      async () => {
        if (exited) throw new Error(`code-server exited (${JSON.stringify(exited)}); log: ${logFile}`);
        try {
          const res = await fetch(new URL('healthz', url), { signal: AbortSignal.timeout(2000) });
          return res.ok;
        } catch {
          return false;
        }
      },
      30_000,
    );
    const folderUrl = opts.workspace ? `${url}?folder=${encodeURIComponent(path.resolve(opts.workspace)).replace(/%2F/g, '/')}` : url;
    return {
      url,
      folderUrl,
      port,
      pid,
      runDir,
      userDataDir,
      extensionsDir,
      extensionDir: install?.dir,
      logFile,
      startSeconds: (performance.now() - t0) / 1000,
      exited: exitedPromise,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
