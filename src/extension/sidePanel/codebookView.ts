// The Codebook view (a webview view in the side panel): the codes of a
// dataset's database sorted by usage with their prototype thumbnails; a click
// lists the images and positions that use a code and opens one in the
// inspector at that patch. Messages are typed in src/protocol.ts and every one
// from the webview is validated (codebookMessages.ts).

import * as path from 'node:path';
import * as vscode from 'vscode';
import { TOKEN_USES_LIMIT, type CodebookDataset, type HostToCodebook } from '../../protocol';
import type { Services } from '../services';
import { openInInspector } from '../commands/inspect';
import { parseCodebookMessage } from './codebookMessages';
import type { PanelState } from './panelState';
import { makeNonce, webviewHtml } from '../inspector/webviewHtml';
import { resolveDatasetPath } from '../inspector/datasetPaths';

const SELECTED_KEY = 'patchlens.codebook.dataset';

export class CodebookView implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly id = 'patchlens.codebook';
  private view?: vscode.WebviewView;
  private ready = false;
  /** The shown data is out of date (changed while the view was hidden). */
  private stale = true;
  private loadSeq = 0;
  private pendingFocus?: number;
  /** Dataset, generation and state of what the webview shows. */
  private shownKey?: string;
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly s: Services,
    private readonly state: PanelState,
  ) {
    this.subs.push(
      vscode.window.registerWebviewViewProvider(CodebookView.id, this),
      state.onDidChange((root) => {
        if (root === undefined || root === this.selected()) this.reload();
        else this.postDatasets();
      }),
    );
  }

  /** The dataset shown: the one chosen last, else the first with a database, else the first. */
  selected(): string | undefined {
    const list = this.s.datasets.list();
    const saved = this.s.context.workspaceState.get<string>(SELECTED_KEY);
    if (saved && list.some((d) => d.root === saved)) return saved;
    return list[0]?.root;
  }

  /** Shows a dataset's codebook (e.g. when it is selected in the Datasets view). */
  async select(root: string): Promise<void> {
    if (!this.s.datasets.list().some((d) => d.root === root)) return;
    if (root === this.selected() && !this.stale) return;
    await this.s.context.workspaceState.update(SELECTED_KEY, root);
    this.stale = true;
    this.reload();
  }

  /** Reveals the view and selects a token. */
  async focusToken(token: number, root?: string): Promise<void> {
    if (root) await this.select(root);
    this.pendingFocus = token;
    await vscode.commands.executeCommand(`${CodebookView.id}.focus`);
    this.flushFocus();
  }

  private flushFocus(): void {
    if (this.pendingFocus === undefined || !this.ready || this.stale) return;
    void this.post({ type: 'focusToken', token: this.pendingFocus });
    this.pendingFocus = undefined;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    this.stale = true;
    const dist = vscode.Uri.joinPath(this.s.context.extensionUri, 'dist');
    view.webview.options = { enableScripts: true, localResourceRoots: [dist] };
    const uri = (f: string) => view.webview.asWebviewUri(vscode.Uri.joinPath(dist, f)).toString();
    view.webview.html = webviewHtml({
      cspSource: view.webview.cspSource,
      nonce: makeNonce(),
      script: uri('codebook.js'),
      style: uri('codebook.css'),
      codicons: uri('codicons/codicon.css'),
      title: 'Codebook',
    });
    const subs = [
      view.webview.onDidReceiveMessage((raw: unknown) => void this.onMessage(raw)),
      view.onDidChangeVisibility(() => {
        if (view.visible && this.stale) this.reload();
      }),
    ];
    view.onDidDispose(() => {
      subs.forEach((d) => d.dispose());
      if (this.view === view) this.view = undefined;
      this.ready = false;
    });
  }

  private post(msg: HostToCodebook): Thenable<boolean> {
    return this.view?.webview.postMessage(msg) ?? Promise.resolve(false);
  }

  private async onMessage(raw: unknown): Promise<void> {
    const checked = parseCodebookMessage(raw);
    if (!checked.ok) {
      this.s.log.warn(`Codebook view: rejected a message: ${checked.reason}`);
      return;
    }
    const msg = checked.message;
    switch (msg.type) {
      case 'ready':
        this.ready = true;
        this.shownKey = undefined;
        this.stale = true;
        this.reload();
        return;
      case 'selectDataset':
        return this.select(msg.root);
      case 'refresh':
        this.shownKey = undefined;
        this.state.invalidate(this.selected());
        return;
      case 'build':
        if (this.s.datasets.list().some((d) => d.root === msg.root)) void vscode.commands.executeCommand('patchlens.buildDatabase', msg.root);
        return;
      case 'tokenUses':
        return this.tokenUses(msg.messageId, msg.root, msg.token);
      case 'openPatch': {
        if (!this.s.datasets.list().some((d) => d.root === msg.root)) return;
        const target = resolveDatasetPath(msg.root, msg.image);
        if (!target.ok) return;
        await openInInspector(vscode.Uri.file(target.file), { row: msg.row, col: msg.col });
        return;
      }
    }
  }

  private async tokenUses(messageId: number, root: string, token: number): Promise<void> {
    const fail = (kind: string, message: string) => void this.post({ type: 'error', inReplyTo: messageId, kind, message });
    if (!this.s.datasets.list().some((d) => d.root === root)) return fail('UnknownDataset', 'that dataset is no longer in the side panel');
    try {
      const uses = await this.s.engine.request('tokenUses', { dbDir: this.s.datasets.dbDirFor(root), token });
      const totalPositions = uses.reduce((n, u) => n + u.positions.length, 0);
      void this.post({ type: 'tokenUsesResult', inReplyTo: messageId, token, uses: uses.slice(0, TOKEN_USES_LIMIT).map((u) => ({ image: u.image, positions: [...u.positions] })), totalImages: uses.length, totalPositions });
    } catch (e) {
      fail((e as Error).name || 'Error', (e as Error).message);
    }
  }

  private postDatasets(): void {
    if (!this.ready) return;
    void (async () => {
      const list = this.s.datasets.list();
      const datasets: CodebookDataset[] = await Promise.all(
        list.map(async (d) => ({ root: d.root, name: d.name, built: !!(await this.state.info(d.root).catch(() => undefined))?.summary })),
      );
      void this.post({ type: 'datasets', datasets, selected: this.selected() ?? '' });
    })();
  }

  /** Sends the selected dataset's codebook (when the view is visible; else later). */
  private reload(): void {
    this.stale = true;
    if (!this.view || !this.ready || !this.view.visible) return;
    this.stale = false;
    const seq = ++this.loadSeq;
    const root = this.selected();
    this.postDatasets();
    if (!root) {
      void this.post({ type: 'empty', root: '', reason: 'noDatasets', message: 'No dataset. Open a folder of images or add one in the Datasets view.' });
      return;
    }
    void (async () => {
      const name = path.basename(root);
      try {
        const info = await this.state.info(root);
        if (seq !== this.loadSeq) return;
        // Build progress and unrelated changes leave the shown codebook as it is.
        // Building matters only to a dataset with no database yet (its empty state says so).
        const key = `${root}\0${info.summary ? `${info.summary.generation}@${info.summary.updatedAt}` : `none\0${this.s.builds.isBuilding(root)}`}\0${info.error ?? ''}`;
        if (key === this.shownKey) return this.flushFocus();
        this.shownKey = key;
        if (info.summary) void this.post({ type: 'loading', root });
        if (info.error) {
          void this.post({ type: 'empty', root, reason: 'error', message: `The database of ${name} cannot be read: ${info.error}` });
          return;
        }
        if (!info.summary) {
          const building = this.s.builds.isBuilding(root);
          void this.post({
            type: 'empty',
            root,
            reason: building ? 'building' : 'none',
            message: building ? `Building the patch database of ${name}…` : `${name} has no patch database yet. Build it to see its codebook.`,
          });
          return;
        }
        const cb = await this.s.engine.request('codebook', { dbDir: info.dbDir });
        if (seq !== this.loadSeq) return;
        await this.post({
          type: 'codebook',
          data: {
            root,
            model: info.summary.model.name,
            codebookSize: cb.codebookSize,
            patch: cb.patch,
            counts: cb.counts,
            prototypes: cb.prototypes,
            images: info.summary.images,
            staleImages: cb.staleImages,
            generation: info.summary.generation,
          },
        });
        this.flushFocus();
      } catch (e) {
        if (seq !== this.loadSeq) return;
        this.shownKey = undefined;
        void this.post({ type: 'empty', root, reason: 'error', message: `Cannot load the codebook of ${name}: ${(e as Error).message}` });
      }
    })();
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}
