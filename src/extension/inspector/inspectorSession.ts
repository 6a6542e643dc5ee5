// The host side of one Patch Inspector webview: answers `ready` with the
// image, its database and settings, loads the token grid, and serves the
// webview's requests (query, crop, reconstruct, imagePixels) through the
// engine worker, so nothing heavy runs on the extension host's thread.
//
// Every message from the webview is checked before use: the schema of
// src/protocol.ts (by its Endpoint), then rows and columns against the loaded grid, and image
// paths against the images this session itself offered (its own and the
// retrieved ones) inside the dataset folder. Rejections are logged and, for
// requests, answered with an `error` so the webview never waits on them.
//
// No vscode import: the browser tests and the latency benchmark drive the
// same class with a real engine.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EngineClient } from '../../engine/engineClient';
import type { DbSummary, GridPayload, PatchThumbnail } from '../../engine/engineProtocol';
import { Endpoint, InvalidMessage } from '../../endpoint';
import {
  inspectorToHostSchema,
  MAX_OVERLAPS,
  type HostToInspector,
  type InspectorDatabase,
  type InspectorImage,
  type InspectorSettings,
  type InspectorStatus,
  type InspectorToHost,
  type InspectorView,
} from '../../protocol';
import { browserMime, resolveDatasetPath, toDatasetPath } from './datasetPaths';
import { LRUCache } from 'lru-cache';
import { storeProblem } from '../storeProblem';
import type { NeighbourhoodShape } from '../../core/vocabulary';
import { daidTable, retrievedTable, type ExportTable, type QueryAbout, type RetrievedRow } from '../../core/exportTable';
import type { QueryExportKind } from '../../protocol';
import { exportFileName } from '../saveTable';

/** Where an inspected image is searched, as resolved by the host (again on every restart). */
export interface InspectorTarget {
  /** The database that answers queries; undefined when no dataset has one to offer. */
  readonly dbDir?: string;
  /** The dataset folder that database describes. */
  readonly root?: string;
  readonly datasetName?: string;
  /** The dataset a "Build Database" builds: the image's own; undefined: ask the user. */
  readonly buildRoot?: string;
}

export interface InspectorHost {
  readonly engine: Pick<EngineClient, 'request'>;
  readonly log: { info(m: string): void; warn(m: string): void; error(m: string): void };
  post(message: HostToInspector): unknown;
  locate(file: string): InspectorTarget;
  settings(file: string): InspectorSettings;
  /** Model manifest for tokenizing images outside the database (workspace trust applied). */
  model(file: string): string | undefined;
  /** Webview URI of the file, or '' when the webview cannot load it directly. */
  imageSrc(file: string): string;
  isBuilding(root: string): boolean;
  /** Builds the dataset's database (root undefined: ask which); resolves when it finished or failed. */
  build(root: string | undefined): Promise<unknown>;
  /** Saves key shape and h as the dataset's settings and rebuilds its database with them; resolves when it finished or failed. */
  rebuildWithKeys(root: string, keys: { shape: NeighbourhoodShape; hops: number }): Promise<unknown>;
  /** Opens another image in the inspector with a patch selected. */
  /** `keep`: a kept tab (a double click) instead of the preview tab a jump reuses; `view`: this inspector's view settings, for the one it opens. */
  openPatch(file: string, row: number, col: number, keep: boolean, view: InspectorView | undefined): void;
  /** Opens pair `rank` of duplicate search `searchId` side by side (the Duplicates view's command). */
  openDuplicatePair?(searchId: number, rank: number): void;
  showLog(): void;
  /** Asks where to save an export table and writes it (a save dialog); tells the user how it went. */
  saveExport(table: ExportTable, defaultName: string): Promise<unknown>;
}

/** The last query answered in an inspector, kept for exports. */
interface LastQuery {
  readonly about: QueryAbout;
  readonly results: readonly RetrievedRow[];
  readonly tokens: Int32Array;
  readonly p: Float64Array;
}

