#!/usr/bin/env node
// The `patchlens` command: the bundled CLI (run `npm run build` first in a checkout).
require('../dist/cli.js');
