// Commands that build, rebuild and cancel: pick a dataset (or browse for a folder).

import * as vscode from 'vscode';
import type { Services } from './services';

/** Asks which dataset to act on; a single dataset is taken without asking. */
export async function pickDataset(s: Services, title: string, allowBrowse = true): Promise<string | undefined> {
  const list = s.datasets.list();
  // One dataset: nothing to choose (another folder is one Add Dataset Folder… away).
  if (list.length === 1) return list[0].root;
  const items: (vscode.QuickPickItem & { root?: string })[] = list.map((d) => ({ label: d.name, description: d.root, root: d.root }));
  if (allowBrowse) items.push({ label: '$(folder-opened) Browse…', description: 'Choose another folder of images' });
  if (items.length === 1 && items[0].root) return items[0].root;
  const picked = await vscode.window.showQuickPick(items, { title, placeHolder: 'Dataset folder' });
  if (!picked) return undefined;
  if (picked.root) return picked.root;
  const uris = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Use as Dataset' });
  if (!uris?.[0]) return undefined;
  return (await s.datasets.add(uris[0].fsPath)).root;
}

/** A dataset root from a command argument (tree item, URI or path), if any. */
export function rootFromArg(arg: unknown): string | undefined {
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (typeof arg === 'string') return arg;
  if (arg && typeof arg === 'object' && 'root' in arg && typeof (arg as { root: unknown }).root === 'string') return (arg as { root: string }).root;
  return undefined;
}

export function registerBuildCommands(s: Services): vscode.Disposable[] {
  const build = async (arg: unknown, rebuild: boolean) => {
    const root = rootFromArg(arg) ?? (await pickDataset(s, rebuild ? 'Rebuild Patch Database' : 'Build or Update Patch Database'));
    if (!root) return undefined;
    if (!s.datasets.list().some((d) => d.root === root)) await s.datasets.add(root);
    return s.builds.build(root, { rebuild });
  };
  return [
    vscode.commands.registerCommand('patchlens.buildDatabase', (arg?: unknown) => build(arg, false)),
    vscode.commands.registerCommand('patchlens.rebuildDatabase', (arg?: unknown) => build(arg, true)),
    vscode.commands.registerCommand('patchlens.cancelBuild', (arg?: unknown) => {
      if (!s.builds.cancel(rootFromArg(arg))) void vscode.window.showInformationMessage('Patch Lens: no build is running.');
    }),
    vscode.commands.registerCommand('patchlens.showLog', () => s.log.show()),
  ];
}
