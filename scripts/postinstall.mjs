// npm's postinstall in a checkout: applies patches/ (hnswlib-node's index
// loader mapping level 0 from the file and reading the rest in one block
// instead of two system calls per element, docs/benchmarks.md; a header that
// disagrees with the key dimension refused) with patch-package, then compiles
// hnswlib-node from the patched source. package.json's `allowScripts` denies
// hnswlib-node's own install script (its implicit `node-gyp rebuild`), so
// npm 11 compiles it once, here; an npm without allowScripts has built it
// already, and it is compiled again only when the patched files are newer
// than that build. Outside a checkout (npm install of the CLI tarball: no
// patches/) nothing is done: the published build stays, the same files and
// answers, a slower open.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const patches = path.join(root, 'patches');
if (!fs.existsSync(patches)) process.exit(0);
const require = createRequire(import.meta.url);

const run = (args, cwd = root) => {
  const r = spawnSync(process.execPath, args, { cwd, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

let patchPackage;
try {
  patchPackage = require.resolve('patch-package/index.js');
} catch {
  // npm ci --omit=dev: no patch-package; the published source is compiled below
}
if (patchPackage) run([patchPackage]);

const hnswlib = path.dirname(require.resolve('hnswlib-node/package.json'));
const addon = path.join(hnswlib, 'build', 'Release', 'addon.node');
/** The files patches/ changes in hnswlib-node (`+++ b/node_modules/hnswlib-node/<file>`). */
const patched = fs
  .readdirSync(patches)
  .filter((f) => f.startsWith('hnswlib-node+'))
  .flatMap((f) =>
    [...fs.readFileSync(path.join(patches, f), 'utf8').matchAll(/^\+\+\+ b\/node_modules\/hnswlib-node\/(\S+)/gm)].map((m) => path.join(hnswlib, m[1])),
  );
const mtime = (f) => (fs.existsSync(f) ? fs.statSync(f).mtimeMs : undefined);
const built = mtime(addon);
if (built !== undefined && patched.every((f) => (mtime(f) ?? 0) <= built)) process.exit(0);

// npm sets npm_config_node_gyp for every script it runs: its own node-gyp, as it would use.
const nodeGyp = process.env.npm_config_node_gyp;
if (!nodeGyp) {
  console.error(`postinstall: not run by npm; run \`node-gyp rebuild\` in ${hnswlib} to build the patched loader`);
  process.exit(built === undefined ? 1 : 0);
}
run([nodeGyp, 'rebuild'], hnswlib);
