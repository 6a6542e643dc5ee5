// Measure Index Fidelity: recall of the database's index against exact search
// on its own keys, the curve over its search knob, and AR-RAG's OPQ+IVF+PQ8
// database built over the same keys, in the engine worker with progress and
// cancel; the result goes to the Index view.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { arragLoss, knobText, type FidelityPhase } from '../../engine/fidelity';
import { formatCount, formatDuration, formatPercent } from '../../core/format';
import type { QueryDeps } from './queryCommands';
import { pickBuiltDataset } from './pickBuilt';
import { engineTask } from './engineTask';

const PHASES: Record<FidelityPhase, string> = {
  exact: 'exact search (the reference)',
  sweep: "the index's curve",
  opq: "AR-RAG's index: learning the OPQ rotation",
  coarse: "AR-RAG's index: the IVF lists",
  pq: "AR-RAG's index: the 8-bit codebooks",
  add: "AR-RAG's index: coding every key",
  arrag: "searching AR-RAG's index",
};

export async function computeFidelity(d: QueryDeps, arg?: unknown): Promise<void> {
  const info = await pickBuiltDataset(d.s, d.state, 'Measure Index Fidelity', typeof arg === 'string' ? arg : undefined);
  if (!info?.summary) return;
  if (info.summary.images < 2) {
    void vscode.window.showWarningMessage('Patch Lens: index fidelity needs at least two indexed images (a query never retrieves from its own image).');
    return;
  }
  const name = path.basename(info.root);
  const started = Date.now();
  try {
    const r = await engineTask(
      d.s.engine,
      `Patch Lens: measuring the index of ${name}`,
      'fidelity',
      { dbDir: info.dbDir },
      (done, total, phase) => `${PHASES[phase as FidelityPhase] ?? phase ?? ''} ${done}/${total}`,
    );
    await d.state.setFidelity(info.dbDir, { ...r, generation: info.summary.generation, computedAt: new Date().toISOString() });
    d.s.log.info(
      `Index fidelity of ${info.root}: recall@${r.k} ${formatPercent(r.current.recall)} at ${knobText(r.current.params, r.sweep)} (median ${r.current.p50Ms.toFixed(3)} ms) over ${formatCount(r.queries)} queries; curve ${r.sweep.map((p) => `${knobText(p.params, r.sweep)}: ${formatPercent(p.recall)}`).join(', ')}; AR-RAG ${r.arrag.params.factory} nprobe ${r.arrag.params.nprobe}: ${formatPercent(r.arrag.recall)} (${formatDuration(Date.now() - started)})`,
    );
    const c = await vscode.window.showInformationMessage(
      `Patch Lens: ${name}: the index finds ${formatPercent(r.current.recall)} of the true ${r.k} nearest patches. ${arragLoss(r)}`,
      'Show Index',
    );
    if (c) await vscode.commands.executeCommand('patchlens.index.focus');
  } catch (e) {
    if ((e as Error).name === 'FidelityCancelledError') return;
    void vscode.window.showErrorMessage(`Patch Lens: index fidelity of ${name} failed: ${(e as Error).message}`);
  }
}
