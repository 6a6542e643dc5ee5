// What every part of the extension shares: the log, the engine worker, the
// datasets and the build manager. Created once at activation.

import type * as vscode from 'vscode';
import type { EngineClient } from '../engine/engineClient';
import type { BuildManager } from './buildManager';
import type { DatasetRegistry } from './datasets';
import type { SkippedFiles } from './skippedFiles';
import type { StorageConnections } from './storageConnections';

export interface Services {
  readonly context: vscode.ExtensionContext;
  readonly log: vscode.LogOutputChannel;
  readonly engine: EngineClient;
  readonly datasets: DatasetRegistry;
  readonly builds: BuildManager;
  /** Skipped files in the Problems panel. */
  readonly skippedFiles: SkippedFiles;
  /** Storage options and dataset folders of the databases patchlens.databases names, handed to the engine. */
  readonly connections: StorageConnections;
}
