// Where the tests' Chromium is and how it is started (shared/recipes/vscode-e2e.md).

import * as path from 'node:path';

export const CHROMIUM = process.env.PATCHLENS_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const repoRoot = path.resolve(__dirname, '..', '..');
