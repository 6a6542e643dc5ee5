// The Patch Inspector webview: one image with its token grid; select a patch
// to see its h-hop neighbourhood, the patches the database retrieves for it,
// their DAiD distribution, and (with a decoder) the reconstruction. Talks to
// the host only through src/protocol.ts; keeps its view state with
// getState/setState so a hidden or reloaded tab comes back as it was.

import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-toolbar-button/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-icon/index.js';
import './inspector.css';

import { hasEntry, neighbourCount } from '../../src/core/neighbourhood';
import { DEFAULT_KEYS, HOPS, KEY_SHAPE_LABELS, KEY_SHAPES, type NeighbourhoodShape } from '../../src/core/vocabulary';
import {
  AUTO_OVERLAP_IMAGES,
  gridConsistent,
  hostToInspectorSchema,
  INSPECTOR_REPLIES,
  rolloutResultConsistent,
  type HostToInspector,
  type InspectorDatabase,
  type InspectorImage,
  type InspectorReplies,
  type InspectorSettings,
  type InspectorStatus,
  type InspectorToHost,
  type InspectorView,
  type QueryExportKind,
} from '../../src/protocol';
import { formatCell, formatCount, formatDistance, formatDuration, formatGrid } from '../../src/core/format';
import { displayName, el, replaceChildren } from '../shared/dom';
import { HostConnection, HostError, type VsCodeApi } from '../shared/hostConnection';
import { DaidChart } from './daidChart';
import { GridGeometry } from './gridGeometry';
import { ImageViewport } from './imageViewport';
import { ReconstructionPane } from './reconstructionPane';
import { RolloutPane } from './rolloutPane';
import { RetrievedList, swatch, type RetrievedPatch, type Thumbnail } from './retrievedList';
import { TokenUsage } from './tokenUsage';
import { ComparePane, type CompareSide } from './comparePane';
import { thumbnailWindow } from '../../src/core/geometry';
import { OverlapsPane } from './overlapsPane';
import { DEFAULT_VIEW_STATE, restoreViewState, type Cell, type ViewState } from './viewState';
import { CODE_KINDS, captionOf, splitArchiveId } from '../../src/core/datasetLayout';
import { LRUCache } from 'lru-cache';

type GridMessage = Extract<HostToInspector, { type: 'grid' }>;

/** Properties of the vscode-elements used here (the package's classes are not worth importing for types). */
type ToolbarButton = HTMLElement & { checked: boolean; disabled?: boolean };
type Select = HTMLElement & { value: string };
type Checkbox = HTMLElement & { checked: boolean };

const THUMBNAIL_CACHE = 400;

class InspectorApp {
  private state: ViewState;
  private readonly conn: HostConnection<InspectorToHost, HostToInspector, InspectorReplies>;
  private image?: InspectorImage;
  private database: InspectorDatabase | null = null;
  private settings?: InspectorSettings;
  private grid?: GridMessage;
  private geometry?: GridGeometry;
  private imageUrl?: string;
  private originalForAnalysis?: Promise<ImageBitmap>;
  /** The image file's bytes from the host, asked for once per image (display and error map share them). */
  private pixels?: Promise<InspectorReplies['imagePixels']>;
  private viewRestored = false;
  private pendingSelect?: Cell;
  private querySeq = 0;
  /** The answered query the list shows: its cell and token (the left side of Compare on hover). */
  private listed?: { cell: Cell; token: number };
  private readonly compare = new ComparePane();
  /** Bumped by every hover change, so a crop that arrives late draws nothing stale. */
  private previewSeq = 0;
  /** Thumbnails by patch; the least recently used one's object URL is revoked when it is dropped. */
  private readonly thumbnails = new LRUCache<string, Promise<Thumbnail>>({
    max: THUMBNAIL_CACHE,
    dispose: (t, _key, reason) => {
      if (reason === 'evict')
        void t.then(
          (o) => URL.revokeObjectURL(o.url),
          () => {},
        );
    },
  });
  private saveTimer?: ReturnType<typeof setTimeout>;
  /** The view settings last reported to the host (JSON). */
  private reportedView = '';

  // ---- parts of the page
  private readonly viewport: ImageViewport;
  private readonly list: RetrievedList;
  private readonly daid: DaidChart;
  /** Export buttons of the Retrieved and DAiD sections: enabled once a query has answered. */
  private readonly exportButtons: Record<QueryExportKind, ToolbarButton>;
  private readonly usage: TokenUsage;
  private readonly overlaps: OverlapsPane;
  private overlapsSeq = 0;
  private readonly recon: ReconstructionPane;
  private readonly rollout: RolloutPane;
  private readonly title = el('span', { class: 'title', 'data-testid': 'image-name' });
  private readonly subtitle = el('span', { class: 'subtitle' });
  /** The image source's caption (or prompt); every metadata field in its tooltip. */
  private readonly captionLine = el('span', { class: 'image-caption', 'data-testid': 'image-caption' });
  private readonly dbBadge = el('span', { class: 'db-info', 'data-testid': 'database-info' });
  private readonly statusBox = el('div', { class: 'status-overlay', 'data-testid': 'status', hidden: true });
  private readonly patchInfo = el('div', { class: 'patch-info', 'data-testid': 'patch-info' });
  private readonly listHeader = el('div', { class: 'list-header', 'data-testid': 'retrieved-header' });
  /** Under the toolbar while the neighbourhood drawn is not the database's keys: says so and offers a rebuild with it. */
  private readonly keysBanner = el('div', { class: 'keys-banner', role: 'status', 'data-testid': 'keys-banner', hidden: true });
  /** The host's last status; the page adds its own "drawing the image" while the image decodes. */
  private hostStatus: InspectorStatus = { state: 'loading', message: '', canBuild: false };
  /** Whether the image element has decoded (or failed to) since the last init. */
  private imageShown = false;
  private readonly gridButton: ToolbarButton;
  private readonly tokensButton: ToolbarButton;
  private readonly reconButton: ToolbarButton;
  private readonly shapeSelect: Select;
  private readonly hopsSelect: Select;
  private readonly excludeBox: Checkbox;