/** The cells an image shares with another one, lit when it is opened from a duplicate pair. */
export interface SharedCells {
  /** The other image's path (for the banner). */
  readonly other: string;
  readonly score: number;
  readonly sharedCells: number;
  /** Row-major cell indices in this image. */
  readonly cells: Int32Array;
}

/** Thumbnail size in pixels (shown at 48 CSS pixels; sharp on 2x screens). */
const THUMBNAIL_SIZE = 96;
/** An h-hop neighbourhood's crop for Compare on hover (shown at 160 CSS pixels). */
const NEIGHBOURHOOD_SIZE = 320;
/** Largest side of the PNG the engine makes for images the webview cannot decode (TIFF). */
const CONVERTED_MAX_SIDE = 2048;
/** Largest file sent to the webview as is. */
const MAX_IMAGE_BYTES = 256 << 20;
const GRID_TIMEOUT_MS = 180_000;
/** A rollout with exact search over a large database takes minutes; it can be cancelled. */
const ROLLOUT_TIMEOUT_MS = 30 * 60_000;

/** Thumbnails of retrieved patches, shared by every inspector; the least recently used dropped first. */
const thumbnailCache = new LRUCache<string, Promise<PatchThumbnail>>({ max: 1000 });

export class InspectorSession {
  /** Bumped on every (re)start and on dispose: answers for an older epoch are dropped. */
  private epoch = 0;
  private target: InspectorTarget = {};
  private summary?: DbSummary;
  private grid?: GridPayload;
  private gridPromise?: Promise<GridPayload>;
  private pendingSelect?: { row: number; col: number };
  /** View settings carried in from the inspector a jump came from (sent with every init; the webview applies them to a fresh view only). */
  private carriedView?: InspectorView;
  /** The webview's view settings, as it last reported them. */
  private currentView?: InspectorView;
  /** Lit after every grid (kept across restarts until the webview clears it). */
  private shared?: SharedCells;
  /** Duplicate pairs this session listed as overlaps; openOverlap accepts only these. */
  private readonly offeredPairs = new Set<string>();
  /** Dataset paths this session sent to the webview; crop and openPatch accept only these. */
  private readonly offered = new Set<string>();
  /** The model manifest for this start (model settings and trust changes restart the session). */
  private model?: { path: string | undefined };
  private disposed = false;
  /** The rollout running in the engine (its request id once sent). */
  private running?: { id?: number };
  /** The last query answered, for exports (kept across restarts: it describes what the webview shows). */
  private lastQuery?: LastQuery;

  private markReady!: () => void;
  /** Settles when the webview's script first reports `ready` (its page is loaded). */
  readonly ready = new Promise<void>((resolve) => (this.markReady = resolve));

  /** Checks what the webview sends, answers its requests (an `error` for a rejected one) and drops answers from before a restart. */
  private readonly endpoint: Endpoint<HostToInspector, InspectorToHost>;

  constructor(
    /** Absolute path of the inspected image. */
    readonly file: string,
    private readonly host: InspectorHost,
  ) {
    this.endpoint = new Endpoint<HostToInspector, InspectorToHost>({
      name: `Inspector (${this.name})`,
      schema: inspectorToHostSchema,
      post: (m) => this.host.post(m),
      onRejected: (reason) => this.host.log.warn(`Inspector (${this.name}): rejected a message from the webview: ${reason}`),
      onFailed: (type, e) => this.host.log.error(`Inspector (${this.name}): ${type} failed: ${e.message}`),
    })
      .on('ready', () => {
        this.markReady();
        void this.start();
      })
      .on('reload', () => void this.start())
      .on('build', () => void this.build())
      .on('rebuildWithKeys', (m) => {
        const root = this.target.buildRoot;
        if (!root) throw new InvalidMessage('this image belongs to no dataset whose database could be rebuilt');
        void this.build({ shape: m.shape, hops: m.hops });
      })
      .on('showLog', () => this.host.showLog())
      .on('export', (m) => {
        const t = this.exportTable(m.kind);
        if (!t) throw new InvalidMessage('there is no query to export yet');
        void this.host.saveExport(t.table, t.defaultName);
      })
      .on('cancelRollout', () => this.cancelRollout())
      .on('openOverlap', (m) => {
        if (!this.offeredPairs.has(`${m.searchId}:${m.rank}`)) throw new InvalidMessage(`pair ${m.rank} of search ${m.searchId} was not offered`);
        this.host.openDuplicatePair?.(m.searchId, m.rank);
      })
      .on('clearShared', () => {
        this.shared = undefined;
      })
      .on('log', (m) => this.host.log[m.level](`Inspector (${this.name}): ${m.message}`))
      .on('openPatch', (m) => {
        const file = this.offeredFile(m.image);
        this.checkCell(m.row, m.col, this.summary);
        this.host.openPatch(file, m.row, m.col, m.keep === true, this.view);
      })
      .on('view', (m) => {
        this.currentView = m.view;
      })
      .handle('query', (m) => this.query(m))
      .handle('crop', (m) => this.crop(m))
      .handle('reconstruct', (m) => this.reconstruct(m))
      .handle('imagePixels', (m) => this.imagePixels(m))
      .handle('rollout', (m) => this.rollout(m))
      .handle('overlaps', (m) => this.overlaps(m));
  }

