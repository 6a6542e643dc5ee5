// Runs inside VS Code's extension host (Electron), launched by scripts/test-electron.mjs.
// Mocha-free: VS Code calls run() and treats a rejection as a failed run.
const assert = require('node:assert/strict');
const vscode = require('vscode');

const checks = [];
const check = (name, fn) => checks.push({ name, fn });

check('the extension is installed and activates', async () => {
  const ext = vscode.extensions.getExtension('patchlens.patch-lens');
  assert.ok(ext, 'patchlens.patch-lens is not among the extensions');
  await ext.activate();
  assert.equal(ext.isActive, true);
});

check('every contributed command is registered after activation', async () => {
  const ext = vscode.extensions.getExtension('patchlens.patch-lens');
  const contributed = (ext.packageJSON.contributes?.commands ?? []).map((c) => c.command);
  assert.ok(contributed.includes('patchlens.inspectPatches'), 'Inspect Patches is not contributed');
  const registered = new Set(await vscode.commands.getCommands(true));
  const missing = contributed.filter((c) => !registered.has(c));
  assert.deepEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
});

exports.run = async function run() {
  let failed = 0;
  for (const { name, fn } of checks) {
    try {
      await fn();
      console.log(`ok - ${name}`);
    } catch (err) {
      failed++;
      console.error(`not ok - ${name}\n${err && err.stack ? err.stack : err}`);
    }
  }
  if (failed) throw new Error(`${failed} of ${checks.length} checks failed`);
};