  constructor(private readonly api: VsCodeApi<ViewState>) {
    this.state = restoreViewState(api.getState());
    this.conn = new HostConnection<InspectorToHost, HostToInspector, InspectorReplies>(api as VsCodeApi<unknown>, hostToInspectorSchema, INSPECTOR_REPLIES, {
      consistent: (m) => (m.type === 'grid' ? gridConsistent(m) : m.type === 'rolloutResult' ? rolloutResultConsistent(m) : undefined),
      onRejected: (reason) => this.conn.post({ type: 'log', level: 'warn', message: `inspector webview rejected a message: ${reason}` }),
    });

    this.viewport = new ImageViewport({
      onSelect: (cell, how) => this.select(cell, how === 'click'),
      onQuery: () => {
        const s = this.viewport.getSelection();
        if (s) void this.query(s);
      },
      onViewChange: () => this.saveViewSoon(),
    });
    this.viewport.onImageLoad((ok, w, h) => this.onImageLoad(ok, w, h));
    this.list = new RetrievedList({
      onOpen: (p, keep) => this.conn.post({ type: 'openPatch', image: p.image, row: p.row, col: p.col, ...(keep ? { keep: true } : {}) }),
      loadThumbnail: (p) => this.thumbnail(p),
      onPreview: (p, rank, row) => this.preview(p, rank, row),
    });
    this.daid = new DaidChart({ onToken: (t) => this.toggleHighlight(t) });
    const exportQuery = (kind: QueryExportKind) => this.conn.post({ type: 'export', kind });
    this.exportButtons = {
      retrieved: exportButton('retrieved', 'retrieved patches', exportQuery),
      daid: exportButton('daid', 'DAiD distribution', exportQuery),
    };
    this.usage = new TokenUsage((t) => this.toggleHighlight(t));
    this.recon = new ReconstructionPane();
    this.overlaps = new OverlapsPane({
      onOpen: (o) => this.conn.post({ type: 'openOverlap', searchId: o.searchId, rank: o.rank }),
      onFind: () => void this.findOverlaps(),
      onClearShared: () => this.clearShared(),
    });
    this.rollout = new RolloutPane({
      run: async (q) => {
        const r = await this.conn.request({ type: 'rollout', ...q, excludeSelf: this.excludeSelf() }, 30 * 60_000);
        return {
          ...r,
          topSource: { image: r.topSource.image || null, share: r.topSource.share },
          longestCopiedRun: { image: r.longestCopiedRun.image || null, cells: r.longestCopiedRun.cells },
        };
      },
      cancel: () => this.conn.post({ type: 'cancelRollout' }),
      loadThumbnail: (p) => this.thumbnail(p),
      openPatch: (p) => this.conn.post({ type: 'openPatch', image: p.image, row: p.row, col: p.col }),
      originalImage: () => this.analysisImage(),
      showDistribution: (tokens, p, trueToken, temperature) => {
        this.daid.render(tokens, p, trueToken, temperature);
        // The chart shows a rollout step now, not the query its export saves: offered again with the next answer.
        this.exportButtons.daid.disabled = true;
      },
      onVisible: (visible) => this.element('viewer').classList.toggle('with-rollout', visible),
    });
    const rolloutButton = toolbarButton('debug-start', 'Rollout: let the database generate the rest of the image from the selected patch');
    rolloutButton.addEventListener('click', () => {
      (this.element('section-rollout') as HTMLElement & { open: boolean }).open = true;
      void this.rollout.start();
    });

    this.gridButton = toolbarButton('table', 'Show the patch grid', true);
    this.tokensButton = toolbarButton('symbol-color', 'Token map: colour each patch by its token id', true);
    this.reconButton = toolbarButton('split-horizontal', 'Reconstruction and error heatmap', true);
    const zoomOut = toolbarButton('zoom-out', 'Zoom out (−)');
    const zoomIn = toolbarButton('zoom-in', 'Zoom in (+)');
    const fit = toolbarButton('screen-normal', 'Fit to view (0)');
    this.shapeSelect = select(
      'shape',
      'Neighbourhood shape',
      KEY_SHAPES.map((s) => [s, KEY_SHAPE_LABELS[s]] as const),
    );
    this.hopsSelect = select(
      'hops',
      'Hops h',
      HOPS.map((h) => [String(h), `h = ${h}`] as const),
    );
    this.excludeBox = el('vscode-checkbox', { label: 'Exclude this image', 'data-testid': 'exclude-self' }) as Checkbox;
    this.excludeBox.textContent = 'Exclude this image';

    this.gridButton.addEventListener('change', () => this.update({ showGrid: this.gridButton.checked }));
    this.tokensButton.addEventListener('change', () => this.update({ overlay: this.tokensButton.checked ? 'tokens' : 'image' }));
    this.reconButton.addEventListener('change', () => this.update({ reconstruction: this.reconButton.checked }));
    zoomIn.addEventListener('click', () => this.viewport.zoomBy(1.25));
    zoomOut.addEventListener('click', () => this.viewport.zoomBy(0.8));
    fit.addEventListener('click', () => this.viewport.fit());
    this.shapeSelect.addEventListener('change', () => this.update({ shape: this.shapeSelect.value as NeighbourhoodShape }));
    this.hopsSelect.addEventListener('change', () => this.update({ hops: Number(this.hopsSelect.value) }));
    this.excludeBox.addEventListener('change', () => {
      this.update({ excludeSelf: this.excludeBox.checked });
      if (this.state.queried) void this.query(this.state.queried);
    });

    const toolbar = el(
      'div',
      { class: 'toolbar', role: 'toolbar', 'aria-label': 'Inspector' },
      el('div', { class: 'heading' }, el('vscode-icon', { name: 'symbol-array', class: 'heading-icon' }), this.title, this.subtitle, this.captionLine),
      this.dbBadge,
      el('div', { class: 'tool-group' }, this.gridButton, this.tokensButton, this.reconButton, rolloutButton),
      el(
        'div',
        { class: 'tool-group', title: 'The neighbourhood drawn around the selected patch. Drawn only: queries use the keys the database was built with.' },
        el('span', { class: 'tool-label' }, 'Neighbours'),
        this.shapeSelect,
        this.hopsSelect,
      ),
      el('div', { class: 'tool-group' }, zoomOut, this.viewport.zoomLabel, zoomIn, fit),
    );
    const viewer = el(
      'div',
      { class: 'viewer' },
      el('div', { class: 'viewport-wrap' }, this.viewport.element, this.statusBox),
      this.recon.element,
      this.rollout.viewer,
    );
    const sidebar = el(
      'div',
      { class: 'sidebar' },
      section('Patch', this.patchInfo, 'section-patch'),
      section('Rollout', this.rollout.controls, 'section-rollout'),
      section(
        'Retrieved patches',
        el('div', {}, el('div', { class: 'list-controls' }, this.listHeader, this.excludeBox), this.list.element),
        'section-retrieved',
        this.exportButtons.retrieved,
      ),
      section('DAiD distribution', this.daid.element, 'section-daid', this.exportButtons.daid),
      section('Codebook usage of this image', this.usage.element, 'section-usage'),
      section('Overlaps with other images', this.overlaps.element, 'section-overlaps'),
    );
    document.getElementById('root')!.replaceChildren(toolbar, this.keysBanner, el('div', { class: 'main' }, viewer, sidebar), this.compare.element);
    this.applyModes();
    this.renderPatchInfo();
    this.list.showMessage('Click a patch, or move with the arrow keys and press Enter, to retrieve its nearest patches.');

    this.conn.on('init', (m) => this.onInit(m));
    this.conn.on('status', (m) => this.showStatus(m.status));
    this.conn.on('grid', (m) => this.onGrid(m));
    this.conn.on('settings', (m) => this.onSettings(m.settings));
    this.conn.on('select', (m) => this.onSelectFromHost({ row: m.row, col: m.col }));
    this.conn.on('shared', (m) => {
      this.viewport.setSharedCells(m.cells);
      this.overlaps.setShared({ other: m.other, sharedCells: m.sharedCells, score: m.score });
    });
    this.conn.on('rolloutProgress', (m) => this.rollout.setProgress(m.done, m.total));
    window.addEventListener('error', (e) => this.conn.post({ type: 'log', level: 'error', message: `inspector webview: ${e.message}` }));
    this.conn.ready();
  }

