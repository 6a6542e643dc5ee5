// The Duplicates view (a webview view in the side panel): a dataset's image
// pairs ranked by shared patch content, or its leaks into another database
// ("Find Leaks Against…"). The search runs in the engine worker with progress
// and cancel; the result stays there and the view pages through it, asking
// for thumbnails as rows scroll into view; a click opens both images side by
// side in the inspector with the shared cells lit.

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DuplicateSearch, DuplicateSearchParams } from '../../engine/engineProtocol';
import { EngineError } from '../../engine/engineClient';
import { formatCount, formatDuration } from '../../core/format';
import {
  DUPLICATE_THUMBNAIL,
  DUPLICATES_PAGE,
  duplicatesToHostSchema,
  type CodebookDataset,
  type DuplicateResults,
  type DuplicatesToHost,
  type HostToDuplicates,
} from '../../protocol';
import { Endpoint, InvalidMessage } from '../../endpoint';
import { DEFAULT_WINDOW } from '../../core/duplicates';
import type { Services } from '../services';
import type { PanelState } from './panelState';
import { sideWebviewPage } from './sideWebviewPage';
import { resolveDatasetPath } from '../inspector/datasetPaths';

const SELECTED_KEY = 'patchlens.duplicates.dataset';

/** The other side of a leak search: a database and the dataset folder its paths are relative to. */
export interface LeakTarget {
  readonly dbDir: string;
  readonly root: string;
  readonly name: string;
}

/** What the last finished search was over (to resolve its paths and show it again). */
interface Shown {
  readonly search: DuplicateSearch;
  readonly results: DuplicateResults;
  readonly rootA: string;
  readonly rootB: string;
}

