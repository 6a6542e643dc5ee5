// The "Patch Inspector" custom editor (priority `option`, so VS Code's image
// preview stays the default): one webview per opened image, each with an
// InspectorSession. Also opens images in it (commands, retrieved patches) and
// keeps the open inspectors current after builds and settings changes.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { EngineError } from '../../engine/engineClient';
import type { Services } from '../services';
import { readSettings, resolveModel } from '../settings';
import { browserMime, isInside } from './datasetPaths';
import { InspectorSession, type InspectorHost, type InspectorTarget, type SharedCells } from './inspectorSession';
import type { InspectorView } from '../../protocol';
import { formatCell } from '../../core/format';
import { makeNonce, webviewHtml } from '../webviewHtml';
import { imageUri, isArchiveMemberPath } from '../archiveFileSystem';
import { saveWithDialog, type OfferedExport } from '../commands/exportResults';

export const INSPECTOR_VIEW_TYPE = 'patchlens.inspector';

interface OpenInspector {
  readonly session: InspectorSession;
  readonly panel: vscode.WebviewPanel;
  /** The patch last queried in this inspector (its selection), for other commands. */
  selection?: { row: number; col: number };
}

/** How long opening one inspector of a pair waits for its webview to load before opening the next. */
const WEBVIEW_LOAD_WAIT_MS = 10_000;

export class InspectorEditorProvider implements vscode.CustomReadonlyEditorProvider, vscode.Disposable {
  private readonly open = new Set<OpenInspector>();
  /** Patches to select in inspectors being opened, by file. */
  private readonly pendingSelect = new Map<string, { row: number; col: number }>();
  /** Shared cells to light in inspectors being opened, by file. */
  private readonly pendingShared = new Map<string, SharedCells>();
  /** View settings (neighbourhood drawn, modes) for inspectors a jump is opening, by file. */
  private readonly pendingView = new Map<string, InspectorView>();
  private readonly subs: vscode.Disposable[] = [];
  private warnedUntrustedModel = false;
  private lastActive?: OpenInspector;