  // ------------------------------------------------------------ host messages

  private onInit(m: Extract<HostToInspector, { type: 'init' }>): void {
    this.conn.cancelAll('the inspector was reloaded');
    const sameImage = this.state.image === m.image.path;
    // a fresh view (not this image's own, restored) starts with the settings of the inspector a jump came from
    if (!sameImage) this.state = { ...DEFAULT_VIEW_STATE, ...m.view, image: m.image.path };
    this.image = m.image;
    this.database = m.database;
    this.settings = m.settings;
    this.grid = undefined;
    this.geometry = undefined;
    this.rollout.setGeometry(undefined);
    this.rollout.setDefaultTemperature(m.settings.temperature);
    this.viewRestored = false;
    this.hidePreview();
    this.listed = undefined;
    this.clearThumbnails();
    this.originalForAnalysis = undefined;
    this.pixels = undefined;
    this.title.textContent = displayName(m.image.name);
    this.title.title = displayName(m.image.name);
    this.subtitle.textContent = m.image.path === m.image.name ? '' : displayName(m.image.path);
    this.subtitle.title = displayName(m.image.path);
    const meta = Object.fromEntries((m.image.metadata ?? []).map((f) => [f.name, f.value]));
    this.captionLine.textContent = captionOf(meta) ?? meta.category ?? '';
    this.captionLine.title = (m.image.metadata ?? []).map((f) => `${f.name}: ${f.value}`).join('\n');
    document.title = `Patch Inspector: ${displayName(m.image.name)}`;
    this.renderDatabaseInfo();
    this.imageShown = false;
    this.element('viewer').classList.add('image-pending');
    this.showImage(m.image);
    this.applyModes();
    this.showStatus(m.status);
    this.usage.clear();
    this.daid.clear('Select a patch to see the distribution over the tokens it retrieves.');
    this.setExportable(false);
    this.renderPatchInfo();
    this.saveViewSoon();
  }