export class DuplicatesView implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly id = 'patchlens.duplicates';
  private view?: vscode.WebviewView;
  private ready = false;
  private shown?: Shown;
  /** Engine request id of the running search (to cancel it). */
  private running?: number;
  private cancelled = false;
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly s: Services,
    private readonly state: PanelState,
  ) {
    this.subs.push(
      vscode.window.registerWebviewViewProvider(DuplicatesView.id, this),
      state.onDidChange(() => this.postDatasets()),
    );
  }

  /** The dataset selected in the view: the one chosen last, else the first. */
  selected(): string | undefined {
    const list = this.s.datasets.list();
    const saved = this.s.context.workspaceState.get<string>(SELECTED_KEY);
    if (saved && list.some((d) => d.root === saved)) return saved;
    return list[0]?.root;
  }

  get isRunning(): boolean {
    return this.running !== undefined;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    sideWebviewPage(view, this.s.context.extensionUri, 'duplicates', 'Duplicates');
    const endpoint = this.connect();
    const received = view.webview.onDidReceiveMessage((raw: unknown) => endpoint.receive(raw));
    view.onDidDispose(() => {
      received.dispose();
      endpoint.dispose();
      if (this.view === view) {
        this.view = undefined;
        this.ready = false;
      }
    });
  }

  /** The view's endpoint: checks what the webview sends, and answers every request, a rejected one with an error at once. */
  private connect(): Endpoint<HostToDuplicates, DuplicatesToHost> {
    return new Endpoint<HostToDuplicates, DuplicatesToHost>({
      name: 'Duplicates view',
      schema: duplicatesToHostSchema,
      post: (m) => this.post(m as HostToDuplicates),
      onRejected: (reason) => this.s.log.warn(`Duplicates view: rejected a message: ${reason}`),
      onFailed: (type, e) => this.s.log.error(`Duplicates view: ${type} failed: ${e.message}`),
    })
      .on('ready', () => {
        this.ready = true;
        this.onReady();
      })
      .on('selectDataset', (m) => this.selectDataset(m.root))
      .on('find', (m) => this.find(m.root, undefined, m.window, m.near))
      .on('findLeaks', (m) => vscode.commands.executeCommand('patchlens.findLeaksAgainst', m.root, { window: m.window, near: m.near }))
      .on('cancel', () => this.cancel())
      .on('openPair', (m) => this.openPair(m.searchId, m.rank))
      .handle('page', (m) => this.page(m.messageId, m.searchId, m.offset))
      .handle('thumbnail', (m) => this.thumbnail(m.messageId, m.searchId, m.rank, m.side));
  }

  private post(m: HostToDuplicates): void {
    if (this.view && this.ready) void this.view.webview.postMessage(m);
  }

  private onReady(): void {
    this.postDatasets();
    if (this.shown) this.post({ type: 'results', results: this.shown.results });
    else if (!this.running)
      this.post({
        type: 'empty',
        reason: this.s.datasets.list().length ? 'idle' : 'noDatasets',
        message: this.s.datasets.list().length
          ? 'Find the images of a dataset that share patch content, or its leaks into another database.'
          : 'No dataset. Open a folder of images or add one in the Datasets view.',
      });
  }

  private async selectDataset(root: string): Promise<void> {
    if (!this.s.datasets.list().some((d) => d.root === root)) return;
    await this.s.context.workspaceState.update(SELECTED_KEY, root);
    this.postDatasets();
  }

  private postDatasets(): void {
    if (!this.ready) return;
    void (async () => {
      const list = this.s.datasets.list();
      const datasets: CodebookDataset[] = await Promise.all(
        list.map(async (d) => ({ root: d.root, name: d.name, built: !!(await this.state.info(d.root).catch(() => undefined))?.summary })),
      );
      this.post({ type: 'datasets', datasets, selected: this.selected() ?? '' });
    })();
  }

  /** Reveals the view and runs a search of dataset `root` (against another database for leaks). */
  async find(root: string, against: LeakTarget | undefined, window = DEFAULT_WINDOW, near = -1): Promise<void> {
    const dataset = this.s.datasets.list().find((d) => d.root === root);
    if (!dataset) return;
    await this.s.context.workspaceState.update(SELECTED_KEY, root);
    if (!this.view) await vscode.commands.executeCommand(`${DuplicatesView.id}.focus`);
    this.postDatasets();
    const info = await this.state.info(root).catch(() => undefined);
    if (!info?.summary) {
      this.post({ type: 'empty', reason: 'none', message: `${dataset.name} has no patch database yet. Build it first.` });
      return;
    }
    if (this.running !== undefined) await this.cancel();
    const params: DuplicateSearchParams = { dbDir: info.dbDir, ...(against ? { against: against.dbDir } : {}), window, ...(near >= 0 ? { near } : {}) };
    this.cancelled = false;
    this.post({ type: 'progress', phase: 'count', done: 0, total: 1 });
    void vscode.commands.executeCommand('setContext', 'patchlens.findingDuplicates', true);
    const what = against ? `leaks of ${dataset.name} into ${against.name}` : `duplicates in ${dataset.name}`;
    this.s.log.info(`Duplicates: finding ${what} (window ${window}${near >= 0 ? `, near ${near}` : ''})`);
    try {
      const search = await vscode.window.withProgress({ location: { viewId: DuplicatesView.id } }, () =>
        this.s.engine.request('duplicates', params, {
          timeoutMs: 0,
          onStart: (id) => (this.running = id),
          onSearchProgress: (p) => this.post({ type: 'progress', phase: p.phase, done: p.done, total: p.total }),
        }),
      );
      const results: DuplicateResults = {
        searchId: search.searchId,
        dataset: dataset.name,
        against: against?.name ?? '',
        pairs: search.pairs,
        totalPairs: search.totalPairs,
        cells: search.rows * search.cols,
        images: search.stats.images,
        distinctWindows: search.stats.distinctWindows,
        commonWindows: search.stats.commonWindows,
        elapsedMs: search.elapsedMs,
        window,
        near,
      };
      this.shown = { search, results, rootA: info.summary.root, rootB: against?.root ?? info.summary.root };
      this.s.log.info(
        `Duplicates: ${formatCount(search.totalPairs)} pairs in ${formatDuration(search.elapsedMs)} (${formatCount(search.stats.images)} images, ${formatCount(search.stats.commonWindows)} windows too common to count)`,
      );
      this.post({ type: 'results', results });
    } catch (e) {
      const err = e as Error;
      if (this.cancelled || err.name === 'DuplicatesCancelledError') {
        this.post({ type: 'empty', reason: 'cancelled', message: 'Search cancelled.' });
      } else {
        this.s.log.error(`Duplicates: ${err.message}`);
        this.post({ type: 'empty', reason: 'error', message: err.message });
      }
    } finally {
      this.running = undefined;
      void vscode.commands.executeCommand('setContext', 'patchlens.findingDuplicates', false);
    }
  }

  async cancel(): Promise<void> {
    const id = this.running;
    if (id === undefined) return;
    this.cancelled = true;
    await this.s.engine.request('cancel', { buildId: id }).catch(() => false);
  }

  private current(searchId: number): Shown {
    const shown = this.shown;
    if (!shown || shown.search.searchId !== searchId) throw new InvalidMessage('that search is not the one shown; run it again');
    return shown;
  }

  private async page(messageId: number, searchId: number, offset: number): Promise<Extract<HostToDuplicates, { type: 'pageResult' }>> {
    this.current(searchId);
    const pairs = await this.s.engine.request('duplicatePage', { searchId, offset, count: DUPLICATES_PAGE });
    return { type: 'pageResult', inReplyTo: messageId, searchId, offset, pairs };
  }

  /** The file of one side of a pair (inside its dataset folder). */
  private async sideFile(shown: Shown, rank: number, side: 'a' | 'b'): Promise<{ file: string; dbDir: string; rel: string }> {
    const [pair] = await this.s.engine.request('duplicatePage', { searchId: shown.search.searchId, offset: rank, count: 1 });
    if (!pair) throw new InvalidMessage(`no pair ${rank} in this search`);
    const rel = side === 'a' ? pair.a : pair.b;
    const root = side === 'a' ? shown.rootA : shown.rootB;
    const r = resolveDatasetPath(root, rel);
    if (!r.ok) throw new InvalidMessage(r.reason);
    return { file: r.file, dbDir: side === 'a' || !shown.search.against ? shown.search.dbDir : shown.search.against, rel };
  }

  private async thumbnail(messageId: number, searchId: number, rank: number, side: 'a' | 'b'): Promise<Extract<HostToDuplicates, { type: 'thumbnailResult' }>> {
    const shown = this.current(searchId);
    const { file, dbDir } = await this.sideFile(shown, rank, side);
    // the part of the image the model sees: all its cells
    const { png } = await this.s.engine.request('thumbnail', { dbDir, image: file, size: DUPLICATE_THUMBNAIL });
    return { type: 'thumbnailResult', inReplyTo: messageId, png };
  }

  /** Opens a pair of the shown search side by side, shared cells lit. */
  async openPair(searchId: number, rank: number): Promise<void> {
    try {
      const shown = this.current(searchId);
      await openDuplicatePair(this.s, shown.search, shown.rootA, shown.rootB, rank);
    } catch (e) {
      const err = e as Error;
      this.s.log.error(`Duplicates: cannot open pair ${rank}: ${err.message}`);
      void vscode.window.showErrorMessage(`Patch Lens: cannot open the pair: ${err.message}`);
    }
  }

  /**
   * Opens pair `rank` of a search the engine keeps (the inspector's overlaps
   * come from searches the view did not run): its databases' dataset folders
   * resolve the paths.
   */
  async openKeptPair(searchId: unknown, rank: unknown): Promise<void> {
    if (!Number.isSafeInteger(searchId) || !Number.isSafeInteger(rank)) return;
    const shown = this.shown?.search.searchId === searchId ? this.shown : undefined;
    if (shown) return openDuplicatePair(this.s, shown.search, shown.rootA, shown.rootB, rank as number);
    const search = await this.s.engine.request('duplicateSearch', { searchId: searchId as number });
    const rootOf = async (dbDir: string) => (await this.s.engine.request('summary', { dbDir }))?.root;
    const rootA = await rootOf(search.dbDir);
    const rootB = search.against ? await rootOf(search.against) : rootA;
    if (!rootA || !rootB) throw new Error('the database of that search is gone');
    await openDuplicatePair(this.s, search, rootA, rootB, rank as number);
  }

  dispose(): void {
    void this.cancel();
    for (const d of this.subs) d.dispose();
  }
}

