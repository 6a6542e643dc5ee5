// The Datasets view: dataset roots (workspace folders and added folders) ->
// folders -> images, each image with its token grid size and status.

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Dataset } from '../datasets';
import type { Services } from '../services';
import { baseName, formatCount, plural } from '../../core/format';
import {
  MAX_CHILDREN,
  datasetDescription,
  archiveDescription,
  classifyMember,
  folderDescription,
  folderTree,
  showMoreLabel,
  ARCHIVE_PAGE,
  imageDescription,
  imageTooltip,
  statusIcon,
  type ArchiveStatus,
  type FolderNode,
  type ImageEntry,
} from './datasetTreeModel';
import type { DatasetInfo, PanelState } from './panelState';

export type DatasetsNode =
  | { readonly kind: 'dataset'; readonly root: string; dataset: Dataset }
  | { readonly kind: 'folder'; readonly root: string; readonly folder: FolderNode; readonly parent: DatasetsNode }
  | { readonly kind: 'image'; readonly root: string; readonly entry: ImageEntry; readonly parent: DatasetsNode }
  /** An archive (`prefix` '') or a folder inside one, listed from the engine a page at a time. */
  // (its status is looked up when drawn: a node VS Code kept from before a build still shows the current one)
  | { readonly kind: 'archive'; readonly root: string; readonly rel: string; readonly prefix: string; readonly images?: number; readonly parent: DatasetsNode }
  /** The rest of a long list; `page`: the key of an archive level whose next page it shows when clicked. */
  | { readonly kind: 'more'; readonly root: string; readonly text: string; readonly parent: DatasetsNode; readonly page?: string };