  private onGrid(m: GridMessage): void {
    if (this.database && (m.rows !== this.database.rows || m.cols !== this.database.cols)) {
      this.conn.post({
        type: 'log',
        level: 'warn',
        message: `inspector webview rejected a grid of ${m.rows}x${m.cols} for a ${this.database.rows}x${this.database.cols} database`,
      });
      return;
    }
    this.grid = m;
    this.geometry = new GridGeometry(m.rows, m.cols, m.cells, m.width, m.height);
    this.viewport.setImageSize(m.width, m.height);
    const keys = this.database?.keys;
    this.viewport.setGrid(this.geometry, m.tokens, m.distances, (r, c) => !keys || hasEntry(m.rows, m.cols, keys.shape, keys.hops, keys.border, r, c));
    if (!this.viewRestored) {
      this.viewRestored = true;
      this.viewport.setView(this.state.zoom, this.state.centerX, this.state.centerY);
    }
    this.usage.render(m.tokens, this.database?.codebookSize, this.state.highlightToken);
    this.viewport.setHighlightToken(this.state.highlightToken);
    const g = this.geometry;
    const valid = (c: Cell | null) => (c && g.contains(c.row, c.col) ? c : null);
    this.state = { ...this.state, selection: valid(this.state.selection), queried: valid(this.state.queried) };
    this.viewport.setSelection(this.state.selection);
    this.recon.setSelection(this.state.selection);
    this.rollout.setGeometry(this.geometry);
    this.rollout.setSelection(this.state.selection);
    this.renderPatchInfo();
    if (this.pendingSelect) {
      const s = this.pendingSelect;
      this.pendingSelect = undefined;
      this.onSelectFromHost(s);
    } else if (this.state.queried) {
      void this.query(this.state.queried);
    } else {
      this.list.showMessage('Click a patch, or move with the arrow keys and press Enter, to retrieve its nearest patches.');
      this.listHeader.textContent = '';
    }
    if (this.state.reconstruction) void this.loadReconstruction();
    this.startOverlaps(m.inDatabase);
    this.renderStatus();
    this.element('viewer').dataset.ready = 'true';
  }

  // ------------------------------------------------------------ overlaps

  /** Finds the overlaps at once on a database small enough; else offers a button. */
  private startOverlaps(inDatabase: boolean): void {
    this.overlapsSeq++;
    if (!inDatabase) this.overlaps.showMessage('This image is not in the database, so no duplicate search covers it.');
    else if ((this.database?.images ?? 0) <= AUTO_OVERLAP_IMAGES) void this.findOverlaps();
    else this.overlaps.showMessage('Find the images this one shares patch content with (a duplicate search of the whole database).', 'info', true);
  }

  private async findOverlaps(): Promise<void> {
    const seq = ++this.overlapsSeq;
    this.overlaps.showMessage('Finding overlaps…');
    try {
      const r = await this.conn.request({ type: 'overlaps' }, 30 * 60_000);
      if (seq === this.overlapsSeq) this.overlaps.show(r.overlaps);
    } catch (e) {
      if (seq === this.overlapsSeq) this.overlaps.showMessage(`Cannot find overlaps: ${(e as Error).message}`, 'error', true);
    }
  }

  private clearShared(): void {
    this.viewport.setSharedCells(null);
    this.overlaps.setShared(null);
    this.conn.post({ type: 'clearShared' });
  }

  private onSettings(s: InspectorSettings): void {
    const before = this.settings;
    this.settings = s;
    this.rollout.setDefaultTemperature(s.temperature);
    this.applyModes();
    const changed =
      !before ||
      before.topK !== s.topK ||
      before.temperature !== s.temperature ||
      before.queryKeys !== s.queryKeys ||
      (this.state.excludeSelf === null && before.excludeSelf !== s.excludeSelf);
    if (changed && this.state.queried && this.grid) void this.query(this.state.queried);
  }

  private onSelectFromHost(cell: Cell): void {
    if (!this.geometry) {
      this.pendingSelect = cell;
      return;
    }
    if (!this.geometry.contains(cell.row, cell.col)) {
      this.conn.post({
        type: 'log',
        level: 'warn',
        message: `inspector webview rejected a selection (${cell.row}, ${cell.col}) outside the ${this.geometry.rows}x${this.geometry.cols} grid`,
      });
      return;
    }
    this.viewport.setSelection(cell, true);
    this.select(cell, true);
    // Ready for the arrow keys, but only when this view has the focus already: a select that
    // arrives late must not take it from VS Code (a quick pick open meanwhile closes on focus loss).
    if (document.hasFocus()) this.viewport.element.focus({ preventScroll: true });
  }

  private showStatus(s: InspectorStatus): void {
    this.hostStatus = s;
    this.renderStatus();
  }

