#!/usr/bin/env node
// The `patchlens` command: the bundled CLI (run `npm run build` first in a checkout).
const path = require('node:path');
const cli = path.join(__dirname, '..', 'dist', 'cli.js');
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
