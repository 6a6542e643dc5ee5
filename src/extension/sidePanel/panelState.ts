// What the side panel's views share about each dataset: its database summary,
// its images with their status, the last retrieval predictability computed,
// and one change event. Loaded lazily from the engine worker and the disk,
// cached until a build, a setting or a file changes.

import * as vscode from 'vscode';
import { isObjectStoreUri } from '../../core/databaseUri';
import { DatasetWatchers, hiddenUnder, watchFiles } from '../datasetWatchers';
import type { DbSummary } from '../../engine/engineProtocol';
import type { Predictability, RolloutStatistic } from '../../engine/stats';
import type { FidelityReport } from '../../engine/fidelity';
import { imageGlob } from '../../core/imageTypes';
import { archiveGlob } from '../../core/datasetLayout';
import { MANIFEST_FILE } from '../../core/vocabulary';
import type { Services } from '../services';
import { readSettings } from '../settings';
import { archiveCounts, classifyImages, countStatuses, splitByArchive, type ArchiveStatus, type ImageEntry, type StatusCounts } from './datasetTreeModel';
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
  /** Image files (archive members are listed from their archive, a page at a time). */
  readonly entries: ImageEntry[];
  readonly archives: ArchiveStatus[];
  readonly counts: StatusCounts;
  /** The include/exclude globs the listing used (members are filtered by them too). */
  readonly include: string[];
  readonly exclude: string[];
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
  private readonly watchers = new DatasetWatchers<string>(500, (root) => this.invalidate(root));
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
          this.progressTimers.set(
            root,
            setTimeout(() => {
              this.progressTimers.delete(root);
              this.changed.fire(root);
            }, 300),
          );
        }
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('patchlens.databaseLocation')) this.syncWatchers();
        if (['patchlens.include', 'patchlens.exclude', 'patchlens.databaseLocation', 'patchlens.model'].some((k) => e.affectsConfiguration(k)))
          this.invalidate();
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
      this.s.connections.report(root, error);
    }
    const [indexed, disk] = await Promise.all([
      summary ? this.s.engine.request('images', { dbDir }).catch(() => []) : Promise.resolve([]),
      listDiskImages(root, { include: settings.include, exclude: settings.exclude, skipDirs: [dbDir], limit: LIST_LIMIT }).catch(() => undefined),
    ]);
    if (summary) this.s.skippedFiles.set(root, summary.failed);
    // Archives are folders whose members the engine lists a page at a time when one is expanded.
    const split = splitByArchive(disk?.archives ?? [], indexed, summary?.failed ?? []);
    const entries = classifyImages(disk?.images, split.indexed, split.failed, this.s.datasets.databaseSetting(root).choice !== undefined);
    const counts = countStatuses(entries);
    for (const a of split.archives) for (const [k, n] of Object.entries(archiveCounts(a)) as [keyof StatusCounts, number][]) counts[k] += n;
    return {
      root,
      dbDir,
      summary,
      error,
      entries,
      archives: split.archives,
      counts,
      include: settings.include,
      exclude: settings.exclude,
      truncated: disk?.truncated ?? false,
    };
  }

  /** The last predictability computed for the database's current generation. */
  predictability(dbDir: string, generation: number): StoredPredictability | undefined {
    return this.stored<StoredPredictability>(PREDICTABILITY_KEY, dbDir, generation);
  }

  setPredictability(dbDir: string, p: StoredPredictability): Promise<void> {
    return this.store(PREDICTABILITY_KEY, dbDir, p);
  }

  /** The last rollout statistic computed for the database's current generation. */
  rolloutStatistic(dbDir: string, generation: number): StoredRolloutStatistic | undefined {
    return this.stored<StoredRolloutStatistic>(ROLLOUT_KEY, dbDir, generation);
  }

  setRolloutStatistic(dbDir: string, r: StoredRolloutStatistic): Promise<void> {
    return this.store(ROLLOUT_KEY, dbDir, r);
  }

  /** The last fidelity report measured for the database's current generation. */
  fidelity(dbDir: string, generation: number): StoredFidelity | undefined {
    return this.stored<StoredFidelity>(FIDELITY_KEY, dbDir, generation);
  }

  setFidelity(dbDir: string, f: StoredFidelity): Promise<void> {
    return this.store(FIDELITY_KEY, dbDir, f);
  }

  /** A measurement kept in the workspace state per database, valid for the generation it was made on. */
  private stored<T extends { readonly generation: number }>(key: string, dbDir: string, generation: number): T | undefined {
    const v = this.s.context.workspaceState.get<Record<string, T>>(key, {})[dbDir];
    return v && v.generation === generation ? v : undefined;
  }

  private async store<T>(key: string, dbDir: string, value: T): Promise<void> {
    const all = { ...this.s.context.workspaceState.get<Record<string, T>>(key, {}), [dbDir]: value };
    await this.s.context.workspaceState.update(key, all);
    this.changed.fire(undefined);
  }

  /** Watches each dataset's images so statuses (changed, new, deleted) stay current. */
  private syncWatchers(): void {
    // Keyed by root and database folder: a databaseLocation change moves the manifest watched.
    const wanted = new Map(this.s.datasets.list().map((d) => [`${d.root}\0${this.s.datasets.dbDirFor(d.root)}`, d.root]));
    this.watchers.sync(wanted, (root) => {
      const poke = (uri: vscode.Uri) => {
        if (!hiddenUnder(root, uri)) this.watchers.poke(root);
      };
      const dbDir = this.s.datasets.dbDirFor(root);
      return vscode.Disposable.from(
        watchFiles(root, imageGlob(), poke),
        // an archive added, grown or removed changes the folders of members the tree shows
        watchFiles(root, archiveGlob(), poke),
        // a local database's commits: the HNSW manifest (replaced by every build, also the CLI's) or a Lance table's
        // new version; one in object storage is read again on Refresh (the engine reopens it when a builder committed)
        ...(isObjectStoreUri(dbDir) ? [] : [watchFiles(dbDir, `{${MANIFEST_FILE},*.lance/_versions/*}`, () => this.watchers.poke(root))]),
      );
    });
  }

  dispose(): void {
    this.watchers.dispose();
    for (const t of this.progressTimers.values()) clearTimeout(t);
    for (const s of this.subs) s.dispose();
  }
}