  /**
   * The host's status; once it is ready, "drawing the image" until the image
   * has decoded (a 12-megapixel photo takes seconds), so no empty grid shows meanwhile.
   */
  private renderStatus(): void {
    const box = this.statusBox;
    const decoding = this.hostStatus.state === 'ready' && !this.imageShown;
    const size = this.grid ? ` (${formatCount(this.grid.width)} × ${formatCount(this.grid.height)} pixels)` : '';
    const s: InspectorStatus = decoding ? { state: 'loading', message: `Drawing the image${size}…`, canBuild: false } : this.hostStatus;
    box.dataset.state = s.state;
    box.dataset.phase = decoding ? 'image' : s.state;
    this.element('viewer').dataset.state = s.state;
    if (s.state === 'ready') {
      box.hidden = true;
      return;
    }
    const icon =
      s.state === 'loading' || s.state === 'building'
        ? el('vscode-progress-ring', { class: 'status-ring' })
        : el('vscode-icon', { name: s.state === 'error' ? 'error' : 'database', size: 28, class: 'status-icon' });
    const actions: HTMLElement[] = [];
    if (s.canBuild) actions.push(button('Build Database', 'database', () => this.conn.post({ type: 'build' }), 'build-database'));
    if (s.state === 'error') {
      actions.push(button('Retry', 'refresh', () => this.conn.post({ type: 'reload' }), 'retry', !s.canBuild));
      actions.push(button('Show Log', 'output', () => this.conn.post({ type: 'showLog' }), 'show-log', true));
    }
    replaceChildren(
      box,
      el(
        'div',
        { class: 'status-card', role: s.state === 'error' ? 'alert' : 'status' },
        icon,
        el('div', { class: 'status-message' }, s.message),
        actions.length ? el('div', { class: 'status-actions' }, ...actions) : null,
      ),
    );
    box.hidden = false;
  }

  // ------------------------------------------------------------ the image

  private showImage(image: InspectorImage): void {
    if (this.imageUrl) URL.revokeObjectURL(this.imageUrl);
    this.imageUrl = undefined;
    if (image.src) {
      this.viewport.setImage(image.src, 0, 0, image.name);
      return;
    }
    void this.imagePixels().then(
      (r) => {
        this.imageUrl = URL.createObjectURL(new Blob([r.bytes as Uint8Array<ArrayBuffer>], { type: r.mime }));
        this.viewport.setImage(this.imageUrl, this.grid?.width ?? 0, this.grid?.height ?? 0, image.name);
      },
      (e: Error) => {
        this.conn.post({ type: 'log', level: 'error', message: `inspector webview: the image could not be loaded: ${e.message}` });
        this.imageShown = true;
        this.element('viewer').classList.remove('image-pending');
        this.element('viewer').classList.add('image-failed');
        this.renderStatus();
      },
    );
  }

  private onImageLoad(ok: boolean, naturalWidth: number, naturalHeight: number): void {
    this.imageShown = true;
    this.element('viewer').classList.remove('image-pending');
    this.renderStatus();
    if (!ok) {
      this.conn.post({ type: 'log', level: 'warn', message: `inspector webview: the browser could not decode ${this.image?.name ?? 'the image'}` });
      this.element('viewer').classList.add('image-failed');
      return;
    }
    this.element('viewer').classList.remove('image-failed');
    // Until the grid arrives (with the oriented size the cells refer to), show the image at its own size.
    if (!this.grid) this.viewport.setImageSize(naturalWidth, naturalHeight);
  }

  // ------------------------------------------------------------ selection and queries

  private select(cell: Cell, query: boolean): void {
    // The selected patch's token is marked in every cell that has it (a usage or DAiD row can then mark another).
    const g = this.grid;
    const token = g && cell.row < g.rows && cell.col < g.cols ? g.tokens[cell.row * g.cols + cell.col] : this.state.highlightToken;
    const highlightChanged = token !== this.state.highlightToken;
    this.state = { ...this.state, selection: cell, highlightToken: token };
    if (highlightChanged) {
      this.viewport.setHighlightToken(token);
      if (g) this.usage.render(g.tokens, this.database?.codebookSize, token);
    }
    this.recon.setSelection(cell);
    this.rollout.setSelection(cell);
    this.renderPatchInfo();
    this.saveViewSoon();
    if (query) void this.query(cell);
  }

  private excludeSelf(): boolean {
    return this.state.excludeSelf ?? this.settings?.excludeSelf ?? true;
  }

