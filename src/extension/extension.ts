import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Patch Lens', { log: true });
  context.subscriptions.push(output);
  output.info(`Patch Lens ${context.extension.packageJSON.version} activated`);
  // Load the native modules once so a broken install shows at activation, not on first use.
  try {
    const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
    const sharp = require('sharp') as typeof import('sharp');
    const hnsw = require('hnswlib-node') as typeof import('hnswlib-node');
    new hnsw.HierarchicalNSW('l2', 2).initIndex(1);
    output.info(`Native modules loaded: onnxruntime-node ${ort.env.versions.node}, sharp ${sharp.versions.sharp}, hnswlib-node ok`);
  } catch (err) {
    output.error(`Native modules failed to load: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function deactivate(): void {}
