#!/usr/bin/env node
// The `patchlens` command: the bundled CLI (run `npm run build` first in a checkout).
const fs = require('node:fs');
const path = require('node:path');
const root = path.join(__dirname, '..');
const cli = path.join(root, 'dist', 'cli.js');

/** In a checkout (src/ beside dist/), the newest source file newer than the bundle, if any. */
function staleSource() {
  const src = path.join(root, 'src');
  let built;
  try {
    built = fs.statSync(cli).mtimeMs;
    if (!fs.statSync(src).isDirectory()) return undefined;
  } catch {
    return undefined;
  }
  for (const name of fs.readdirSync(src, { recursive: true })) {
    const file = path.join(src, String(name));
    try {
      if (fs.statSync(file).mtimeMs > built) return file;
    } catch {
      // a file removed while we looked: not ours to report
    }
  }
  return undefined;
}

const stale = staleSource();
if (stale) console.error(`patchlens: warning: ${path.relative(root, stale)} is newer than dist/cli.js; run \`npm run build\` to run what the source says`);
let main;
try {
  ({ main } = require(cli));
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(cli)) {
    console.error(`patchlens: ${cli} is not built; run \`npm run build\` in the checkout first`);
    process.exit(1);
  }
  throw err;
}
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