  private async query(cell: Cell): Promise<void> {
    if (!this.grid || !this.settings) return;
    const seq = ++this.querySeq;
    const k = this.settings.topK;
    this.listHeader.textContent = `Searching for patch ${formatCell(cell.row, cell.col)}…`;
    this.element('section-retrieved').dataset.busy = 'true';
    // Marks for the latency benchmark and the webview's developer tools: sent, answered, drawn.
    performance.mark('patchlens:query-sent');
    try {
      const r = await this.conn.request({ type: 'query', row: cell.row, col: cell.col, k, excludeSelf: this.excludeSelf() });
      if (seq !== this.querySeq) return;
      performance.mark('patchlens:query-answered');
      const patches = r.results;
      this.hidePreview();
      this.list.render(patches, r.token, cell);
      this.listed = { cell: { row: r.row, col: r.col }, token: r.token };
      this.listHeader.textContent = `${formatCount(patches.length)} nearest of patch ${formatCell(r.row, r.col)} · ${formatDuration(r.searchMs)}`;
      this.daid.render(
        r.distribution.map((d) => d.token),
        r.distribution.map((d) => d.p),
        r.token,
        this.settings.temperature,
      );
      this.setExportable(true);
      performance.measure('patchlens:query-round-trip', 'patchlens:query-sent', 'patchlens:query-answered');
      performance.measure('patchlens:query-render', 'patchlens:query-answered');
      this.state = { ...this.state, queried: cell };
      this.renderPatchInfo();
      this.saveViewSoon();
    } catch (e) {
      if (seq !== this.querySeq || (e instanceof HostError && e.kind === 'Cancelled')) return;
      this.listHeader.textContent = '';
      this.hidePreview();
      this.listed = undefined;
      this.list.showMessage(`The search failed: ${(e as Error).message}`, 'error');
      this.setExportable(false);
      this.daid.clear('No distribution: the search failed.');
    } finally {
      if (seq === this.querySeq) delete this.element('section-retrieved').dataset.busy;
    }
  }

  /** The host exports the last query it answered: offer it only while the list shows one. */
  private setExportable(on: boolean): void {
    for (const b of Object.values(this.exportButtons)) b.disabled = !on;
  }

  /** A retrieved patch's crop: its row's 3x3 cells, or (`hops` > 1, for Compare on hover) its whole h-hop neighbourhood. */
  private thumbnail(p: RetrievedPatch, hops = 1): Promise<Thumbnail> {
    const key = `${p.image}\u0000${p.row}\u0000${p.col}\u0000${hops}`;
    let t = this.thumbnails.get(key);
    if (!t) {
      const around = hops > 1 ? { hops } : {};
      t = this.conn.request({ type: 'crop', image: p.image, row: p.row, col: p.col, ...around }, 60_000).then((r) => ({
        url: URL.createObjectURL(new Blob([r.png as Uint8Array<ArrayBuffer>], { type: 'image/png' })),
        window: r.window,
      }));
      t.catch(() => this.thumbnails.delete(key));
      this.thumbnails.set(key, t);
    }
    return t;
  }

  /**
   * Compare on hover: the queried patch (from the image on screen) beside the hovered or focused retrieved one, each
   * showing the database's whole h-hop key neighbourhood ((2h + 1)² cells, shifted inside the grid at its borders) with
   * the neighbours drawn over it. At h = 1 the retrieved side is its row's crop (from the cache once the row has drawn
   * it); beyond, one crop of the larger window.
   */
  private preview(p: RetrievedPatch | null, rank: number, row: HTMLElement | null): void {
    const seq = ++this.previewSeq;
    const g = this.geometry;
    const d = this.database;
    const q = this.listed;
    if (!p || !row || !g || !d || !q) return this.hidePreview();
    const hops = d.keys.hops;
    const qw = thumbnailWindow(g.rows, g.cols, q.cell.row, q.cell.col, hops);
    const rect = { x: g.xs[qw.col], y: g.ys[qw.row], width: g.xs[qw.col + qw.cols] - g.xs[qw.col], height: g.ys[qw.row + qw.rows] - g.ys[qw.row] };
    const query: CompareSide = {
      role: 'query',
      heading: `Query · ${this.image?.name ?? ''}`,
      row: q.cell.row,
      col: q.cell.col,
      token: q.token,
      window: qw,
      src: this.viewport.imageSrc,
      crop: { rect, width: g.imageWidth, height: g.imageHeight },
    };
    const keys = { shape: d.keys.shape, hops };
    const heading = `#${rank} · ${p.image.slice(p.image.lastIndexOf('/') + 1)}`;
    const retrieved = (t?: Thumbnail): CompareSide => ({
      role: 'retrieved',
      heading,
      row: p.row,
      col: p.col,
      token: p.token,
      window: t?.window ?? thumbnailWindow(g.rows, g.cols, p.row, p.col, hops),
      src: t?.url ?? '',
      crop: null,
    });
    const draw = (t?: Thumbnail) => {
      if (seq !== this.previewSeq) return;
      this.compare.show(query, retrieved(t), p.distance, keys, row.getBoundingClientRect());
      row.setAttribute('aria-describedby', this.compare.element.id);
    };
    draw();
    // at h = 1 the row's own thumbnail request: answered from the cache once the row has been drawn
    this.thumbnail(p, hops).then(draw, () => {});
  }

  private hidePreview(): void {
    this.previewSeq++;
    this.compare.hide();
    for (const r of document.querySelectorAll('[aria-describedby="compare-pane"]')) r.removeAttribute('aria-describedby');
  }

  private clearThumbnails(): void {
    for (const t of this.thumbnails.values())
      void t.then(
        (o) => URL.revokeObjectURL(o.url),
        () => {},
      );
    this.thumbnails.clear();
  }

  private toggleHighlight(token: number): void {
    this.update({ highlightToken: this.state.highlightToken === token ? null : token });
  }

  // ------------------------------------------------------------ reconstruction

