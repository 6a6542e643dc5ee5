// Activation: create the shared services and register each part of the UI.

import * as vscode from 'vscode';
import { EngineClient } from '../engine/engineClient';
import { BuildManager } from './buildManager';
import { registerBuildCommands } from './buildCommands';
import { registerInspector } from './inspector/registerInspector';
import { DatasetRegistry } from './datasets';
import { registerSidePanel } from './sidePanel/sidePanel';
import { registerArchiveFileSystem } from './archiveFileSystem';
import type { Services } from './services';
import { SkippedFiles } from './skippedFiles';
import { StorageConnections, registerStorageCommands } from './storageConnections';

let services: Services | undefined;

export function activate(context: vscode.ExtensionContext): Services {
  const log = vscode.window.createOutputChannel('Patch Lens', { log: true });
  const engine = new EngineClient();
  const datasets = new DatasetRegistry(context, log);
  const skippedFiles = new SkippedFiles();
  const builds = new BuildManager(engine, datasets, log, skippedFiles);
  const connections = new StorageConnections(context, engine, datasets, log);
  services = { context, log, engine, datasets, builds, skippedFiles, connections };
  context.subscriptions.push(log, datasets, builds, skippedFiles, connections, { dispose: () => void engine.dispose() });
  context.subscriptions.push(...registerStorageCommands(connections));
  context.subscriptions.push(registerArchiveFileSystem(engine));
  context.subscriptions.push(...registerBuildCommands(services));
  context.subscriptions.push(...registerInspector(services));
  context.subscriptions.push(...registerSidePanel(services));
  log.info(`Patch Lens ${context.extension.packageJSON.version} activated`);
  // The native modules load in the engine worker; a broken install shows here, not on first use.
  engine.request('ping', {}, { timeoutMs: 60_000 }).then(
    (v) => log.info(`Native modules loaded: onnxruntime-node ${v.onnxruntime}, sharp ${v.sharp}, hnswlib-node ok`),
    (err: Error) => log.error(`Native modules failed to load: ${err.message}`),
  );
  return services;
}

export function deactivate(): Promise<void> | undefined {
  return services?.engine.dispose();
}
