// `npm test` after typecheck and build: every suite in one run of node's test
// runner (unit, faults, webview in Chromium, end to end in code-server).
// Pass suite names to run a subset: `node scripts/test.mjs unit faults`.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const suites = ['unit', 'faults', 'webview', 'e2e'];
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const files = [];
for (const suite of wanted.length ? wanted : suites) {
  const dir = path.join(root, 'test', suite);
  if (!fs.existsSync(dir)) continue;
  for (const f of fs.readdirSync(dir, { recursive: true })) {
    if (String(f).endsWith('.test.ts')) files.push(path.join('test', suite, String(f)));
  }
}
files.sort();
const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
});
process.exit(res.status ?? 1);
