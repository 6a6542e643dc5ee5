// `npm run demo`: build the extension, index the sample dataset with the CLI, and
// open it in VS Code with Patch Lens loaded. Works offline on a fresh machine
// (after `npm ci`):
//   - with VS Code's `code` on PATH: `code --extensionDevelopmentPath=<repo> <folder>`;
//   - otherwise (or with --code-server): code-server on 127.0.0.1, provisioned into
//     .cache/code-server/ like the e2e tests; prints the URL and stays up until Ctrl-C.
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

// 2. The dataset: the given folder, media/sample/, or a small generated stand-in.
const sample = path.join(root, 'media', 'sample');
let folder;
if (positionals[0]) folder = path.resolve(positionals[0]);
else if (fs.existsSync(sample)) folder = sample;
else {
  folder = path.join(root, '.cache', 'demo', 'sample');
  say(`media/sample/ is not in this checkout yet; opening a generated stand-in: ${path.relative(root, folder)}/`);
  await makeStandInDataset(folder);
}
if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) {
  console.error(`[demo] not a folder: ${folder}`);
  process.exit(2);
}

// 3. Index it with the engine's CLI, once the CLI exists.
const cliBin = path.join(root, 'bin', 'patchlens.js');
const cliBundle = path.join(root, 'dist', 'cli.js');
if (opts['no-index']) say('skipping indexing (--no-index)');
else if (!fs.existsSync(cliBin) || !fs.existsSync(cliBundle)) {
  say(`skipping indexing: the CLI is not built yet (${fs.existsSync(cliBin) ? 'dist/cli.js' : 'bin/patchlens.js'} missing; it comes with src/cli/main.ts)`);
} else if (folder !== sample && !positionals[0]) {
  say('skipping indexing: media/sample/ is not in this checkout yet');
} else {
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

/** A few generated images so the demo has something to inspect before media/sample/ lands. */
async function makeStandInDataset(dir) {
  if (fs.existsSync(path.join(dir, '.complete'))) return;
  fs.mkdirSync(dir, { recursive: true });
  const { default: sharp } = await import('sharp');
  const size = 384;
  const images = {
    'gradient.png': (x, y) => [x * 255 / size, y * 255 / size, 128],
    'checker.png': (x, y) => (((x >> 5) + (y >> 5)) % 2 ? [230, 230, 230] : [30, 30, 30]),
    'rings.jpg': (x, y) => {
      const r = Math.hypot(x - size / 2, y - size / 2);
      return [128 + 127 * Math.sin(r / 6), 90, 128 + 127 * Math.cos(r / 9)];
    },
  };
  for (const [name, f] of Object.entries(images)) {
    const px = Buffer.alloc(size * size * 3);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) px.set(f(x, y).map(Math.round), (y * size + x) * 3);
    const img = sharp(px, { raw: { width: size, height: size, channels: 3 } });
    await (name.endsWith('.jpg') ? img.jpeg() : img.png()).toFile(path.join(dir, name));
  }
  fs.writeFileSync(path.join(dir, '.complete'), '');
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
