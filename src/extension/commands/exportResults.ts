// Export: the inspector's buttons and "Patch Lens: Export Results…" save a
// table (retrieved patches, DAiD distribution, codebook usage, retrieval
// predictability) as CSV or JSON where the user chooses, through
// vscode.workspace.fs (so remote and virtual workspaces work too).

import * as path from 'node:path';
import * as vscode from 'vscode';
import { codebookTable, metricsTable, type ExportTable } from '../../core/exportTable';
import { formatCount } from '../../core/format';
import type { Services } from '../services';
import { exportFileName, saveTable, type ChooseSaveTarget } from '../saveTable';
import { pickBuiltDataset } from './pickBuilt';
import type { QueryDeps } from './queryCommands';

/** An export the active inspector offers (its last query's tables), from `patchlens.inspector.exportTables`. */
export interface OfferedExport {
  readonly label: string;
  readonly table: ExportTable;
  readonly defaultName: string;
}

/** VS Code's save dialog, opening in the first workspace folder, with CSV and JSON filters. */
export function saveDialog(title: string): ChooseSaveTarget {
  return async (defaultName) => {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const uri = await vscode.window.showSaveDialog({
      title,
      saveLabel: 'Export',
      defaultUri: folder ? vscode.Uri.joinPath(folder, defaultName) : undefined,
      filters: { CSV: ['csv'], JSON: ['json'] },
    });
    return uri && { file: uri.scheme === 'file' ? uri.fsPath : uri.toString(), write: (bytes: Uint8Array) => vscode.workspace.fs.writeFile(uri, bytes) };
  };
}

/** Saves a table through the save dialog and says where it went (or why it failed). */
export async function saveWithDialog(s: Pick<Services, 'log'>, table: ExportTable, defaultName: string): Promise<void> {
  try {
    const saved = await saveTable(table, defaultName, saveDialog(`Export ${KIND_LABELS[table.kind]}`));
    if (!saved) return;
    s.log.info(`Exported ${formatCount(saved.rows)} ${KIND_LABELS[table.kind]} rows as ${saved.format.toUpperCase()} to ${saved.file}`);
    const open = await vscode.window.showInformationMessage(`Patch Lens: exported ${formatCount(saved.rows)} rows to ${path.basename(saved.file)}.`, 'Open');
    if (open) await vscode.commands.executeCommand('vscode.open', saved.file.includes('://') ? vscode.Uri.parse(saved.file) : vscode.Uri.file(saved.file));
  } catch (e) {
    s.log.error(`Export of ${KIND_LABELS[table.kind]} failed: ${(e as Error).message}`);
    void vscode.window.showErrorMessage(`Patch Lens: the export failed: ${(e as Error).message}`);
  }
}

const KIND_LABELS: Readonly<Record<ExportTable['kind'], string>> = {
  retrieved: 'retrieved patches',
  daid: 'DAiD distribution',
  codebook: 'codebook usage',
  predictability: 'retrieval predictability',
};

/** "Export Results…": the active inspector's last query, or a built dataset's codebook usage or predictability. */
export async function exportResults(d: QueryDeps): Promise<void> {
  type Item = vscode.QuickPickItem & { offered?: OfferedExport; dataset?: 'codebook' | 'predictability' };
  const offered = (await vscode.commands.executeCommand<OfferedExport[] | undefined>('patchlens.inspector.exportTables')) ?? [];
  const items: Item[] = [];
  if (offered.length) items.push({ label: 'Active inspector', kind: vscode.QuickPickItemKind.Separator });
  for (const o of offered) items.push({ label: `$(list-ordered) ${o.label}`, description: `${formatCount(o.table.rows.length)} rows`, offered: o });
  items.push({ label: 'Dataset', kind: vscode.QuickPickItemKind.Separator });
  items.push({ label: '$(symbol-color) Codebook usage…', description: 'uses of every code in a built dataset', dataset: 'codebook' });
  items.push({ label: '$(beaker) Retrieval predictability…', description: 'the last computed result of a built dataset', dataset: 'predictability' });
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Export Results',
    placeHolder: offered.length ? 'What to save as CSV or JSON' : 'What to save as CSV or JSON (select a patch in an inspector to export its query)',
  });
  if (!picked) return;
  if (picked.offered) return saveWithDialog(d.s, picked.offered.table, picked.offered.defaultName);
  const info = await pickBuiltDataset(d.s, d.state, 'Export Results', undefined);
  if (!info?.summary) return;
  const name = path.basename(info.root);
  const about = { dataset: name, model: info.summary.model.name, images: info.summary.images, generation: info.summary.generation };
  if (picked.dataset === 'codebook') {
    const cb = await d.s.engine.request('codebook', { dbDir: info.dbDir }, { timeoutMs: 5 * 60_000 });
    return saveWithDialog(d.s, codebookTable({ ...about, codebookSize: cb.codebookSize }, cb.counts), exportFileName('codebook', name));
  }
  const p = d.state.predictability(info.dbDir, info.summary.generation);
  if (!p) {
    const c = await vscode.window.showInformationMessage(
      `Patch Lens: ${name} has no retrieval predictability for its current database yet.`,
      'Compute Retrieval Predictability',
    );
    if (c) await vscode.commands.executeCommand('patchlens.computePredictability', info.root);
    return;
  }
  return saveWithDialog(d.s, metricsTable('predictability', about, { ...p }), exportFileName('predictability', name));
}
