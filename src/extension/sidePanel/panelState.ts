// What the side panel's views share about each dataset: its database summary,
// its images with their status, the last retrieval predictability computed,
// and one change event. Loaded lazily from the engine worker and the disk,
// cached until a build, a setting or a file changes.

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DbSummary } from '../../engine/engineProtocol';
import type { Predictability, RolloutStatistic } from '../../engine/stats';
import type { FidelityReport } from '../../engine/fidelity';
import { imageGlob } from '../../core/imageTypes';
import { MANIFEST_FILE } from '../../core/vocabulary';
import type { Services } from '../services';
import { readSettings } from '../settings';
import { classifyImages, countStatuses, type ImageEntry, type StatusCounts } from './datasetTreeModel';
import { listDiskImages } from './diskImages';

/** Images listed per dataset at most (a tree of more is not browsable anyway). */
const LIST_LIMIT = 50_000;
const PREDICTABILITY_KEY = 'patchlens.predictability';
const ROLLOUT_KEY = 'patchlens.rolloutStatistic';
const FIDELITY_KEY = 'patchlens.fidelity';

export interface DatasetInfo {
  readonly root: string;
  readonly dbDir: string;
  /** null: no database yet. */
  readonly summary: DbSummary | null;
  /** The database exists but could not be read. */
  readonly error?: string;
  readonly entries: ImageEntry[];
  readonly counts: StatusCounts;
  /** More images on disk than were listed. */
  readonly truncated: boolean;
}

/** Results stored before the baselines were computed lack them. */
type Baselines = 'mostFrequent' | 'mostFrequentToken' | 'chance';

export interface StoredPredictability extends Omit<Predictability, Baselines>, Partial<Pick<Predictability, Baselines>> {
  readonly fraction: number;
  readonly generation: number;
  readonly computedAt: string;
}

export interface StoredRolloutStatistic extends RolloutStatistic {
  readonly fraction: number;
  readonly generation: number;
  readonly computedAt: string;
}

export interface StoredFidelity extends FidelityReport {
  readonly generation: number;
  readonly computedAt: string;
}

