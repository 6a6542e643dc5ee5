// The Patch Lens side panel: the Datasets, Codebook and Index views, their
// shared state, and the palette commands that query databases.

import * as vscode from 'vscode';
import type { Services } from '../services';
import { registerDatasetCommands } from '../commands/datasetCommands';
import { computePredictability, findImagesUsingToken, findSimilarPatches, goToPatch, showCodebookStats, type QueryDeps } from '../commands/queryCommands';
import { registerSelectModel } from '../commands/selectModel';
import { computeRolloutStatistic } from '../commands/rolloutStatistic';
import { computeFidelity } from '../commands/fidelityCommand';
import { exportResults } from '../commands/exportResults';
import { CodebookView } from './codebookView';
import { DuplicatesView } from './duplicatesView';
import { findDuplicates, findLeaksAgainst } from '../commands/duplicateCommands';
import { DatasetsView } from './datasetsView';
import { IndexView } from './indexView';
import { PanelState } from './panelState';

export function registerSidePanel(s: Services): vscode.Disposable[] {
  const state = new PanelState(s);
  const datasetsView = new DatasetsView(s, state);
  const indexView = new IndexView(s, state);
  const codebook = new CodebookView(s, state);
  const duplicates = new DuplicatesView(s, state);
  const d: QueryDeps = { s, state, codebook, datasetsView };
  const report =
    (what: string, fn: (...args: unknown[]) => Promise<void>) =>
    async (...args: unknown[]) => {
      try {
        await fn(...args);
      } catch (e) {
        s.log.error(`${what} failed: ${(e as Error).message}`);
        void vscode.window.showErrorMessage(`Patch Lens: ${what} failed: ${(e as Error).message}`);
      }
    };
  return [
    state,
    datasetsView,
    indexView,
    codebook,
    duplicates,
    // The Codebook view follows the dataset selected in the Datasets view.
    datasetsView.view.onDidChangeSelection((e) => {
      const n = e.selection[0];
      if (n) void codebook.select(n.root);
    }),
    ...registerDatasetCommands(d),
    registerSelectModel(s),
    vscode.commands.registerCommand(
      'patchlens.findImagesUsingToken',
      report('Find Images Using Token', (arg) => findImagesUsingToken(d, arg)),
    ),
    vscode.commands.registerCommand(
      'patchlens.findSimilarPatches',
      report('Find Similar Patches', (uri, pos) => findSimilarPatches(d, uri, pos)),
    ),
    vscode.commands.registerCommand(
      'patchlens.showCodebookStats',
      report('Show Codebook Statistics', (arg) => showCodebookStats(d, arg)),
    ),
    vscode.commands.registerCommand(
      'patchlens.computePredictability',
      report('Compute Retrieval Predictability', (arg) => computePredictability(d, arg)),
    ),
    vscode.commands.registerCommand(
      'patchlens.computeRolloutStatistic',
      report('Compute Rollout Copying', (arg) => computeRolloutStatistic(d, arg)),
    ),
    vscode.commands.registerCommand(
      'patchlens.computeFidelity',
      report('Measure Index Fidelity', (arg) => computeFidelity(d, arg)),
    ),
    vscode.commands.registerCommand(
      'patchlens.findDuplicates',
      report('Find Duplicates', (arg, opts) => findDuplicates(s, state, duplicates, arg, opts)),
    ),
    vscode.commands.registerCommand(
      'patchlens.findLeaksAgainst',
      report('Find Leaks Against', (arg, opts) => findLeaksAgainst(s, state, duplicates, arg, opts)),
    ),
    vscode.commands.registerCommand('patchlens.cancelDuplicates', () => duplicates.cancel()),
    vscode.commands.registerCommand(
      'patchlens.duplicates.openPair',
      report('Open Duplicate Pair', (searchId, rank) => duplicates.openKeptPair(searchId, rank)),
    ),
    vscode.commands.registerCommand(
      'patchlens.exportResults',
      report('Export Results', () => exportResults(d)),
    ),
    vscode.commands.registerCommand(
      'patchlens.goToPatch',
      report('Go to Patch', (arg) => goToPatch(d, arg)),
    ),
  ];
}