  constructor(private readonly s: Services) {
    this.subs.push(
      s.builds.onDidFinish(({ root, error }) => {
        // A cancelled build leaves the database as it was: an inspector showing it has nothing to reload (a restart
        // would redraw its answer and query again, under whatever the user does next); one that waited for a first
        // database goes back to offering Build.
        const cancelled = error instanceof EngineError && error.kind === 'BuildCancelledError';
        for (const o of this.open) {
          if (cancelled && o.session.hasDatabase) continue;
          if (o.session.root === root || isInside(root, o.session.file)) void o.session.start();
        }
      }),
      s.datasets.onDidChange(() => this.restartAll()),
      // Trust changes which model settings count.
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.restartAll()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (['patchlens.model', 'patchlens.databaseLocation'].some((k) => e.affectsConfiguration(k))) this.restartAll();
        else if (['patchlens.topK', 'patchlens.excludeSelf', 'patchlens.temperature', 'patchlens.queryKeySource'].some((k) => e.affectsConfiguration(k))) {
          for (const o of this.open) o.session.sendSettings();
        }
      }),
    );
  }

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => {} };
  }

  resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): void {
    const file = document.uri.fsPath;
    const ext = this.s.context.extensionUri;
    const webview = panel.webview;
    const roots = this.s.datasets.resourceRoots();
    webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(ext, 'dist'), vscode.Uri.joinPath(ext, 'media'), ...roots],
    };
    const asUri = (...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(ext, ...p)).toString();
    webview.html = webviewHtml({
      title: `Patch Inspector: ${path.basename(file)}`,
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      script: asUri('dist', 'inspector.js'),
      style: asUri('dist', 'inspector.css'),
      codicons: asUri('dist', 'codicons', 'codicon.css'),
    });
    const session = new InspectorSession(file, this.host(panel, roots));
    const entry: OpenInspector = { session, panel };
    this.open.add(entry);
    const pending = this.pendingSelect.get(file);
    if (pending) {
      this.pendingSelect.delete(file);
      session.select(pending.row, pending.col);
    }
    const view = this.pendingView.get(file);
    if (view) {
      this.pendingView.delete(file);
      session.carryView(view);
    }
    const shared = this.pendingShared.get(file);
    if (shared) {
      this.pendingShared.delete(file);
      session.showShared(shared);
    }
    const received = webview.onDidReceiveMessage((m: unknown) => {
      // A query (validated by the session) is the webview's selected patch.
      const q = session.receive(m);
      if (q?.type === 'query') {
        entry.selection = { row: q.row, col: q.col };
        if (panel.active) void vscode.commands.executeCommand('setContext', 'patchlens.inspectorHasSelection', true);
      }
    });
    const viewState = panel.onDidChangeViewState(() => {
      if (panel.active) {
        this.lastActive = entry;
        void vscode.commands.executeCommand('setContext', 'patchlens.inspectorHasSelection', entry.selection !== undefined);
      }
    });
    if (panel.active) this.lastActive = entry;
    panel.onDidDispose(() => {
      received.dispose();
      viewState.dispose();
      if (this.lastActive === entry) this.lastActive = undefined;
      session.dispose();
      this.open.delete(entry);
    });
    this.s.log.info(`Inspector: opened ${file}`);
  }

  /**
   * Opens an image in the inspector; with a patch (a jump), selects it there (in an open inspector, or once the new one
   * has its grid) and a new inspector starts with `view`: the settings of the inspector the jump came from, or of the one
   * last active (a jump from the Codebook view or a command).
   */
  async openImage(
    uri: vscode.Uri,
    patch?: { row: number; col: number },
    options: vscode.TextDocumentShowOptions = {},
    view = this.lastActive?.session.view,
  ): Promise<void> {
    const file = uri.fsPath;
    if (patch) this.pendingSelect.set(file, patch);
    if (patch && view) this.pendingView.set(file, view);
    await vscode.commands.executeCommand('vscode.openWith', uri, INSPECTOR_VIEW_TYPE, options);
    // an inspector of this image was open already: it keeps its own view
    this.pendingView.delete(file);
    const still = patch ? this.pendingSelect.get(file) : undefined;
    if (still) {
      // The open call revealed an existing inspector instead of making a new one.
      this.pendingSelect.delete(file);
      const existing = [...this.open].filter((o) => o.session.file === file);
      const target = existing.find((o) => o.panel.active) ?? existing[0];
      target?.session.select(still.row, still.col);
    }
  }

  private async keepThenOpen(
    from: vscode.WebviewPanel,
    uri: vscode.Uri,
    patch: { row: number; col: number },
    options: vscode.TextDocumentShowOptions,
    view: InspectorView | undefined,
  ): Promise<void> {
    if (from.active) await vscode.commands.executeCommand('workbench.action.keepEditor');
    await this.openImage(uri, patch, options, view);
  }

  /**
   * Opens an image in the inspector in a given editor column with the cells it shares with another image lit, and
   * settles once its webview has loaded (or after a few seconds): a pair's second inspector then starts after the
   * first, since VS Code web can leave one of two webviews started at the same moment blank.
   */
  async openShared(uri: vscode.Uri, shared: SharedCells, viewColumn: vscode.ViewColumn): Promise<void> {
    const file = uri.fsPath;
    this.pendingShared.set(file, shared);
    await vscode.commands.executeCommand('vscode.openWith', uri, INSPECTOR_VIEW_TYPE, { viewColumn, preview: false });
    const existing = [...this.open].filter((o) => o.session.file === file);
    if (this.pendingShared.has(file)) {
      // an inspector of this image was open already
      this.pendingShared.delete(file);
      for (const o of existing) o.session.showShared(shared);
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.any(existing.map((o) => o.session.ready)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, WEBVIEW_LOAD_WAIT_MS))),
    ]).catch(() => {});
    clearTimeout(timer);
  }

  /** The image and selected patch of the active inspector (else the one active last), if it has a selection. */
  selection(): { uri: vscode.Uri; row: number; col: number } | undefined {
    const entry = [...this.open].find((o) => o.panel.active) ?? this.lastActive;
    if (!entry?.selection) return undefined;
    return { uri: imageUri(entry.session.file), row: entry.selection.row, col: entry.selection.col };
  }

  /** The tables of the active inspector's last query (else the one active last), for "Export Results…". */
  exportTables(): OfferedExport[] {
    const entry = [...this.open].find((o) => o.panel.active) ?? this.lastActive;
    if (!entry) return [];
    const out: OfferedExport[] = [];
    for (const [kind, what] of [
      ['retrieved', 'Retrieved patches'],
      ['daid', 'DAiD distribution'],
    ] as const) {
      const t = entry.session.exportTable(kind);
      if (t) out.push({ label: `${what} of ${entry.session.name} ${formatCell(Number(t.table.about.row), Number(t.table.about.col))}`, ...t });
    }
    return out;
  }

  private restartAll(): void {
    for (const o of this.open) void o.session.start();
  }

  private host(panel: vscode.WebviewPanel, roots: readonly vscode.Uri[]): InspectorHost {
    const webview = panel.webview;
    const s = this.s;
    return {
      engine: s.engine,
      log: s.log,
      post: (m) => webview.postMessage(m),
      locate: (file) => this.locate(file),
      settings: (file) => {
        const st = readSettings(vscode.Uri.file(file));
        return { topK: st.topK, excludeSelf: st.excludeSelf, temperature: st.temperature, queryKeys: st.queryKeys };
      },
      model: (file) => {
        const m = resolveModel(vscode.Uri.file(file));
        if (m.ignoredWorkspaceModel && !this.warnedUntrustedModel) {
          this.warnedUntrustedModel = true;
          s.log.warn(
            `Untrusted workspace: the inspector ignores the workspace's model setting ${m.ignoredWorkspaceModel} and tokenizes with ${m.manifestPath}`,
          );
        }
        return m.manifestPath;
      },
      // Only files under the webview's resource roots load by URI; the others come as bytes (imagePixels).
      imageSrc: (file) =>
        browserMime(file) && roots.some((r) => isInside(r.fsPath, file)) && !isArchiveMemberPath(file)
          ? webview.asWebviewUri(vscode.Uri.file(file)).toString()
          : '',
      isBuilding: (root) => s.builds.isBuilding(root),
      build: (root) => (root ? s.builds.build(root) : Promise.resolve(vscode.commands.executeCommand('patchlens.buildDatabase'))),
      rebuildWithKeys: (root, keys) => s.builds.rebuildWithKeys(root, keys),
      // A jump reuses the preview tab (as a single click in the Explorer); a double click keeps it. The inspector the
      // jump comes from is kept first, so browsing its list replaces the last jump's tab and never the list itself.
      openPatch: (file, row, col, keep, view) => void this.keepThenOpen(panel, imageUri(file), { row, col }, { preview: !keep }, view),
      openDuplicatePair: (searchId, rank) => void vscode.commands.executeCommand('patchlens.duplicates.openPair', searchId, rank),
      showLog: () => s.log.show(),
      saveExport: (table, defaultName) => saveWithDialog(s, table, defaultName),
    };
  }

  /**
   * The database for an image: its dataset's (built or not); for an image
   * outside every dataset, the first dataset that has one (it is tokenized
   * on the fly and searched there).
   */
  private locate(file: string): InspectorTarget {
    const ds = this.s.datasets.datasetFor(file);
    if (ds) return { dbDir: this.s.datasets.dbDirFor(ds.root), root: ds.root, datasetName: ds.name, buildRoot: ds.root };
    for (const d of this.s.datasets.list()) {
      if (this.s.datasets.hasDatabase(d.root)) return { dbDir: this.s.datasets.dbDirFor(d.root), root: d.root, datasetName: d.name };
    }
    return {};
  }

  dispose(): void {
    for (const sub of this.subs) sub.dispose();
  }
}
