// The Datasets view: dataset roots (workspace folders and added folders) ->
// folders -> images, each image with its token grid size and status.

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Dataset } from '../datasets';
import type { Services } from '../services';
import { formatCount } from '../../core/format';
import {
  MAX_CHILDREN,
  baseName,
  datasetDescription,
  folderDescription,
  folderTree,
  imageDescription,
  imageTooltip,
  statusIcon,
  type FolderNode,
  type ImageEntry,
} from './datasetTreeModel';
import type { DatasetInfo, PanelState } from './panelState';

export type DatasetsNode =
  | { readonly kind: 'dataset'; readonly root: string; dataset: Dataset }
  | { readonly kind: 'folder'; readonly root: string; readonly folder: FolderNode; readonly parent: DatasetsNode }
  | { readonly kind: 'image'; readonly root: string; readonly entry: ImageEntry; readonly parent: DatasetsNode }
  | { readonly kind: 'more'; readonly root: string; readonly text: string; readonly parent: DatasetsNode };

export class DatasetsView implements vscode.TreeDataProvider<DatasetsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<DatasetsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** Node objects are kept per key: the tree matches elements by identity. */
  private readonly datasetNodes = new Map<string, DatasetsNode & { kind: 'dataset' }>();
  private readonly children = new Map<string, DatasetsNode[]>();
  private readonly trees = new WeakMap<DatasetInfo, FolderNode>();
  private readonly subs: vscode.Disposable[] = [];
  readonly view: vscode.TreeView<DatasetsNode>;

  constructor(
    private readonly s: Services,
    private readonly state: PanelState,
  ) {
    this.view = vscode.window.createTreeView('patchlens.datasets', { treeDataProvider: this, showCollapseAll: true });
    this.subs.push(
      this.changed,
      this.view,
      state.onDidChange((root) => {
        const node = root ? this.datasetNodes.get(root) : undefined;
        if (root && node) {
          this.clearChildren(root);
          this.changed.fire(node);
        } else {
          this.children.clear();
          this.changed.fire(undefined);
        }
      }),
    );
  }

  private clearChildren(root: string): void {
    for (const k of [...this.children.keys()]) if (k.startsWith(`${root}\0`)) this.children.delete(k);
  }

  getTreeItem(node: DatasetsNode): vscode.TreeItem | Promise<vscode.TreeItem> {
    switch (node.kind) {
      case 'dataset':
        return this.datasetItem(node);
      case 'folder': {
        const item = new vscode.TreeItem(node.folder.name, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `folder:${node.root}\0${node.folder.rel}`;
        item.description = folderDescription(node.folder.counts);
        item.iconPath = vscode.ThemeIcon.Folder;
        item.resourceUri = vscode.Uri.file(path.join(node.root, node.folder.rel));
        item.tooltip = node.folder.rel;
        item.contextValue = 'folder';
        return item;
      }
      case 'image': {
        const grid = this.grids.get(node.root);
        const e = node.entry;
        const item = new vscode.TreeItem(baseName(e.rel), vscode.TreeItemCollapsibleState.None);
        item.id = `image:${node.root}\0${e.rel}`;
        item.description = imageDescription(e, grid);
        item.tooltip = imageTooltip(e, grid);
        const icon = statusIcon(e.status);
        item.iconPath = new vscode.ThemeIcon(icon.id, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
        item.contextValue = `image.${e.status}`;
        item.accessibilityInformation = { label: `${baseName(e.rel)}, ${imageDescription(e, grid)}` };
        if (e.status !== 'missing') item.command = { command: 'patchlens.sidePanel.inspect', title: 'Inspect Patches', arguments: [node] };
        return item;
      }
      case 'more': {
        const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        item.contextValue = 'more';
        return item;
      }
    }
  }

  private readonly grids = new Map<string, { rows: number; cols: number }>();

  private async datasetItem(node: DatasetsNode & { kind: 'dataset' }): Promise<vscode.TreeItem> {
    const { root, dataset } = node;
    const single = this.s.datasets.list().length === 1;
    const item = new vscode.TreeItem(dataset.name, single ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `dataset:${root}`;
    item.resourceUri = vscode.Uri.file(root);
    const progress = this.s.builds.progressOf(root);
    let info: DatasetInfo | undefined;
    try {
      info = await this.state.info(root);
    } catch (e) {
      item.description = `cannot read: ${(e as Error).message}`;
    }
    const summary = info?.summary;
    if (summary) this.grids.set(root, { rows: summary.model.rows, cols: summary.model.cols });
    if (info) {
      item.description = datasetDescription({
        built: info.error ? undefined : summary !== null,
        error: info.error,
        images: summary?.images,
        grid: summary ? { rows: summary.model.rows, cols: summary.model.cols } : undefined,
        counts: info.counts,
        building: progress,
      });
    }
    item.iconPath = progress ? new vscode.ThemeIcon('sync~spin') : new vscode.ThemeIcon(summary ? 'database' : 'root-folder');
    const lines = [root, dataset.added ? 'Added to Patch Lens (not a workspace folder).' : 'Workspace folder.'];
    lines.push(summary ? `Patch database: ${info!.dbDir} (model ${summary.model.name})` : 'No patch database yet: use Build or Update Patch Database.');
    if (info?.truncated) lines.push('Only the first 50,000 images are listed.');
    item.tooltip = lines.join('\n');
    item.accessibilityInformation = { label: `${dataset.name}${item.description ? `, ${String(item.description)}` : ''}` };
    item.contextValue = ['dataset', summary ? 'built' : '', progress ? 'building' : '', dataset.added ? 'added' : ''].filter(Boolean).join('.');
    return item;
  }

  async getChildren(node?: DatasetsNode): Promise<DatasetsNode[]> {
    if (!node) {
      const list = this.s.datasets.list();
      const keep = new Set(list.map((d) => d.root));
      for (const k of [...this.datasetNodes.keys()]) if (!keep.has(k)) this.datasetNodes.delete(k);
      return list.map((d) => {
        let n = this.datasetNodes.get(d.root);
        if (!n) {
          n = { kind: 'dataset', root: d.root, dataset: d };
          this.datasetNodes.set(d.root, n);
        }
        n.dataset = d;
        return n;
      });
    }
    if (node.kind !== 'dataset' && node.kind !== 'folder') return [];
    const key = `${node.root}\0${node.kind === 'folder' ? node.folder.rel : ''}`;
    const cached = this.children.get(key);
    if (cached) return cached;
    let folder: FolderNode;
    if (node.kind === 'dataset') {
      const info = await this.state.info(node.root);
      if (info.summary) this.grids.set(node.root, { rows: info.summary.model.rows, cols: info.summary.model.cols });
      folder = this.trees.get(info) ?? folderTree(info.entries);
      this.trees.set(info, folder);
    } else {
      folder = node.folder;
    }
    const out: DatasetsNode[] = [];
    for (const f of folder.folders) out.push({ kind: 'folder', root: node.root, folder: f, parent: node });
    for (const e of folder.images) out.push({ kind: 'image', root: node.root, entry: e, parent: node });
    if (out.length > MAX_CHILDREN) {
      const more = out.length - MAX_CHILDREN;
      out.length = MAX_CHILDREN;
      out.push({ kind: 'more', root: node.root, text: `… ${formatCount(more)} more (use Go to Patch…)`, parent: node });
    }
    this.children.set(key, out);
    return out;
  }

  getParent(node: DatasetsNode): DatasetsNode | undefined {
    return node.kind === 'dataset' ? undefined : node.parent;
  }

  /** Shows a dataset in the tree, expanded. */
  async revealDataset(root: string, opts: { select?: boolean; focus?: boolean } = {}): Promise<void> {
    const ds = (await this.getChildren()).find((n) => n.root === root);
    if (ds) await this.view.reveal(ds, { expand: true, select: opts.select ?? true, focus: opts.focus ?? false });
  }

  /** Shows an image in the tree (expanding its dataset and folders). */
  async revealImage(root: string, rel: string): Promise<void> {
    const ds = (await this.getChildren()).find((n) => n.root === root);
    if (!ds) return;
    let level: DatasetsNode = ds;
    const parts = rel.split('/');
    for (let i = 0; i < parts.length; i++) {
      const kids = await this.getChildren(level);
      const want = parts.slice(0, i + 1).join('/');
      const next = kids.find((k) => (k.kind === 'folder' && k.folder.rel === want) || (k.kind === 'image' && k.entry.rel === want));
      if (!next) return;
      level = next;
    }
    await this.view.reveal(level, { select: true, focus: false, expand: true });
  }

  refresh(): void {
    this.state.invalidate();
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}

/** The image (absolute path) or dataset root a command got from a tree node, a URI or a path. */
export function targetOf(arg: unknown): { root?: string; file?: string } {
  if (arg instanceof vscode.Uri) return { file: arg.fsPath };
  if (typeof arg === 'string') return { file: arg };
  if (arg && typeof arg === 'object' && 'kind' in arg) {
    const n = arg as DatasetsNode;
    if (n.kind === 'image') return { root: n.root, file: path.join(n.root, ...n.entry.rel.split('/')) };
    if (n.kind === 'folder') return { root: n.root, file: path.join(n.root, ...n.folder.rel.split('/')) };
    return { root: n.root };
  }
  if (arg && typeof arg === 'object' && 'root' in arg && typeof (arg as { root: unknown }).root === 'string') return { root: (arg as { root: string }).root };
  return {};
}