  get name(): string {
    return path.basename(this.file);
  }

  /** The dataset folder of the database in use (to restart after its build). */
  get root(): string | undefined {
    return this.target.root ?? this.target.buildRoot;
  }

  /** Whether the session shows a database (its summary is loaded), not a 'no database' or 'building' state. */
  get hasDatabase(): boolean {
    return this.summary !== undefined;
  }

  /** The view settings a jump from here carries on: the webview's own once it reported them, else those it was opened with. */
  get view(): InspectorView | undefined {
    return this.currentView ?? this.carriedView;
  }

  /** Opens the view with another inspector's settings (a jump), unless the webview restores a view of its own for this image. */
  carryView(view: InspectorView): void {
    this.carriedView = view;
  }

  /** Selects a patch once the grid is there (the inspector was opened from a retrieved patch). */
  select(row: number, col: number): void {
    if (this.grid) this.postSelect(row, col);
    else this.pendingSelect = { row, col };
  }

  /** Lights the cells this image shares with another (now, or once the grid is there). */
  showShared(shared: SharedCells): void {
    this.shared = shared;
    if (this.grid) this.postShared();
  }

  private postShared(): void {
    const s = this.shared;
    const g = this.grid;
    if (!s || !g) return;
    const n = g.rows * g.cols;
    this.host.post({ type: 'shared', other: s.other, score: s.score, sharedCells: s.sharedCells, cells: s.cells.filter((c) => c >= 0 && c < n) });
  }

  /** The last query's table of a kind and a file name for it; undefined before the first query. */
  exportTable(kind: QueryExportKind): { table: ExportTable; defaultName: string } | undefined {
    const q = this.lastQuery;
    if (!q) return undefined;
    const table = kind === 'retrieved' ? retrievedTable(q.about, q.results) : daidTable(q.about, q.tokens, q.p);
    return { table, defaultName: exportFileName(kind, q.about.image, q.about) };
  }

  /** Handles one message from the webview; returns it once validated (undefined if rejected). */
  receive(raw: unknown): InspectorToHost | undefined {
    return this.disposed ? undefined : this.endpoint.receive(raw);
  }

  /** Resolved once per start: it reads settings files (in an untrusted workspace) on this thread. */
  private modelPath(): string | undefined {
    return (this.model ??= { path: this.host.model(this.file) }).path;
  }

  // ------------------------------------------------------------ start