export class PanelState implements vscode.Disposable {
  private readonly cache = new Map<string, Promise<DatasetInfo>>();
  private readonly changed = new vscode.EventEmitter<string | undefined>();
  /** Fires with a dataset root, or undefined when every dataset may have changed. */
  readonly onDidChange = this.changed.event;
  private readonly subs: vscode.Disposable[] = [];
  private readonly watchers = new Map<string, vscode.Disposable>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly progressTimers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly s: Services) {
    this.subs.push(
      this.changed,
      s.datasets.onDidChange(() => {
        this.syncWatchers();
        this.invalidate();
      }),
      s.builds.onDidChangeState((root) => {
        if (!s.builds.isBuilding(root)) {
          // Started or finished: now. Progress: at most a few times a second.
          clearTimeout(this.progressTimers.get(root));
          this.progressTimers.delete(root);
          this.cache.delete(root);
          this.changed.fire(root);
        } else if (!this.progressTimers.has(root)) {
          this.progressTimers.set(root, setTimeout(() => {
            this.progressTimers.delete(root);
            this.changed.fire(root);
          }, 300));
        }
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('patchlens.databaseLocation')) this.syncWatchers();
        if (['patchlens.include', 'patchlens.exclude', 'patchlens.databaseLocation', 'patchlens.model'].some((k) => e.affectsConfiguration(k))) this.invalidate();
        else if (e.affectsConfiguration('patchlens')) this.changed.fire(undefined);
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.changed.fire(undefined)),
    );
    this.syncWatchers();
  }

  /** Summary and images of a dataset (cached). */
  info(root: string): Promise<DatasetInfo> {
    let p = this.cache.get(root);
    if (!p) {
      p = this.load(root);
      this.cache.set(root, p);
      p.catch(() => this.cache.delete(root));
    }
    return p;
  }

  /** Drops cached data (of one dataset, or all) and tells the views. */
  invalidate(root?: string): void {
    if (root) this.cache.delete(root);
    else this.cache.clear();
    this.changed.fire(root);
  }

  private async load(root: string): Promise<DatasetInfo> {
    const dbDir = this.s.datasets.dbDirFor(root);
    const settings = readSettings(vscode.Uri.file(root));
    let summary: DbSummary | null = null;
    let error: string | undefined;
    try {
      summary = await this.s.engine.request('summary', { dbDir });
    } catch (e) {
      error = (e as Error).message;
    }
    const [indexed, files, archived] = await Promise.all([
      summary ? this.s.engine.request('images', { dbDir }).catch(() => []) : Promise.resolve([]),
      listDiskImages(root, { include: settings.include, exclude: settings.exclude, skipDirs: [dbDir], limit: LIST_LIMIT }).catch(() => undefined),
      // archives are folders: their members come from the engine (listed once, off this thread)
      this.s.engine.request('archiveImages', { root, dbDir, include: settings.include, exclude: settings.exclude }, { timeoutMs: 0 }).catch(() => undefined),
    ]);
    const disk = files && { images: [...files.images, ...(archived?.images ?? [])], truncated: files.truncated };
    if (summary) this.s.skippedFiles.set(root, summary.failed);
    const entries = classifyImages(disk?.images, indexed, summary?.failed ?? []);
    return { root, dbDir, summary, error, entries, counts: countStatuses(entries), truncated: disk?.truncated ?? false };
  }

  /** The last predictability computed for the database's current generation. */
  predictability(dbDir: string, generation: number): StoredPredictability | undefined {
    const all = this.s.context.workspaceState.get<Record<string, StoredPredictability>>(PREDICTABILITY_KEY, {});
    const p = all[dbDir];
    return p && p.generation === generation ? p : undefined;
  }

  async setPredictability(dbDir: string, p: StoredPredictability): Promise<void> {
    const all = { ...this.s.context.workspaceState.get<Record<string, StoredPredictability>>(PREDICTABILITY_KEY, {}) };
    all[dbDir] = p;
    await this.s.context.workspaceState.update(PREDICTABILITY_KEY, all);
    this.changed.fire(undefined);
  }

  /** The last rollout statistic computed for the database's current generation. */
  rolloutStatistic(dbDir: string, generation: number): StoredRolloutStatistic | undefined {
    const r = this.s.context.workspaceState.get<Record<string, StoredRolloutStatistic>>(ROLLOUT_KEY, {})[dbDir];
    return r && r.generation === generation ? r : undefined;
  }

  async setRolloutStatistic(dbDir: string, r: StoredRolloutStatistic): Promise<void> {
    const all = { ...this.s.context.workspaceState.get<Record<string, StoredRolloutStatistic>>(ROLLOUT_KEY, {}) };
    all[dbDir] = r;
    await this.s.context.workspaceState.update(ROLLOUT_KEY, all);
    this.changed.fire(undefined);
  }

  /** The last fidelity report measured for the database's current generation. */
  fidelity(dbDir: string, generation: number): StoredFidelity | undefined {
    const f = this.s.context.workspaceState.get<Record<string, StoredFidelity>>(FIDELITY_KEY, {})[dbDir];
    return f && f.generation === generation ? f : undefined;
  }

  async setFidelity(dbDir: string, f: StoredFidelity): Promise<void> {
    const all = { ...this.s.context.workspaceState.get<Record<string, StoredFidelity>>(FIDELITY_KEY, {}) };
    all[dbDir] = f;
    await this.s.context.workspaceState.update(FIDELITY_KEY, all);
    this.changed.fire(undefined);
  }

  /** Watches each dataset's images so statuses (changed, new, deleted) stay current. */
  private syncWatchers(): void {
    // Keyed by root and database folder: a databaseLocation change moves the manifest watched.
    const wanted = new Map(this.s.datasets.list().map((d) => [`${d.root}\0${this.s.datasets.dbDirFor(d.root)}`, d.root]));
    for (const [key, w] of this.watchers) {
      if (!wanted.has(key)) {
        w.dispose();
        this.watchers.delete(key);
      }
    }
    for (const [key, root] of wanted) {
      if (this.watchers.has(key)) continue;
      const glob = imageGlob();
      const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(root), glob));
      const poke = (uri: vscode.Uri) => {
        if (path.relative(root, uri.fsPath).split(path.sep).some((p) => p.startsWith('.'))) return;
        clearTimeout(this.timers.get(root));
        this.timers.set(root, setTimeout(() => this.invalidate(root), 500));
      };
      // The database's manifest: replaced by every build, also by the CLI's.
      const m = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(this.s.datasets.dbDirFor(root)), MANIFEST_FILE));
      const later = () => {
        clearTimeout(this.timers.get(root));
        this.timers.set(root, setTimeout(() => this.invalidate(root), 500));
      };
      this.watchers.set(key, vscode.Disposable.from(w, w.onDidCreate(poke), w.onDidChange(poke), w.onDidDelete(poke), m, m.onDidCreate(later), m.onDidChange(later), m.onDidDelete(later)));
    }
  }

  dispose(): void {
    for (const w of this.watchers.values()) w.dispose();
    for (const t of [...this.timers.values(), ...this.progressTimers.values()]) clearTimeout(t);
    for (const s of this.subs) s.dispose();
  }
}
