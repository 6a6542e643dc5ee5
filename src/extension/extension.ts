import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Patch Lens', { log: true });
  context.subscriptions.push(output);
  output.info('Patch Lens activated');
}

export function deactivate(): void {}
