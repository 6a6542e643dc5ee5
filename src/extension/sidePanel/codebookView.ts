// The Codebook view (a webview view in the side panel): the codes of a
// dataset's database sorted by usage with their prototype thumbnails; a click
// lists the images and positions that use a code and opens one in the
// inspector at that patch. Messages are typed in src/protocol.ts and every one
// from the webview is validated by its endpoint (codebookMessages.ts).

import * as path from 'node:path';
import * as vscode from 'vscode';
import { TOKEN_USES_LIMIT, type CodebookDataset, type CodebookToHost, type HostToCodebook } from '../../protocol';
import type { Endpoint } from '../../endpoint';
import type { Services } from '../services';
import { openInInspector } from '../commands/inspect';
import { codebookEndpoint } from './codebookMessages';
import type { PanelState } from './panelState';
import { sideWebviewPage } from './sideWebviewPage';
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
    sideWebviewPage(view, this.s.context.extensionUri, 'codebook', 'Codebook');
    const endpoint = this.connect(codebookEndpoint((m) => view.webview.postMessage(m), this.s.log));
    const subs = [
      view.webview.onDidReceiveMessage((raw: unknown) => endpoint.receive(raw)),
      view.onDidChangeVisibility(() => {
        if (view.visible && this.stale) this.reload();
      }),
    ];
    view.onDidDispose(() => {
      subs.forEach((d) => d.dispose());
      endpoint.dispose();
      if (this.view === view) this.view = undefined;
      this.ready = false;
    });
  }

  private post(msg: HostToCodebook): Thenable<boolean> {
    return this.view?.webview.postMessage(msg) ?? Promise.resolve(false);
  }

  /** Registers what the view's messages do; rejected requests are answered with an error by the endpoint. */
  private connect(endpoint: Endpoint<HostToCodebook, CodebookToHost>): Endpoint<HostToCodebook, CodebookToHost> {
    const known = (root: string) => this.s.datasets.list().some((d) => d.root === root);
    return endpoint
      .on('ready', () => {
        this.ready = true;
        this.shownKey = undefined;
        this.stale = true;
        this.reload();
      })
      .on('selectDataset', (m) => this.select(m.root))
      .on('refresh', () => {
        this.shownKey = undefined;
        this.state.invalidate(this.selected());
      })
      .on('build', (m) => {
        if (known(m.root)) void vscode.commands.executeCommand('patchlens.buildDatabase', m.root);
      })
      .on('openPatch', (m) => {
        if (!known(m.root)) return;
        const target = resolveDatasetPath(m.root, m.image);
        if (!target.ok) return this.s.log.warn(`Codebook view: rejected a message: ${target.reason}`);
        openInInspector(vscode.Uri.file(target.file), { row: m.row, col: m.col }, m.keep === true).catch((e: Error) =>
          this.s.log.error(`Codebook view: openPatch failed: ${e.message}`),
        );
      })
      .handle('tokenUses', async (m) => {
        if (!known(m.root)) throw Object.assign(new Error('that dataset is no longer in the side panel'), { name: 'UnknownDataset' });
        const uses = await this.s.engine.request('tokenUses', { dbDir: this.s.datasets.dbDirFor(m.root), token: m.token });
        const totalPositions = uses.reduce((n, u) => n + u.positions.length, 0);
        return {
          type: 'tokenUsesResult',
          inReplyTo: m.messageId,
          token: m.token,
          uses: uses.slice(0, TOKEN_USES_LIMIT).map((u) => ({ image: u.image, positions: [...u.positions] })),
          totalImages: uses.length,
          totalPositions,
        };
      });
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
