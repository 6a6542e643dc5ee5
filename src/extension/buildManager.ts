// Builds and updates patch databases from VS Code: off the extension host's
// thread (in the engine worker), in a cancellable progress notification, with a
// status-bar item and a log in the output channel. One build per dataset at a
// time; the database's lock also keeps the CLI out.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { DatasetWatchers, hiddenUnder, watchFiles } from './datasetWatchers';
import type { EngineClient } from '../engine/engineClient';
import { EngineError } from '../engine/engineClient';
import type { BuildProgress, BuildResult } from '../engine/indexer';
import { imageGlob } from '../core/imageTypes';
import { formatCount, formatDuration } from '../core/format';
import type { NeighbourhoodShape } from '../core/vocabulary';
import { shownUri } from '../core/databaseUri';
import type { DatasetRegistry } from './datasets';
import { REBUILD_SETTINGS, readSettings, resolveModel } from './settings';
import { SkippedFiles, showProblems } from './skippedFiles';

interface RunningBuild {
  readonly root: string;
  promise: Promise<BuildResult | undefined>;
  requestId?: number;
  cancelled: boolean;
  last?: BuildProgress;
}

export interface BuildRequest {
  readonly rebuild?: boolean;
  /** A background update (file watcher): window progress instead of a notification. */
  readonly background?: boolean;
}

export class BuildManager implements vscode.Disposable {
  private readonly running = new Map<string, RunningBuild>();
  private readonly finished = new vscode.EventEmitter<{ root: string; result?: BuildResult; error?: Error }>();
  /** Fires after every build, successful or not. */
  readonly onDidFinish = this.finished.event;
  private readonly stateChanged = new vscode.EventEmitter<string>();
  /** Fires with the dataset root when one of its builds starts, reports progress or ends. */
  readonly onDidChangeState = this.stateChanged.event;
  private readonly status: vscode.StatusBarItem;
  private readonly subs: vscode.Disposable[] = [];
  private readonly watchers = new DatasetWatchers<string>(2000, (root) => void this.build(root, { background: true }));
  /** Datasets whose key settings are being saved for their own rebuild: no "rebuild?" prompt for them. */
  private readonly savingKeysFor = new Set<string>();

  constructor(
    private readonly engine: EngineClient,
    private readonly datasets: DatasetRegistry,
    private readonly log: vscode.LogOutputChannel,
    private readonly skippedFiles: SkippedFiles,
  ) {
    this.status = vscode.window.createStatusBarItem('patchlens.build', vscode.StatusBarAlignment.Left, 10);
    this.status.name = 'Patch Lens Build';
    this.status.command = 'patchlens.cancelBuild';
    this.subs.push(
      this.finished,
      this.stateChanged,
      this.status,
      datasets.onDidChange(() => this.syncWatchers()),
      vscode.workspace.onDidChangeConfiguration((e) => this.onConfigChange(e)),
    );
    this.syncWatchers();
  }

  isBuilding(root?: string): boolean {
    return root ? this.running.has(root) : this.running.size > 0;
  }

  /** The last progress of the running build of a dataset ('starting' before the first report). */
  progressOf(root: string): BuildProgress | { phase: 'starting'; done: 0; total: 0; message: string } | undefined {
    const r = this.running.get(root);
    if (!r) return undefined;
    return r.last ?? { phase: 'starting', done: 0, total: 0, message: 'Starting' };
  }

  /** Builds or updates the database of a dataset; resolves undefined when cancelled or failed (already reported). */
  build(root: string, req: BuildRequest = {}): Promise<BuildResult | undefined> {
    const existing = this.running.get(root);
    if (existing) {
      if (!req.background) void vscode.window.showInformationMessage(`A build of ${path.basename(root)} is already running; it will finish first.`);
      return existing.promise;
    }
    const run: RunningBuild = { root, cancelled: false, promise: Promise.resolve(undefined) };
    this.running.set(root, run);
    void vscode.commands.executeCommand('setContext', 'patchlens.building', true);
    run.promise = this.execute(run, req).finally(() => {
      this.running.delete(root);
      void vscode.commands.executeCommand('setContext', 'patchlens.building', this.running.size > 0);
      this.updateStatus();
      this.stateChanged.fire(root);
    });
    this.stateChanged.fire(root);
    return run.promise;
  }

