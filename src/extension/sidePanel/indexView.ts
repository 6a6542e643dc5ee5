// The Index view: per dataset, the state of its patch database (rows from
// indexTreeModel), with build / rebuild / cancel on the dataset and in the
// view's title bar, and the Restricted Mode notice when the workspace's model
// setting is ignored.

import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { Services } from '../services';
import { readSettings, resolveModel } from '../settings';
import { indexDatasetDescription, indexRows, trustRow, type IndexRow } from './indexTreeModel';
import type { PanelState } from './panelState';

type IndexNode = { readonly kind: 'dataset'; readonly root: string; readonly name: string } | { readonly kind: 'row'; readonly row: IndexRow };

export class IndexView implements vscode.TreeDataProvider<IndexNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<IndexNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subs: vscode.Disposable[] = [];
  readonly view: vscode.TreeView<IndexNode>;

  constructor(
    private readonly s: Services,
    private readonly state: PanelState,
  ) {
    this.view = vscode.window.createTreeView('patchlens.index', { treeDataProvider: this });
    this.subs.push(
      this.changed,
      this.view,
      state.onDidChange(() => this.changed.fire(undefined)),
    );
  }

  getTreeItem(node: IndexNode): vscode.TreeItem | Promise<vscode.TreeItem> {
    if (node.kind === 'row') return rowItem(node.row);
    return this.datasetItem(node);
  }

  private async datasetItem(node: IndexNode & { kind: 'dataset' }): Promise<vscode.TreeItem> {
    const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.Expanded);
    item.id = `index:${node.root}`;
    const building = this.s.builds.isBuilding(node.root);
    const info = await this.state.info(node.root).catch(() => undefined);
    item.description = indexDatasetDescription(info?.summary ?? null, building, info?.error);
    item.tooltip = node.root;
    item.iconPath = new vscode.ThemeIcon(building ? 'sync~spin' : info?.summary ? 'database' : 'root-folder');
    item.contextValue = ['indexDataset', info?.summary ? 'built' : '', building ? 'building' : ''].filter(Boolean).join('.');
    return item;
  }

  async getChildren(node?: IndexNode): Promise<IndexNode[]> {
    if (!node) {
      const list = this.s.datasets.list();
      const out: IndexNode[] = [];
      const trust = trustRow(resolveModel(list[0] ? vscode.Uri.file(list[0].root) : undefined));
      if (trust) out.push({ kind: 'row', row: trust });
      for (const d of list) out.push({ kind: 'dataset', root: d.root, name: d.name });
      return out;
    }
    if (node.kind === 'row') return (node.row.children ?? []).map((row) => ({ kind: 'row', row }));
    const scope = vscode.Uri.file(node.root);
    const settings = readSettings(scope);
    const info = await this.state.info(node.root).catch((e: Error) => ({ summary: null, error: e.message, counts: undefined, dbDir: '' }));
    const progress = this.s.builds.progressOf(node.root);
    const named = this.s.datasets.databaseSetting(node.root);
    const rows = indexRows({
      root: node.root,
      ...(named.choice ? { database: named.choice } : {}),
      ...(named.ignored ? { ignoredDatabase: named.ignored } : {}),
      summary: info.summary,
      error: info.error,
      pending: info.counts ? { new: info.counts.new, changed: info.counts.changed } : undefined,
      building: progress,
      predictability: info.summary ? this.state.predictability(info.dbDir, info.summary.generation) : undefined,
      rollout: info.summary ? this.state.rolloutStatistic(info.dbDir, info.summary.generation) : undefined,
      fidelity: info.summary ? this.state.fidelity(info.dbDir, info.summary.generation) : undefined,
      settings: { model: withName(resolveModel(scope)), keys: settings.keys, hnsw: settings.hnsw },
      now: Date.now(),
    });
    return rows.map((row) => ({ kind: 'row', row }));
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}

/** The model choice with the name its manifest gives (a small JSON file). */
function withName<T extends { manifestPath: string }>(m: T): T & { name?: string } {
  try {
    const name = (JSON.parse(fs.readFileSync(m.manifestPath, 'utf8')) as { name?: unknown }).name;
    return typeof name === 'string' && name ? { ...m, name } : m;
  } catch {
    return m;
  }
}

function rowItem(r: IndexRow): vscode.TreeItem {
  const item = new vscode.TreeItem(r.label, r.children?.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
  item.id = `indexrow:${r.id}`;
  item.description = r.description;
  item.tooltip = r.tooltip;
  item.iconPath = new vscode.ThemeIcon(r.icon, r.color ? new vscode.ThemeColor(r.color) : undefined);
  if (r.command) item.command = { command: r.command.command, title: r.command.title, arguments: r.command.args ? [...r.command.args] : undefined };
  item.contextValue = 'indexRow';
  item.accessibilityInformation = { label: r.description ? `${r.label}: ${r.description}` : r.label };
  return item;
}
