// npm's postinstall in a checkout: applies patches/ (hnswlib-node's index
// loader reading the file in two blocks instead of two system calls per
// element, docs/benchmarks.md) with patch-package, then rebuilds hnswlib-node
// from the patched source. An installed package (npm install of the CLI
// tarball: no patch-package, a devDependency) keeps the published build: the
// same files and answers, a slower open.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
let patchPackage;
try {
  patchPackage = require.resolve('patch-package/index.js');
} catch {
  patchPackage = undefined;
}
if (!fs.existsSync(path.join(root, 'patches')) || !patchPackage) process.exit(0);

const run = (args) => {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
run([patchPackage]);
// npm_execpath: the npm running this install (npm-cli.js)
const npm = process.env.npm_execpath;
if (!npm) {
  console.error('postinstall: not run by npm; run `npm rebuild hnswlib-node` to build the patched loader');
  process.exit(0);
}
run([npm, 'rebuild', 'hnswlib-node']);
