// Finding duplicates and leaks from the command palette, the Datasets view
// and the Duplicates view: "Find Duplicates" searches one dataset's database,
// "Find Leaks Against…" pairs its images with another database's (another
// dataset of the side panel, or a database or dataset folder picked on disk).

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DATABASE_FOLDER, MANIFEST_FILE } from '../../core/vocabulary';
import type { Services } from '../services';
import type { PanelState } from '../sidePanel/panelState';
import type { DuplicatesView, LeakTarget } from '../sidePanel/duplicatesView';
import { pickBuiltDataset } from './pickBuilt';

export interface SearchOptions {
  readonly window?: number;
  readonly near?: number;
}

/** The dataset root a command was given: a tree item ({ root }), a string, or nothing. */
function rootOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  const r = (arg as { root?: unknown } | undefined)?.root;
  return typeof r === 'string' ? r : undefined;
}

function optionsOf(arg: unknown): SearchOptions {
  const o = arg as { window?: unknown; near?: unknown } | undefined;
  return {
    window: Number.isInteger(o?.window) ? (o!.window as number) : undefined,
    near: typeof o?.near === 'number' && Number.isFinite(o.near) ? o.near : undefined,
  };
}

export async function findDuplicates(s: Services, state: PanelState, view: DuplicatesView, arg: unknown, opts: unknown): Promise<void> {
  const info = await pickBuiltDataset(s, state, 'Find Duplicates', rootOf(arg));
  if (!info) return;
  const o = optionsOf(opts);
  await view.find(info.root, undefined, o.window, o.near);
}

/** A database folder, or a dataset folder holding one, as a leak target (undefined, with a message, when it is neither). */
async function targetFromFolder(s: Services, folder: string): Promise<LeakTarget | undefined> {
  for (const dbDir of [folder, path.join(folder, DATABASE_FOLDER)]) {
    if (!fs.existsSync(path.join(dbDir, MANIFEST_FILE))) continue;
    const summary = await s.engine.request('summary', { dbDir });
    if (summary) return { dbDir, root: summary.root, name: path.basename(summary.root) };
  }
  void vscode.window.showErrorMessage(`Patch Lens: ${folder} is neither a patch database nor a dataset folder with one.`);
  return undefined;
}

export async function findLeaksAgainst(s: Services, state: PanelState, view: DuplicatesView, arg: unknown, opts: unknown): Promise<void> {
  const title = 'Find Leaks Against…';
  const from = await pickBuiltDataset(s, state, `${title}: the dataset to check (e.g. a test set)`, rootOf(arg));
  if (!from?.summary) return;
  const others = (
    await Promise.all(
      s.datasets
        .list()
        .filter((d) => d.root !== from.root)
        .map((d) => state.info(d.root).catch(() => undefined)),
    )
  ).filter((i) => i?.summary);
  type Item = vscode.QuickPickItem & { target?: LeakTarget; browse?: boolean };
  const items: Item[] = [
    ...others.map((i) => ({
      label: path.basename(i!.root),
      description: `${i!.summary!.images} images · ${i!.summary!.model.name}`,
      detail: i!.root,
      target: { dbDir: i!.dbDir, root: i!.summary!.root, name: path.basename(i!.root) },
    })),
    { label: '$(folder-opened) Browse for a Database or Dataset Folder…', browse: true },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title,
    placeHolder: `The database ${path.basename(from.root)} may leak into (e.g. a training set)`,
  });
  if (!picked) return;
  let target = picked.target;
  if (picked.browse) {
    const folder = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      canSelectMany: false,
      title,
      openLabel: 'Compare With',
    });
    if (!folder?.[0]) return;
    target = await targetFromFolder(s, folder[0].fsPath);
  }
  if (!target) return;
  if (path.resolve(target.dbDir) === path.resolve(from.dbDir)) {
    void vscode.window.showErrorMessage('Patch Lens: that is the same database; pick another one.');
    return;
  }
  const o = optionsOf(opts);
  await view.find(from.root, target, o.window, o.near);
}