  /**
   * Saves key shape and h as settings (the workspace's, else the user's: the
   * key settings are not per folder) and rebuilds the dataset with them (the
   * inspector's "Rebuild with these key settings").
   */
  async rebuildWithKeys(root: string, keys: { shape: NeighbourhoodShape; hops: number }): Promise<BuildResult | undefined> {
    const config = vscode.workspace.getConfiguration('patchlens', vscode.Uri.file(root));
    const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    this.savingKeysFor.add(root);
    try {
      if (config.get('shape') !== keys.shape) await config.update('shape', keys.shape, target);
      if (config.get('hops') !== keys.hops) await config.update('hops', keys.hops, target);
      this.log.info(
        `Key settings set to ${keys.shape}, h = ${keys.hops} in ${target === vscode.ConfigurationTarget.Workspace ? 'workspace' : 'user'} settings; rebuilding ${root}`,
      );
      return await this.build(root, { rebuild: true });
    } finally {
      this.savingKeysFor.delete(root);
    }
  }

  private async execute(run: RunningBuild, req: BuildRequest): Promise<BuildResult | undefined> {
    const { root } = run;
    const scope = vscode.Uri.file(root);
    const settings = readSettings(scope);
    const model = resolveModel(scope);
    if (model.ignoredWorkspaceModel) {
      this.log.warn(`Untrusted workspace: ignoring the workspace's model setting ${model.ignoredWorkspaceModel}; using ${model.manifestPath}`);
    }
    const dbDir = this.datasets.dbDirFor(root);
    const name = path.basename(root);
    this.log.info(`${req.rebuild ? 'Rebuilding' : 'Building'} ${shownUri(dbDir)} for ${root} with ${model.manifestPath}`);
    const task = (progress: vscode.Progress<{ message?: string; increment?: number }>, token: vscode.CancellationToken) => {
      token.onCancellationRequested(() => this.cancel(root));
      let reported = 0;
      return this.engine.request(
        'build',
        {
          root,
          dbDir,
          model: model.manifestPath,
          keys: settings.keys,
          hnsw: settings.hnsw,
          backend: settings.backend,
          rebuild: req.rebuild,
          workers: settings.workers || undefined, // 0: the engine's choice
          maxPixels: settings.maxImagePixels,
          maxMemberBytes: settings.maxMemberBytes,
          imageColumn: settings.imageColumn || undefined,
          include: settings.include,
          exclude: settings.exclude,
        },
        {
          timeoutMs: 0,
          onStart: (id) => {
            run.requestId = id;
            if (run.cancelled) void this.engine.request('cancel', { buildId: id });
          },
          onLog: (line) => this.log.info(line),
          onProgress: (p) => {
            run.last = p;
            this.updateStatus();
            this.stateChanged.fire(root);
            const fraction = p.phase === 'encode' && p.total ? p.done / p.total : p.phase === 'write' ? 1 : 0;
            const pct = Math.round(fraction * 100);
            const message = p.phase === 'encode' ? `${p.done}/${p.total} images` : p.message;
            progress.report({ message, increment: Math.max(0, pct - reported) });
            reported = Math.max(reported, pct);
          },
        },
      );
    };
    try {
      const result = req.background
        ? await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Patch Lens: updating ${name}` }, (p) =>
            task(p, new vscode.CancellationTokenSource().token),
          )
        : await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Patch Lens: indexing ${name}`, cancellable: true }, task);
      const summary = result.upToDate
        ? `${name}: up to date (${formatCount(result.images)} images, ${formatCount(result.entries)} entries)`
        : `${name}: ${formatCount(result.images)} images, ${formatCount(result.entries)} entries (${formatCount(result.added)} added, ${formatCount(result.updated)} updated, ${formatCount(result.removed)} removed) in ${formatDuration(result.elapsedMs)}`;
      // The engine logged each newly skipped file already; the Problems panel lists them all.
      const skipped = result.skipped.length ? SkippedFiles.describe(result.skipped) : '';
      this.log.info(skipped ? `${summary}; ${skipped}` : summary);
      this.skippedFiles.set(root, result.skipped);
      if (!req.background) {
        const actions = result.skipped.length ? ['Show Problems', 'Show Log'] : [];
        void vscode.window.showInformationMessage(`Patch Lens: ${summary}.${skipped ? ` ${skipped}.` : ''}`, ...actions).then((c) => {
          if (c === 'Show Problems') void showProblems();
          else if (c === 'Show Log') this.log.show();
        });
      }
      this.finished.fire({ root, result });
      this.syncWatchers();
      return result;
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      this.finished.fire({ root, error: e });
      if (e instanceof EngineError && e.kind === 'BuildCancelledError') {
        this.log.info(`Build of ${root} cancelled; the previous database is unchanged`);
        if (!req.background) void vscode.window.showInformationMessage(`Patch Lens: build of ${name} cancelled; the previous database is unchanged.`);
        return undefined;
      }
      this.log.error(`Build of ${root} failed: ${e.message}`);
      await this.reportFailure(root, e, req);
      return undefined;
    }
  }

  private async reportFailure(root: string, e: Error, req: BuildRequest): Promise<void> {
    const kind = e instanceof EngineError ? e.kind : e.name;
    const actions: string[] = [];
    if (kind === 'RebuildNeededError') actions.push('Rebuild');
    if (kind === 'ManifestError') actions.push('Select Model');
    actions.push('Show Log');
    const choice = await (req.background ? vscode.window.showWarningMessage : vscode.window.showErrorMessage)(`Patch Lens: ${e.message}`, ...actions);
    if (choice === 'Rebuild') void this.build(root, { rebuild: true });
    else if (choice === 'Select Model') void vscode.commands.executeCommand('patchlens.selectModel');
    else if (choice === 'Show Log') this.log.show();
  }

  /** Cancels the build of a dataset (or every build). */
  cancel(root?: string): boolean {
    const runs = root ? [this.running.get(root)].filter((r): r is RunningBuild => r !== undefined) : [...this.running.values()];
    for (const r of runs) {
      r.cancelled = true;
      if (r.requestId !== undefined) void this.engine.request('cancel', { buildId: r.requestId });
    }
    return runs.length > 0;
  }

  private updateStatus(): void {
    const runs = [...this.running.values()];
    if (runs.length === 0) {
      this.status.hide();
      return;
    }
    const r = runs[0];
    const p = r.last;
    const what = p?.phase === 'encode' ? `${p.done}/${p.total}` : (p?.phase ?? 'starting');
    this.status.text = `$(sync~spin) Patch Lens: ${path.basename(r.root)} ${what}`;
    this.status.tooltip = `Building the patch database of ${r.root}. Click to cancel.`;
    this.status.show();
  }

  private onConfigChange(e: vscode.ConfigurationChangeEvent): void {
    if (e.affectsConfiguration('patchlens.autoUpdate')) this.syncWatchers();
    const stale = REBUILD_SETTINGS.filter((s) => e.affectsConfiguration(s));
    if (stale.length === 0) return;
    // A dataset rebuilding with the keys just saved for it needs no prompt.
    // A database named by patchlens.databases (a team's shared one) is rebuilt only when asked.
    const built = this.datasets
      .list()
      .filter((d) => !this.savingKeysFor.has(d.root) && !this.datasets.databaseSetting(d.root).choice && this.datasets.hasDatabase(d.root));
    if (built.length === 0) return;
    void vscode.window
      .showInformationMessage(
        `Patch Lens: ${stale.map((s) => s.replace('patchlens.', '')).join(', ')} changed; existing databases must be rebuilt to use it.`,
        'Rebuild Now',
        'Later',
      )
      .then((c) => {
        if (c === 'Rebuild Now') for (const d of built) void this.build(d.root, { rebuild: true });
      });
  }

  /** Watches built datasets for image changes when autoUpdate is on (not those whose database patchlens.databases names: a shared one is updated when asked). */
  private syncWatchers(): void {
    const wanted = new Map<string, string>();
    for (const d of this.datasets.list()) {
      if (!readSettings(vscode.Uri.file(d.root)).autoUpdate) continue;
      if (this.datasets.databaseSetting(d.root).choice || !this.datasets.hasDatabase(d.root)) continue;
      wanted.set(d.root, d.root);
    }
    this.watchers.sync(wanted, (root) =>
      watchFiles(root, imageGlob(), (uri) => {
        if (!hiddenUnder(root, uri)) this.watchers.poke(root); // not the database folder, hidden files
      }),
    );
  }

  dispose(): void {
    this.watchers.dispose();
    for (const s of this.subs) s.dispose();
  }
}
