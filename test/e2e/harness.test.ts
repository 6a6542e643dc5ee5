// Checks of the e2e support itself (test/support/vscode.ts) with VS Code's own
// features, so the helpers other tests rely on are known to work: palette
// commands, reaching a webview's document, opening a folder untrusted.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { launchVSCode } from '../support/vscode';

test('harness: runCommand and webview() reach the document of a webview (Markdown preview)', { timeout: 5 * 60_000 }, async (t) => {
  const vs = await launchVSCode({ name: t.name, files: { 'README.md': '# Hello from the harness\n\nA paragraph.\n' } });
  try {
    await vs.openFile('README.md');
    await vs.runCommand('Markdown: Open Preview');
    const heading = vs.webview().locator('h1');
    await heading.waitFor();
    assert.equal((await heading.innerText()).trim(), 'Hello from the harness');
    // The same document, picked by the extension that owns the webview.
    const byOwner = vs.webview({ extensionId: 'vscode.markdown-language-features', index: 0 }).locator('h1');
    assert.equal((await byOwner.innerText()).trim(), 'Hello from the harness');
    await vs.screenshot('markdown-preview');
  } finally {
    await vs.close();
  }
});

test('harness: trusted: false opens the folder in Restricted Mode', { timeout: 5 * 60_000 }, async (t) => {
  const vs = await launchVSCode({ name: t.name, trusted: false, files: { 'notes.txt': 'x\n' } });
  try {
    await vs.page.locator('.part.statusbar').getByText('Restricted Mode').waitFor();
    await vs.explorerItem('notes.txt');
    await vs.screenshot('restricted-mode');
  } finally {
    await vs.close();
  }
});