  /** Sends `init` and then the grid (again after a build or a settings change). */
  async start(): Promise<void> {
    const epoch = ++this.epoch;
    this.endpoint.reset();
    const live = () => epoch === this.epoch && !this.disposed;
    this.grid = undefined;
    this.gridPromise = undefined;
    this.summary = undefined;
    this.model = undefined;
    const previousRoot = this.target.root;
    const t = (this.target = this.host.locate(this.file));
    // The list drawn before a restart stays until the next answer and may still ask for its
    // thumbnails: keep what was offered while the dataset root is the same.
    if (t.root !== previousRoot) this.offered.clear();
    const settings = this.host.settings(this.file);
    const relPath = t.root ? toDatasetPath(t.root, this.file) : undefined;
    if (relPath) this.offered.add(relPath);
    let image: InspectorImage = { name: this.name, path: relPath ?? this.file, src: this.host.imageSrc(this.file) };
    const init = (database: InspectorDatabase | null, status: InspectorStatus) =>
      this.host.post({ type: 'init', image, database, settings, status, ...(this.carriedView ? { view: this.carriedView } : {}) });

    if (!t.dbDir) {
      const building = t.buildRoot !== undefined && this.host.isBuilding(t.buildRoot);
      init(null, building ? { state: 'building', message: 'Building the patch database…', canBuild: false } : this.noDatabase());
      return;
    }
    let summary: DbSummary | null;
    try {
      summary = await this.host.engine.request('summary', { dbDir: t.dbDir });
    } catch (err) {
      if (live()) init(null, this.failure(err));
      return;
    }
    if (!live()) return;
    if (!summary) {
      const building = this.host.isBuilding(t.root ?? '');
      init(
        null,
        building ? { state: 'building', message: `Building the patch database of ${t.datasetName ?? 'this dataset'}…`, canBuild: false } : this.noDatabase(),
      );
      return;
    }
    this.summary = summary;
    if (relPath) {
      // captions, prompts, categories and JSON fields of the image's source, when it has any
      const meta = await this.host.engine.request('metadata', { dbDir: t.dbDir, images: [relPath] }).then(
        (r) => r[0],
        () => null,
      );
      if (!live()) return;
      if (meta)
        image = {
          ...image,
          metadata: Object.entries(meta)
            .slice(0, 64)
            .map(([name, value]) => ({ name: name.slice(0, 256), value: value.slice(0, 8192) })),
        };
    }
    init(
      {
        dataset: t.datasetName ?? path.basename(summary.root),
        model: summary.model.name,
        rows: summary.model.rows,
        cols: summary.model.cols,
        codebookSize: summary.model.codebookSize,
        hasDecoder: summary.model.hasDecoder,
        keys: summary.keys,
        images: summary.images,
        entries: summary.entries,
      },
      { state: 'loading', message: 'Reading the token grid…', canBuild: false },
    );
    try {
      const grid = await this.loadGrid();
      if (!live()) return;
      const cells = new Float32Array(grid.rows * grid.cols * 4);
      grid.cells.forEach((c, i) => cells.set([c.x, c.y, c.width, c.height], i * 4));
      this.host.post({
        type: 'grid',
        width: grid.width,
        height: grid.height,
        rows: grid.rows,
        cols: grid.cols,
        inDatabase: grid.inDatabase,
        tokens: grid.tokens,
        distances: grid.distances,
        cells,
      });
      this.host.post({ type: 'status', status: { state: 'ready', message: '', canBuild: false } });
      if (this.pendingSelect) {
        const { row, col } = this.pendingSelect;
        this.pendingSelect = undefined;
        this.postSelect(row, col);
      }
      this.postShared();
    } catch (err) {
      if (live()) this.host.post({ type: 'status', status: this.failure(err) });
    }
  }

  private loadGrid(): Promise<GridPayload> {
    const t = this.target;
    if (!this.gridPromise) {
      this.gridPromise = this.host.engine.request('grid', { dbDir: t.dbDir!, image: this.file, model: this.modelPath() }, { timeoutMs: GRID_TIMEOUT_MS });
      this.gridPromise.then(
        (g) => (this.grid = g),
        () => (this.gridPromise = undefined),
      );
    }
    return this.gridPromise;
  }

  private noDatabase(): InspectorStatus {
    const t = this.target;
    if (t.buildRoot) {
      return {
        state: 'noDatabase',
        message: `${path.basename(t.buildRoot)} has no patch database yet. Build it to see this image's tokens and search its patches.`,
        canBuild: true,
      };
    }
    return {
      state: 'noDatabase',
      message: 'This image is outside the open dataset folders, and none of them has a patch database to search. Build one to inspect patches.',
      canBuild: true,
    };
  }