export class DatasetsView implements vscode.TreeDataProvider<DatasetsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<DatasetsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** Node objects are kept per key: the tree matches elements by identity. */
  private readonly datasetNodes = new Map<string, DatasetsNode & { kind: 'dataset' }>();
  private readonly children = new Map<string, DatasetsNode[]>();
  private readonly trees = new WeakMap<DatasetInfo, FolderNode>();
  /** Entries shown per archive level (key of getChildren); a level starts with one page. */
  private readonly shown = new Map<string, number>();
  /** Members per archive level, once listed (the archive's description). */
  private readonly memberCounts = new Map<string, number>();
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
      vscode.commands.registerCommand('patchlens.sidePanel.showMore', (node: DatasetsNode) => this.showMore(node)),
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
        item.description = folderDescription(node.folder.counts, node.folder.archivesBelow);
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
      case 'archive':
        return this.archiveItem(node);
      case 'more': {
        const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        item.contextValue = 'more';
        if (node.page) item.command = { command: 'patchlens.sidePanel.showMore', title: 'Show More', arguments: [node] };
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
    if (node.kind === 'archive') return this.archiveChildren(node);
    if (node.kind !== 'dataset' && node.kind !== 'folder') return [];
    const key = `${node.root}\0${node.kind === 'folder' ? node.folder.rel : ''}`;
    const cached = this.children.get(key);
    if (cached) return cached;
    let folder: FolderNode;
    if (node.kind === 'dataset') {
      const info = await this.state.info(node.root);
      if (info.summary) this.grids.set(node.root, { rows: info.summary.model.rows, cols: info.summary.model.cols });
      folder = this.trees.get(info) ?? folderTree(info.entries, info.archives);
      this.trees.set(info, folder);
    } else {
      folder = node.folder;
    }
    const out: DatasetsNode[] = [];
    for (const f of folder.folders) out.push({ kind: 'folder', root: node.root, folder: f, parent: node });
    for (const a of folder.archives) out.push({ kind: 'archive', root: node.root, rel: a.rel, prefix: '', parent: node });
    for (const e of folder.images) out.push({ kind: 'image', root: node.root, entry: e, parent: node });
    if (out.length > MAX_CHILDREN) {
      const more = out.length - MAX_CHILDREN;
      out.length = MAX_CHILDREN;
      out.push({ kind: 'more', root: node.root, text: `… ${formatCount(more)} more (use Go to Patch…)`, parent: node });
    }
    this.children.set(key, out);
    return out;
  }

  private levelKey(node: DatasetsNode & { kind: 'archive' }): string {
    return `${node.root}\0${node.rel}/\0${node.prefix}`;
  }

  /** An archive's current status (what the database holds of it); undefined once it is gone from disk. */
  private async archiveStatus(node: DatasetsNode & { kind: 'archive' }): Promise<ArchiveStatus | undefined> {
    return (await this.state.info(node.root)).archives.find((a) => a.rel === node.rel);
  }

  private async archiveItem(node: DatasetsNode & { kind: 'archive' }): Promise<vscode.TreeItem> {
    const status = await this.archiveStatus(node).catch(() => undefined);
    const name = baseName(node.prefix || node.rel);
    const item = new vscode.TreeItem(name, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `archive:${node.root}\0${node.rel}\0${node.prefix}`;
    if (node.prefix) {
      item.description = `${(node.images ?? 0).toLocaleString('en-US')} ${plural(node.images ?? 0, 'image')}`;
      item.iconPath = vscode.ThemeIcon.Folder;
      item.tooltip = `${node.rel}/${node.prefix}`;
    } else {
      item.description = status ? archiveDescription(status, this.memberCounts.get(this.levelKey(node))) : 'gone from disk';
      item.iconPath = new vscode.ThemeIcon(status?.error ? 'warning' : 'file-zip');
      item.tooltip = [node.rel, status?.error ? `Could not be read: ${status.error}` : 'An archive: its images are listed as a folder, a page at a time.'].join(
        '\n',
      );
      item.resourceUri = vscode.Uri.file(path.join(node.root, ...node.rel.split('/')));
    }
    item.contextValue = 'archive';
    // the tooltip would be the row's accessible name otherwise
    item.accessibilityInformation = { label: `${name}, ${String(item.description)}` };
    return item;
  }

  /** An archive level's first pages (as many as were asked for), folders first, from the engine's member index. */
  private async archiveChildren(node: DatasetsNode & { kind: 'archive' }): Promise<DatasetsNode[]> {
    const key = this.levelKey(node);
    const cached = this.children.get(key);
    if (cached) return cached;
    const info = await this.state.info(node.root);
    const status = info.archives.find((a) => a.rel === node.rel);
    if (!status) return [];
    const limit = this.shown.get(key) ?? ARCHIVE_PAGE;
    let page;
    try {
      // listing a big archive the first time reads it through: no time-out
      page = await this.s.engine.request(
        'archivePage',
        { root: node.root, dbDir: info.dbDir, archive: node.rel, prefix: node.prefix, offset: 0, limit, include: info.include, exclude: info.exclude },
        { timeoutMs: 0 },
      );
    } catch (e) {
      return [{ kind: 'more', root: node.root, text: `Cannot list ${node.rel}: ${(e as Error).message}`, parent: node }];
    }
    const out: DatasetsNode[] = [];
    if (page.error) out.push({ kind: 'more', root: node.root, text: `Unreadable: ${page.error}`, parent: node });
    const lead = `${node.rel}/${node.prefix ? `${node.prefix}/` : ''}`;
    for (const e of page.entries) {
      if (e.folder)
        out.push({
          kind: 'archive',
          root: node.root,
          rel: node.rel,
          prefix: node.prefix ? `${node.prefix}/${e.name}` : e.name,
          images: e.images,
          parent: node,
        });
      else out.push({ kind: 'image', root: node.root, entry: classifyMember(status, lead + e.name, e.bytes, page.mtimeMs), parent: node });
    }
    if (page.total > page.entries.length)
      out.push({ kind: 'more', root: node.root, text: showMoreLabel(page.entries.length, page.total), parent: node, page: key });
    // The archive's description shows this count from its next redraw on. Refreshing the archive row now, while
    // VS Code is taking in these children, left their commands stale: "Show more" did nothing when clicked.
    this.memberCounts.set(key, page.images);
    this.children.set(key, out);
    return out;
  }

  /** The next page of an archive level. */
  private showMore(node: DatasetsNode): void {
    if (node.kind !== 'more' || !node.page) return;
    this.shown.set(node.page, (this.shown.get(node.page) ?? ARCHIVE_PAGE) + ARCHIVE_PAGE);
    this.children.delete(node.page);
    this.changed.fire(node.parent);
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
      const next = kids.find(
        (k) =>
          (k.kind === 'folder' && k.folder.rel === want) ||
          (k.kind === 'archive' && (k.prefix ? `${k.rel}/${k.prefix}` : k.rel) === want) ||
          (k.kind === 'image' && k.entry.rel === want),
      );
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
    if (n.kind === 'archive') return { root: n.root, file: path.join(n.root, ...n.rel.split('/'), ...(n.prefix ? n.prefix.split('/') : [])) };
    return { root: n.root };
  }
  if (arg && typeof arg === 'object' && 'root' in arg && typeof (arg as { root: unknown }).root === 'string') return { root: (arg as { root: string }).root };
  return {};
}
