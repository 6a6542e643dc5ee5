// Compute Rollout Copying: a greedy rollout from the middle row of a seeded
// sample of a dataset's images, in the engine worker with progress and cancel;
// the result goes to the Index view.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatCount, formatMean, formatPercent } from '../../core/format';
import type { QueryDeps } from './queryCommands';
import { pickBuiltDataset } from './pickBuilt';
import { engineTask } from './engineTask';

export async function computeRolloutStatistic(d: QueryDeps, arg?: unknown): Promise<void> {
  const info = await pickBuiltDataset(d.s, d.state, 'Compute Rollout Copying', typeof arg === 'string' ? arg : undefined);
  if (!info?.summary) return;
  if (info.summary.images < 2) {
    void vscode.window.showWarningMessage('Patch Lens: the rollout statistic needs at least two indexed images (each rollout retrieves from the others).');
    return;
  }
  if (info.summary.keys.shape !== 'causal') {
    void vscode.window.showWarningMessage(
      `Patch Lens: a rollout needs causal keys; this database has ${info.summary.keys.shape} keys, and ring keys need tokens not generated yet.`,
    );
    return;
  }
  const n = info.summary.images;
  const fractions = [0.1, 0.05, 0.25, 1];
  const pickedF = await vscode.window.showQuickPick(
    fractions.map((f, i) => ({
      label: `${formatPercent(f)} of the images`,
      description: `${formatCount(Math.max(1, Math.round(n * f)))} of ${formatCount(n)}${i === 0 ? ' · recommended' : ''}`,
      f,
    })),
    { title: 'Compute Rollout Copying', placeHolder: 'Each sampled image is generated from its middle row by the other images (greedy, k=64, seed 0)' },
  );
  if (!pickedF) return;
  const name = path.basename(info.root);
  try {
    const st = await engineTask(
      d.s.engine,
      `Patch Lens: rolling out ${name}`,
      'stats',
      { dbDir: info.dbDir, rollout: { fraction: pickedF.f, seed: 0, k: 64 } },
      (done, total) => `${formatCount(done)} of ${formatCount(total)} images`,
    );
    const r = st.rollout!;
    await d.state.setRolloutStatistic(info.dbDir, { ...r, fraction: pickedF.f, generation: st.generation, computedAt: new Date().toISOString() });
    d.s.log.info(
      `Rollout copying of ${info.root}: mean agreement ${formatPercent(r.meanAgreement)}, mean top-source share ${formatPercent(r.meanTopSourceShare)}, mean longest copied run ${formatMean(r.meanLongestCopiedRun)} cells over ${formatCount(r.images)} images (k=${r.k}, seed ${r.seed}); most copying: ${r.mostCopying
        .slice(0, 5)
        .map((c) => `${c.image} (${formatCount(c.longestCopiedRun.cells)} cells from ${c.longestCopiedRun.image ?? '-'})`)
        .join(', ')}`,
    );
    const c = await vscode.window.showInformationMessage(
      `Patch Lens: ${name}: rolled out from the middle row, ${formatCount(r.images)} images reproduce ${formatPercent(r.meanAgreement)} of their tokens; ${formatPercent(r.meanTopSourceShare)} of each rollout comes from its top source on average.`,
      'Show Index',
    );
    if (c) await vscode.commands.executeCommand('patchlens.index.focus');
  } catch (e) {
    if ((e as Error).name === 'RolloutCancelledError') return;
    void vscode.window.showErrorMessage(`Patch Lens: rollout copying of ${name} failed: ${(e as Error).message}`);
  }
}