  private failure(err: unknown): InspectorStatus {
    const e = err instanceof Error ? err : new Error(String(err));
    this.host.log.error(`Inspector (${this.name}): ${e.message}`);
    if (e.name === 'NoDatabaseError') return this.noDatabase();
    // A store that refuses the credentials or cannot be reached: the line without the CLI's hint, and the command that fixes it.
    const store = storeProblem(e.message);
    if (store) return { state: 'error', message: `${store.line}. Run Patch Lens: Set Storage Credentials… to change them.`, canBuild: false };
    // The engine names damage by its error class (carried across the worker), so only then is Rebuild offered.
    return { state: 'error', message: e.message, canBuild: e.name === 'RebuildNeededError' && this.target.buildRoot !== undefined };
  }

  /** Builds (or, with keys, rebuilds with those keys) the image's dataset, then starts again. */
  private async build(keys?: { shape: NeighbourhoodShape; hops: number }): Promise<void> {
    const root = this.target.buildRoot;
    const what = keys
      ? `Rebuilding the patch database of ${path.basename(root!)} with ${keys.shape} keys, h = ${keys.hops}…`
      : root
        ? `Building the patch database of ${path.basename(root)}…`
        : 'Choose the dataset to build…';
    this.host.post({ type: 'status', status: { state: 'building', message: what, canBuild: false } });
    try {
      await (keys ? this.host.rebuildWithKeys(root!, keys) : this.host.build(root));
    } finally {
      if (!this.disposed) await this.start();
    }
  }

  private postSelect(row: number, col: number): void {
    if (!this.grid || row >= this.grid.rows || col >= this.grid.cols) {
      this.host.log.warn(`Inspector (${this.name}): patch (${row}, ${col}) is outside the grid; not selected`);
      return;
    }
    this.host.post({ type: 'select', row, col });
  }

  // ------------------------------------------------------------ checks

  /** Rows and columns must lie inside the grid of the database in use. */
  private checkCell(row: number, col: number, within: { rows: number; cols: number } | DbSummary | undefined): void {
    const size = within && 'model' in within ? within.model : within;
    if (!size) throw new InvalidMessage('there is no grid to select from yet');
    if (row >= size.rows || col >= size.cols) throw new InvalidMessage(`patch (${row}, ${col}) is outside the ${size.rows}x${size.cols} grid`);
  }

  /** The absolute file of a dataset path this session offered (the image itself or a retrieved one). */
  private offeredFile(image: string): string {
    const root = this.target.root;
    if (!root) throw new InvalidMessage('there is no dataset to open images from');
    if (!this.offered.has(image)) throw new InvalidMessage(`${JSON.stringify(image.slice(0, 200))} is not an image this inspector listed`);
    const r = resolveDatasetPath(root, image);
    if (!r.ok) throw new InvalidMessage(r.reason);
    return r.file;
  }

  private requireGrid(): GridPayload {
    if (!this.grid || !this.target.dbDir) throw new InvalidMessage('the token grid is not loaded yet');
    return this.grid;
  }

  // ------------------------------------------------------------ requests

  private async query(m: Extract<InspectorToHost, { type: 'query' }>): Promise<HostToInspector> {
    const grid = this.requireGrid();
    this.checkCell(m.row, m.col, grid);
    const s = this.host.settings(this.file);
    const r = await this.host.engine.request('query', {
      dbDir: this.target.dbDir!,
      image: this.file,
      row: m.row,
      col: m.col,
      options: { k: m.k, excludeSelf: m.excludeSelf, queryKeys: s.queryKeys, temperature: s.temperature },
      model: this.modelPath(),
    });
    for (const p of r.results) this.offered.add(p.image);
    // Only the fields the wire carries (the schema is strict), in the engine's shape; an empty caption is none.
    const results = r.results.map(({ image, row, col, token, distance, caption }) =>
      !caption ? { image, row, col, token, distance } : { image, row, col, token, distance, caption },
    );
    const distribution = r.distribution.map(({ token, p, distance }) => ({ token, p, distance }));
    const t = this.target;
    const keys = this.summary?.keys;
    this.lastQuery = {
      about: {
        dataset: t.datasetName ?? (t.root ? path.basename(t.root) : ''),
        image: (t.root ? toDatasetPath(t.root, this.file) : undefined) ?? this.file,
        row: m.row,
        col: m.col,
        token: r.query.token,
        k: m.k,
        temperature: s.temperature,
        keys: keys ? `${s.queryKeys} keys, ${keys.shape} h=${keys.hops}, border ${keys.border}` : `${s.queryKeys} keys`,
      },
      results,
      tokens: Int32Array.from(distribution, (d) => d.token),
      p: Float64Array.from(distribution, (d) => d.p),
    };
    return { type: 'queryResult', inReplyTo: m.messageId, row: m.row, col: m.col, token: r.query.token, searchMs: r.searchMs, results, distribution };
  }