  private async loadReconstruction(): Promise<void> {
    const g = this.geometry;
    if (!g || !this.database?.hasDecoder) return;
    this.recon.showMessage('Decoding the token grid…');
    try {
      // a row of a code shard has no pixels (its picture is its token map): nothing to measure the reconstruction against
      const kind = splitArchiveId(this.image?.path ?? '')?.kind;
      const codes = kind !== undefined && CODE_KINDS.includes(kind);
      const [r, original] = await Promise.all([this.conn.request({ type: 'reconstruct' }, 120_000), codes ? undefined : this.analysisImage()]);
      if (g !== this.geometry) return;
      await this.recon.render({ reconstruction: r.png, original, geometry: g });
      this.recon.setSelection(this.state.selection);
    } catch (e) {
      if (e instanceof HostError && e.kind === 'Cancelled') return;
      this.recon.showMessage(`No reconstruction: ${(e as Error).message}`, 'error');
    }
  }

  /**
   * The original's pixels for the error map. A webview-URI image is another
   * origin (reading it would taint the canvas), so its bytes come from the host.
   */
  private imagePixels(): Promise<InspectorReplies['imagePixels']> {
    if (!this.pixels) {
      this.pixels = this.conn.request({ type: 'imagePixels' }, 120_000);
      this.pixels.catch(() => (this.pixels = undefined));
    }
    return this.pixels;
  }

  private analysisImage(): Promise<ImageBitmap> {
    if (!this.originalForAnalysis) {
      this.originalForAnalysis = this.imagePixels().then((r) => createImageBitmap(new Blob([r.bytes as Uint8Array<ArrayBuffer>], { type: r.mime })));
      this.originalForAnalysis.catch(() => (this.originalForAnalysis = undefined));
    }
    return this.originalForAnalysis;
  }

  // ------------------------------------------------------------ view state and modes

  private update(patch: Partial<ViewState>): void {
    const before = this.state;
    this.state = { ...this.state, ...patch };
    this.applyModes();
    if (patch.reconstruction && !before.reconstruction) void this.loadReconstruction();
    if ('highlightToken' in patch && this.grid) this.usage.render(this.grid.tokens, this.database?.codebookSize, this.state.highlightToken);
    this.renderPatchInfo();
    this.saveViewSoon();
  }

  /** The neighbourhood drawn: the view's choice, else the database's keys. */
  private neighbourhood(): { shape: NeighbourhoodShape; hops: number } {
    return {
      shape: this.state.shape ?? this.database?.keys.shape ?? DEFAULT_KEYS.shape,
      hops: this.state.hops ?? this.database?.keys.hops ?? DEFAULT_KEYS.hops,
    };
  }

  private applyModes(): void {
    const s = this.state;
    const n = this.neighbourhood();
    this.gridButton.checked = s.showGrid;
    this.tokensButton.checked = s.overlay === 'tokens';
    const hasDecoder = this.database?.hasDecoder ?? false;
    this.reconButton.checked = s.reconstruction && hasDecoder;
    this.reconButton.toggleAttribute('disabled', !hasDecoder);
    this.reconButton.title = hasDecoder ? 'Reconstruction and error heatmap' : 'Reconstruction: the model has no decoder';
    this.shapeSelect.value = n.shape;
    this.hopsSelect.value = String(n.hops);
    this.excludeBox.checked = this.excludeSelf();
    this.viewport.setShowGrid(s.showGrid);
    this.viewport.setOverlay(s.overlay);
    this.viewport.setNeighbourhood(n.shape, n.hops);
    this.viewport.setHighlightToken(s.highlightToken);
    this.recon.setVisible(s.reconstruction && hasDecoder);
    this.element('viewer').classList.toggle('with-recon', s.reconstruction && hasDecoder);
    this.renderKeysBanner();
  }

  /** The Neighbours controls redraw only; when they differ from the database's keys, the banner says so and offers a rebuild with them. */
  private renderKeysBanner(): void {
    const d = this.database;
    const n = this.neighbourhood();
    if (!d || (n.shape === d.keys.shape && n.hops === d.keys.hops)) {
      this.keysBanner.hidden = true;
      replaceChildren(this.keysBanner);
      return;
    }
    const drawn = `${KEY_SHAPE_LABELS[n.shape].toLowerCase()}, h = ${n.hops}`;
    const keys = `${KEY_SHAPE_LABELS[d.keys.shape].toLowerCase()}, h = ${d.keys.hops}`;
    replaceChildren(
      this.keysBanner,
      el('vscode-icon', { name: 'info' }),
      el('span', { class: 'keys-banner-text' }, `Drawn only: ${drawn}. Queries use the keys ${d.dataset}'s database was built with (${keys}).`),
      button(`Rebuild with ${drawn}`, 'database', () => this.conn.post({ type: 'rebuildWithKeys', shape: n.shape, hops: n.hops }), 'rebuild-with-keys'),
      button(`Draw ${keys}`, 'discard', () => this.update({ shape: null, hops: null }), 'draw-database-keys', true),
    );
    this.keysBanner.hidden = false;
  }

