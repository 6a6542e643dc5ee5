// `npm run demo`: build the extension, index the sample dataset with the CLI, and
// open it in VS Code with Patch Lens loaded. Works offline on a fresh machine
// (`npm run demo` runs scripts/setup.mjs first: Debian packages, npm ci, code-server):
//   - with VS Code's `code` on PATH: `code --extensionDevelopmentPath=<repo> <folder>`;
//   - otherwise (or with --code-server): code-server on 127.0.0.1, provisioned into
//     .cache/code-server/ like the e2e tests, with the extension's VSIX installed
//     (`npm run package`, cached by content); prints the URL and stays up until Ctrl-C.
// The sample is indexed as a copy in .cache/demo/sample/, never inside media/.
//
//   npm run demo [-- --code-server] [-- --port 8080] [-- --no-index] [-- <folder>]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const say = (line) => console.log(`[demo] ${line}`);

const { values: opts, positionals } = parseArgs({
  options: {
    'code-server': { type: 'boolean', default: process.env.PATCHLENS_DEMO_CODE_SERVER === '1' },
    port: { type: 'string', default: process.env.PATCHLENS_DEMO_PORT ?? '0' },
    'no-index': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
  allowPositionals: true,
});
if (opts.help) {
  console.log('usage: npm run demo [-- [--code-server] [--port N] [--no-index] [folder]]');
  process.exit(0);
}
const port = Number(opts.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be an integer from 0 to 65535 (0: any free port), got ${opts.port}`);
  process.exit(2);
}

// 1. Build (what `npm run build` does).
say('building the extension (npm run build) ...');
const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) {
  console.error('[demo] build failed');
  process.exit(build.status ?? 1);
}

// 2. The dataset: the given folder, or a copy of media/sample/ in .cache/demo/ (its
// database goes beside the copy: the checkout's media/ stays as it is in git, so
// `npm test` after the demo sees no database there).
const sample = path.join(root, 'media', 'sample');
let folder;
if (positionals[0]) folder = path.resolve(positionals[0]);
else {
  folder = path.join(root, '.cache', 'demo', 'sample');
  copySample(sample, folder);
  say(`the sample photos, copied to ${path.relative(root, folder)}/`);
}
if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) {
  console.error(`[demo] not a folder: ${folder}`);
  process.exit(2);
}

// 3. Index it with the engine's CLI.
const cliBin = path.join(root, 'bin', 'patchlens.js');
if (opts['no-index']) say('skipping indexing (--no-index)');
else {
  say(`indexing ${path.relative(root, folder) || folder} with the CLI: node bin/patchlens.js index ${folder}`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cliBin, 'index', folder], { cwd: root, stdio: 'inherit' });
  if (r.status === 0) say(`indexed in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  else say(`indexing failed (exit ${r.status ?? r.signal}); opening the folder anyway (the extension can build the database itself)`);
}

// 4. Open it in VS Code.
const code = opts['code-server'] ? null : findOnPath('code');
if (code) {
  say(`opening in VS Code: code --extensionDevelopmentPath=${root} ${folder}`);
  const r = spawnSync(code, [`--extensionDevelopmentPath=${root}`, folder], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

say(opts['code-server'] ? 'using code-server (--code-server)' : '`code` is not on PATH: using code-server in the browser instead');
const { startCodeServer } = await import('./code-server.mjs');
const runDir = path.join(root, '.cache', 'demo', 'run');
fs.rmSync(runDir, { recursive: true, force: true });
fs.mkdirSync(runDir, { recursive: true });
const t0 = performance.now();
const server = await startCodeServer({ runDir, workspace: folder, port, log: (l) => say(l) });
say(`code-server ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (log: ${path.relative(root, server.logFile)})`);
console.log(`\n  Patch Lens demo: ${server.folderUrl}\n\n  Right-click an image in the explorer -> Inspect Patches. Ctrl-C stops it.\n`);
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    stopping = true;
    say('stopping code-server ...'); // scripts/code-server.mjs stops it and exits
  });
}
const how = await server.exited;
if (!stopping) {
  console.error(`[demo] code-server exited on its own (${how.signal ?? how.code}); see ${server.logFile}`);
  process.exit(1);
}

/** Copies the sample photos (not a database folder) where a demo may write; files already there are kept. */
function copySample(from, to) {
  fs.mkdirSync(to, { recursive: true });
  fs.cpSync(from, to, { recursive: true, force: false, filter: (src) => path.basename(src) !== '.patchlens' });
}

function findOnPath(cmd) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const f = path.join(dir, cmd);
    try {
      fs.accessSync(f, fs.constants.X_OK);
      if (fs.statSync(f).isFile()) return f;
    } catch {}
  }
  return null;
}
