// `npm run test:electron`: the extension in desktop VS Code (Electron) through
// @vscode/test-electron, for contributors with a network. It DOWNLOADS VS Code
// (into .cache/vscode-test/) on first use, which is why `npm test` drives
// code-server instead (test/e2e, offline). On a headless Linux box run it under
// a display: `xvfb-run -a npm run test:electron`. VSCODE_TEST_VERSION picks the
// VS Code version (default: the lowest one package.json's engines allows).
import { runTests } from '@vscode/test-electron';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const version = process.env.VSCODE_TEST_VERSION ?? pkg.engines.vscode.replace(/^[\^~>=]+/, '');

const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-electron-'));
const workspace = path.join(tmp, 'workspace');
fs.mkdirSync(workspace);
fs.writeFileSync(path.join(workspace, 'notes.txt'), 'Patch Lens test workspace\n');
try {
  await runTests({
    version,
    cachePath: path.join(root, '.cache', 'vscode-test'),
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(root, 'test', 'electron', 'index.cjs'),
    launchArgs: [
      workspace,
      '--disable-workspace-trust',
      '--skip-welcome',
      '--skip-release-notes',
      `--user-data-dir=${path.join(tmp, 'ud')}`,
      `--extensions-dir=${path.join(tmp, 'ext')}`,
    ],
  });
} catch (err) {
  const offline = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|getaddrinfo/.test(String(err?.stack ?? err));
  console.error(`test:electron failed: ${err instanceof Error ? err.message : err}`);
  if (offline) console.error('It downloads VS Code from update.code.visualstudio.com; offline, use `npm test` (code-server e2e) instead.');
  process.exitCode = 1;
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