  private saveViewSoon(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.saveView(), 100);
  }

  private saveView(): void {
    // Until the grid has arrived and the saved view was applied, the viewport shows a provisional fit: keep the saved one.
    if (this.viewRestored) {
      const v = this.viewport.view;
      this.state = { ...this.state, zoom: v.zoom, centerX: Number.isFinite(v.centerX) ? v.centerX : 0, centerY: Number.isFinite(v.centerY) ? v.centerY : 0 };
    }
    this.api.setState(this.state);
    this.reportView();
  }

  /** Tells the host the view settings a jump from here carries on, when they changed. */
  private reportView(): void {
    const s = this.state;
    const view: InspectorView = { shape: s.shape, hops: s.hops, overlay: s.overlay, showGrid: s.showGrid, reconstruction: s.reconstruction };
    const key = JSON.stringify(view);
    if (key === this.reportedView) return;
    this.reportedView = key;
    this.conn.post({ type: 'view', view });
  }

  // ------------------------------------------------------------ panels

  private renderDatabaseInfo(): void {
    const d = this.database;
    if (!d) {
      replaceChildren(this.dbBadge);
      return;
    }
    this.dbBadge.title = `Database of ${d.dataset}: ${formatCount(d.images)} images, ${formatCount(d.entries)} entries. Model ${d.model} (${formatGrid(d.rows, d.cols)} grid, ${formatCount(d.codebookSize)} codes). Keys: ${d.keys.shape} h=${d.keys.hops}, border ${d.keys.border}, from ${d.keys.source}s.`;
    replaceChildren(this.dbBadge, el('vscode-icon', { name: 'database' }), ` ${d.model} · ${formatGrid(d.rows, d.cols)} · ${formatCount(d.entries)} entries`);
  }

  private renderPatchInfo(): void {
    const s = this.state.selection;
    const g = this.grid;
    const d = this.database;
    const n = this.neighbourhood();
    const rows: (HTMLElement | null)[] = [];
    if (!s || !g) {
      rows.push(
        el('div', { class: 'hint' }, g ? 'No patch selected. Click one, or focus the image and use the arrow keys.' : 'The token grid is not loaded yet.'),
      );
    } else {
      const i = s.row * g.cols + s.col;
      const token = g.tokens[i];
      rows.push(
        kv('Position', formatCell(s.row, s.col)),
        kv('Token', el('span', { class: 'token-chip' }, swatch(token), String(token))),
        kv('Distance to code', formatDistance(g.distances[i])),
      );
      if (d && g.inDatabase) {
        const entry = hasEntry(g.rows, g.cols, d.keys.shape, d.keys.hops, d.keys.border, s.row, s.col);
        rows.push(kv('Database entry', entry ? 'yes' : 'no: its neighbourhood leaves the grid (border = skip); queries pad with zeros'));
      }
      if (!g.inDatabase)
        rows.push(el('div', { class: 'note' }, 'This image is not in the database: it was tokenized now, and queries search the database for its patches.'));
      const q = this.state.queried;
      if (!q || q.row !== s.row || q.col !== s.col) rows.push(el('div', { class: 'hint' }, 'Press Enter to search for this patch.'));
    }
    const count = neighbourCount(n.shape, n.hops);
    rows.push(kv('Neighbourhood drawn', `${n.shape}, h = ${n.hops}: ${count} neighbours, key = ${count} × d values`));
    if (d && (n.shape !== d.keys.shape || n.hops !== d.keys.hops)) {
      rows.push(el('div', { class: 'note', 'data-testid': 'keys-differ' }, `The database's keys use ${d.keys.shape}, h = ${d.keys.hops}; queries use those.`));
    }
    replaceChildren(this.patchInfo, ...rows);
  }

  private element(testClass: string): HTMLElement {
    return document.querySelector(`.${testClass}`) as HTMLElement;
  }
}

// ------------------------------------------------------------ small builders

function toolbarButton(icon: string, label: string, toggleable = false): ToolbarButton {
  return el('vscode-toolbar-button', { icon, label, title: label, toggleable, 'data-testid': `tool-${icon}` }) as ToolbarButton;
}

function select(name: string, label: string, options: readonly (readonly [string, string])[]): Select {
  const s = el('vscode-single-select', { name, 'aria-label': label, title: label, class: `select-${name}`, 'data-testid': `select-${name}` }) as Select;
  for (const [value, text] of options) s.appendChild(el('vscode-option', { value }, text));
  return s;
}

function button(text: string, icon: string, onClick: () => void, testId: string, secondary = false): HTMLElement {
  const b = el('vscode-button', { icon, secondary, 'data-testid': testId }, text);
  b.addEventListener('click', onClick);
  return b;
}

function section(title: string, body: HTMLElement, cls: string, action?: HTMLElement): HTMLElement {
  return el(
    'vscode-collapsible',
    { heading: title, open: true, class: `section ${cls}`, 'always-show-header-actions': true },
    ...(action ? [action] : []),
    el('div', { class: 'section-body' }, body),
  );
}

/** A section's export button (in its header): saves the last query's table as CSV or JSON, through the host's save dialog. */
function exportButton(kind: QueryExportKind, what: string, onClick: (kind: QueryExportKind) => void): ToolbarButton {
  const label = `Export the ${what} as CSV or JSON`;
  const b = el('vscode-toolbar-button', {
    icon: 'export',
    label,
    'aria-label': label,
    title: label,
    slot: 'actions',
    'data-testid': `export-${kind}`,
  }) as ToolbarButton;
  b.disabled = true;
  b.addEventListener('click', (e) => {
    e.stopPropagation();
    if (!b.disabled) onClick(kind);
  });
  return b;
}

function kv(key: string, value: string | HTMLElement): HTMLElement {
  return el('div', { class: 'kv' }, el('span', { class: 'k' }, key), el('span', { class: 'v' }, value));
}

new InspectorApp(acquireVsCodeApi<ViewState>());