/**
 * Opens both images of pair `rank` of a search in the inspector, a on the
 * left and b on the right, each with the cells it shares with the other lit.
 */
export async function openDuplicatePair(
  s: Services,
  search: Pick<DuplicateSearch, 'searchId' | 'cols'>,
  rootA: string,
  rootB: string,
  rank: number,
): Promise<void> {
  let got;
  try {
    got = await s.engine.request('duplicateCells', { searchId: search.searchId, rank });
  } catch (e) {
    if (e instanceof EngineError && e.kind === 'SearchGoneError') throw new Error('this search is no longer kept; run it again');
    throw e;
  }
  const { pair, cells } = got;
  const a = resolveDatasetPath(rootA, pair.a);
  const b = resolveDatasetPath(rootB, pair.b);
  if (!a.ok) throw new Error(a.reason);
  if (!b.ok) throw new Error(b.reason);
  const side = (k: 0 | 1) => Int32Array.from({ length: cells.length / 2 }, (_, i) => cells[2 * i + k]);
  const shared = (other: string, k: 0 | 1) => ({ other, score: pair.score, sharedCells: pair.sharedCells, cells: side(k) });
  await vscode.commands.executeCommand('patchlens.inspector.showShared', vscode.Uri.file(a.file), shared(pair.b, 0), vscode.ViewColumn.One);
  await vscode.commands.executeCommand('patchlens.inspector.showShared', vscode.Uri.file(b.file), shared(pair.a, 1), vscode.ViewColumn.Two);
  s.log.info(`Duplicates: opened ${path.basename(a.file)} and ${path.basename(b.file)} side by side (${pair.sharedCells} shared cells)`);
}
