// Choosing the dataset a query runs on: one with a patch database.

import * as vscode from 'vscode';
import type { Services } from '../services';
import type { DatasetInfo, PanelState } from '../sidePanel/panelState';

/**
 * The dataset to query: `preferred` when given, the only one with a database,
 * or the user's pick; offers to build when none has a database yet.
 */
export async function pickBuiltDataset(s: Services, state: PanelState, title: string, preferred?: string): Promise<DatasetInfo | undefined> {
  const list = s.datasets.list();
  if (preferred) {
    const info = await state.info(preferred).catch(() => undefined);
    if (info?.summary) return info;
    if (info) {
      await offerBuild(preferred, `${title}: ${nameOf(s, preferred)} has no patch database yet.`);
      return undefined;
    }
  }
  const infos = (await Promise.all(list.map((d) => state.info(d.root).catch(() => undefined)))).filter((i): i is DatasetInfo => !!i?.summary);
  if (infos.length === 0) {
    await offerBuild(undefined, list.length ? `${title}: no dataset has a patch database yet.` : `${title}: open a folder of images first.`);
    return undefined;
  }
  if (infos.length === 1) return infos[0];
  const picked = await vscode.window.showQuickPick(
    infos.map((i) => ({ label: nameOf(s, i.root), description: `${i.summary!.images} images · ${i.summary!.model.name}`, detail: i.root, info: i })),
    { title, placeHolder: 'Dataset' },
  );
  return picked?.info;
}

function nameOf(s: Services, root: string): string {
  return s.datasets.list().find((d) => d.root === root)?.name ?? root;
}

async function offerBuild(root: string | undefined, message: string): Promise<void> {
  const c = await vscode.window.showInformationMessage(`Patch Lens: ${message}`, 'Build Patch Database');
  if (c) void vscode.commands.executeCommand('patchlens.buildDatabase', root);
}