  /** The images this one overlaps most, from a duplicate search of its database (images in the database only). */
  private async overlaps(m: Extract<InspectorToHost, { type: 'overlaps' }>): Promise<HostToInspector> {
    const grid = this.requireGrid();
    const t = this.target;
    const rel = t.root ? toDatasetPath(t.root, this.file) : undefined;
    if (!grid.inDatabase || !rel || !t.dbDir) return { type: 'overlapsResult', inReplyTo: m.messageId, overlaps: [] };
    const r = await this.host.engine.request('overlaps', { dbDir: t.dbDir, image: rel, limit: MAX_OVERLAPS }, { timeoutMs: 0 });
    const overlaps = r.pairs.map((p) => {
      this.offeredPairs.add(`${r.searchId}:${p.rank}`);
      return { searchId: r.searchId, rank: p.rank, other: p.a === rel ? p.b : p.a, score: p.score, sharedCells: p.sharedCells, identical: p.identical };
    });
    return { type: 'overlapsResult', inReplyTo: m.messageId, overlaps };
  }

  private async crop(m: Extract<InspectorToHost, { type: 'crop' }>): Promise<HostToInspector> {
    this.offeredFile(m.image);
    const summary = this.summary;
    this.checkCell(m.row, m.col, summary);
    const dbDir = this.target.dbDir!;
    const key = `${dbDir}\0${summary!.generation}\0${m.image}\0${m.row}\0${m.col}\0${m.hops ?? ''}`;
    let p = thumbnailCache.get(key);
    if (!p) {
      const around = m.hops === undefined ? { size: THUMBNAIL_SIZE } : { reach: m.hops, size: NEIGHBOURHOOD_SIZE };
      p = this.host.engine.request(
        'thumbnail',
        { dbDir, image: m.image, cell: { row: m.row, col: m.col }, ...around, model: this.modelPath() },
        { timeoutMs: GRID_TIMEOUT_MS },
      );
      p.catch(() => thumbnailCache.delete(key));
      thumbnailCache.set(key, p);
    }
    const t = await p;
    // A copy: the cached bytes stay usable whatever the transport does with the message's buffers.
    return { type: 'cropResult', inReplyTo: m.messageId, png: t.png.slice(), window: t.window };
  }

  private async reconstruct(m: Extract<InspectorToHost, { type: 'reconstruct' }>): Promise<HostToInspector> {
    this.requireGrid();
    if (!this.summary?.model.hasDecoder) throw new InvalidMessage(`the model ${this.summary?.model.name ?? ''} has no decoder`);
    const png = await this.host.engine.request(
      'reconstruct',
      { dbDir: this.target.dbDir!, image: this.file, model: this.modelPath() },
      { timeoutMs: GRID_TIMEOUT_MS },
    );
    return { type: 'reconstruction', inReplyTo: m.messageId, png };
  }

