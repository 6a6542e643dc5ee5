#!/usr/bin/env node
// The `patchlens` command: the bundled CLI (run `npm run build` first in a checkout).
const { main } = require('../dist/cli.js');
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