  /** The image's bytes when the browser decodes its format, else a PNG from the engine. */
  private async imagePixels(m: Extract<InspectorToHost, { type: 'imagePixels' }>): Promise<HostToInspector> {
    const mime = browserMime(this.file);
    if (mime) {
      // a member of an archive has no file of its own: the engine reads it from its archive
      const st = await fs.promises.stat(this.file).catch(() => undefined);
      if (st && st.size > MAX_IMAGE_BYTES)
        throw new Error(`${this.name} is ${Math.round(st.size / 2 ** 20)} MB, more than the ${MAX_IMAGE_BYTES / 2 ** 20} MB the inspector shows`);
      const buf = st ? await fs.promises.readFile(this.file) : await this.host.engine.request('readImage', { file: this.file }, { timeoutMs: GRID_TIMEOUT_MS });
      return { type: 'imagePixels', inReplyTo: m.messageId, bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), mime };
    }
    // The engine decodes the format (TIFF); the webview stretches the square PNG back to the image's size.
    const grid = this.grid ?? (this.target.dbDir ? await this.loadGrid() : undefined);
    if (!grid) throw new Error(`${this.name} is a format the webview cannot show, and without a database its size is unknown`);
    const size = Math.min(CONVERTED_MAX_SIDE, Math.max(grid.width, grid.height));
    const png = await this.host.engine.request(
      'crop',
      { file: this.file, rect: { x: 0, y: 0, width: grid.width, height: grid.height }, size, imageSize: { width: grid.width, height: grid.height } },
      { timeoutMs: GRID_TIMEOUT_MS },
    );
    return { type: 'imagePixels', inReplyTo: m.messageId, bytes: png, mime: 'image/png' };
  }

  /** The database generates the rest of the image from a cell, in the engine worker; one rollout at a time. */
  private async rollout(m: Extract<InspectorToHost, { type: 'rollout' }>): Promise<HostToInspector> {
    const grid = this.requireGrid();
    this.checkCell(m.row, m.col, grid);
    this.cancelRollout();
    const run: { id?: number } = {};
    this.running = run;
    try {
      const r = await this.host.engine.request(
        'rollout',
        {
          dbDir: this.target.dbDir!,
          image: this.file,
          options: {
            from: { row: m.row, col: m.col },
            k: m.k,
            temperature: m.temperature,
            mode: m.mode,
            seed: m.mode === 'sample' ? m.seed : undefined,
            includeSelf: !m.excludeSelf,
          },
          model: this.modelPath(),
          decode: this.summary?.model.hasDecoder ?? false,
        },
        {
          timeoutMs: ROLLOUT_TIMEOUT_MS,
          onStart: (id) => (run.id = id),
          onSteps: (done, total) => {
            if (this.running === run && !this.disposed) this.host.post({ type: 'rolloutProgress', done, total });
          },
        },
      );
      // Its source images may be opened and thumbnailed, as retrieved patches are.
      for (const image of r.images) this.offered.add(image);
      return {
        type: 'rolloutResult',
        inReplyTo: m.messageId,
        from: r.from,
        rows: r.rows,
        cols: r.cols,
        mode: r.mode,
        k: r.k,
        tokens: r.tokens,
        original: r.original,
        images: r.images,
        sourceImage: r.sourceImage,
        sourceRow: r.sourceRow,
        sourceCol: r.sourceCol,
        sourceDistance: r.sourceDistance,
        stepStart: r.stepStart,
        stepTokens: r.stepTokens,
        stepP: r.stepP,
        agreement: r.agreement,
        topSource: { image: r.topSource.image ?? '', share: r.topSource.share },
        longestCopiedRun: { image: r.longestCopiedRun.image ?? '', cells: r.longestCopiedRun.cells },
        generated: r.generated,
        sourceCounts: r.sourceCounts.map((c) => ({ image: c.image, cells: c.cells })),
        elapsedMs: r.elapsedMs,
        ...(r.png ? { png: r.png } : {}),
      };
    } finally {
      if (this.running === run) this.running = undefined;
    }
  }

  private cancelRollout(): void {
    const id = this.running?.id;
    this.running = undefined;
    if (id !== undefined) void this.host.engine.request('cancel', { buildId: id }).catch(() => undefined);
  }

  /** Sends the current settings (k, exclude self, temperature, query keys). */
  sendSettings(): void {
    if (!this.disposed) this.host.post({ type: 'settings', settings: this.host.settings(this.file) });
  }

  dispose(): void {
    this.cancelRollout();
    this.disposed = true;
    this.epoch++;
    this.endpoint.dispose();
  }
}
