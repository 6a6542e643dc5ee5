// The inspector's Rollout mode: the database alone generates the rest of the
// image from the selected cell (in the engine worker, with progress and
// cancel). Shown: the decoded rollout beside the original, overlays for the
// changed cells and for where every generated token came from (a colour per
// source image, a legend of the top sources with thumbnails and shares), the
// copy indicators, and the generation order to step through or play, with
// each step's DAiD distribution in the chart. A click on a generated cell
// shows its source patch as the retrieved list does; activating it opens it.

import './rollout.css';
import { ROLLOUT_MODES, type RolloutMode } from '../../src/core/vocabulary';
import { formatCell, formatCount, formatDistance, formatDuration, formatPercent } from '../../src/core/format';
import { displayName, el, replaceChildren } from '../shared/dom';
import type { GridGeometry } from './gridGeometry';
import { RetrievedList, type RetrievedPatch, type Thumbnail } from './retrievedList';
import { tokenColour } from '../shared/tokenColour';
import type { Cell } from './viewState';

/** What the host sends back for a rollout (the fields the pane uses). */
export interface RolloutData {
  readonly from: { readonly row: number; readonly col: number };
  readonly rows: number;
  readonly cols: number;
  readonly mode: RolloutMode;
  readonly k: number;
  readonly tokens: Int32Array;
  readonly original: Int32Array;
  readonly images: readonly string[];
  readonly sourceImage: Int32Array;
  readonly sourceRow: Int32Array;
  readonly sourceCol: Int32Array;
  readonly sourceDistance: Float32Array;
  readonly stepStart: Int32Array;
  readonly stepTokens: Int32Array;
  readonly stepP: Float32Array;
  readonly agreement: number;
  readonly topSource: { readonly image: string | null; readonly share: number };
  readonly longestCopiedRun: { readonly image: string | null; readonly cells: number };
  readonly generated: number;
  readonly sourceCounts: readonly { readonly image: string; readonly cells: number }[];
  readonly elapsedMs: number;
  /** The decoded rollout (PNG), when the model has a decoder. */
  readonly png?: Uint8Array;
}

export interface RolloutRequest {
  readonly row: number;
  readonly col: number;
  readonly mode: RolloutMode;
  readonly seed: number;
  readonly temperature: number;
  readonly k: number;
}

export interface RolloutPaneDeps {
  /** Runs a rollout on the host; rejects when it fails or is cancelled. */
  run(request: RolloutRequest): Promise<RolloutData>;
  cancel(): void;
  loadThumbnail(patch: RetrievedPatch): Promise<Thumbnail>;
  openPatch(patch: RetrievedPatch): void;
  /** The original image, decoded (for the side-by-side view). */
  originalImage(): Promise<ImageBitmap>;
  /** Shows a step's DAiD distribution in the inspector's chart (tokens by probability; `trueToken` the original's). */
  showDistribution(tokens: Int32Array, p: Float32Array, trueToken: number, temperature: number): void;
  /** The pane is shown or hidden (the viewer makes room for it). */
  onVisible(visible: boolean): void;
}

/** Distinct colours for the top source images (Tableau 10); the rest share OTHER. */
const SOURCE_COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#17becf'];
const OTHER = '#8c8c8c';
/** Playing the whole generation takes about this long. */
const PLAY_MS = 6000;
/** Side in pixels of a cell when there is no decoder and the rollout is drawn as a token map. */
const TOKEN_CELL = 16;

type Overlay = 'sources' | 'changed' | 'none';
type Input = HTMLInputElement;

export class RolloutPane {
  /** The sidebar section's body. */
  readonly controls: HTMLElement;
  /** The figures beside the image viewer. */
  readonly viewer: HTMLElement;
  private data?: RolloutData;
  private geometry?: GridGeometry;
  private selection: Cell | null = null;
  private temperature = 1;
  private step = 0;
  private playing?: ReturnType<typeof setInterval>;
  private overlay: Overlay = 'sources';
  private running = false;
  private seq = 0;
  private shownCell: Cell | null = null;
  private colourOf = new Map<number, string>();

  // controls
  private readonly startLabel = el('div', { class: 'rollout-start', 'data-testid': 'rollout-start' });
  private readonly modeSelect: HTMLSelectElement;
  private readonly seedInput: Input;
  private readonly temperatureInput: Input;
  private readonly kInput: Input;
  private readonly runButton: HTMLElement;
  private readonly cancelButton: HTMLElement;
  private readonly progress = el('progress', {
    class: 'rollout-progress',
    max: 1,
    value: 0,
    hidden: true,
    'data-testid': 'rollout-progress',
  }) as HTMLProgressElement;
  private readonly message = el('div', { class: 'rollout-message', role: 'status', 'data-testid': 'rollout-message' });
  private readonly indicators = el('div', { class: 'rollout-indicators', 'data-testid': 'rollout-indicators' });
  private readonly legend = el('div', { class: 'rollout-legend', 'data-testid': 'rollout-legend' });
  private readonly stepper: HTMLElement;
  private readonly slider: Input;
  private readonly playButton: HTMLElement;
  private readonly stepLabel = el('div', { class: 'rollout-step-label', 'data-testid': 'rollout-step' });
  private readonly sourceList: RetrievedList;
  private readonly sourceBox = el('div', { class: 'rollout-source', 'data-testid': 'rollout-source' });
  // figures
  private readonly originalCanvas = el('canvas', { class: 'rollout-canvas', 'data-testid': 'rollout-original' }) as HTMLCanvasElement;
  private readonly rolloutCanvas = el('canvas', { class: 'rollout-canvas', 'data-testid': 'rollout-image' }) as HTMLCanvasElement;
  private readonly overlayCanvas = el('canvas', { class: 'rollout-overlay', 'data-testid': 'rollout-overlay' }) as HTMLCanvasElement;
  private readonly originalOverlay = el('canvas', { class: 'rollout-overlay' }) as HTMLCanvasElement;
  private readonly overlaySelect: HTMLSelectElement;

  constructor(private readonly deps: RolloutPaneDeps) {
    this.modeSelect = nativeSelect(
      'rollout-mode',
      "Greedy takes the nearest hit's token; Sample draws from softmax(−d / T) with the seed",
      ROLLOUT_MODES.map((m) => [m, m === 'greedy' ? 'Greedy' : 'Sample']),
    );
    this.seedInput = numberInput('rollout-seed', 'Seed of the sampled rollout', '0', 0, 2 ** 31, 1);
    this.temperatureInput = numberInput('rollout-temperature', 'DAiD temperature T', '1', 0.001, 1000, 'any');
    this.kInput = numberInput('rollout-k', 'Entries retrieved per cell', '64', 1, 2048, 1);
    this.runButton = el('vscode-button', { icon: 'debug-start', 'data-testid': 'rollout-run' }, 'Roll Out');
    this.cancelButton = el('vscode-button', { icon: 'debug-stop', secondary: true, hidden: true, 'data-testid': 'rollout-cancel' }, 'Cancel');
    this.modeSelect.addEventListener('change', () => this.syncInputs());
    this.temperatureInput.addEventListener('change', () => (this.temperatureInput.dataset.touched = 'true'), { once: true });
    this.runButton.addEventListener('click', () => void this.start());
    this.cancelButton.addEventListener('click', () => this.deps.cancel());

    this.slider = el('input', {
      type: 'range',
      min: 0,
      max: 0,
      value: 0,
      class: 'rollout-slider',
      'aria-label': 'Generation step',
      'data-testid': 'rollout-slider',
    }) as Input;
    // a step the user chooses stops playback, which would otherwise move on from under it
    const choose = (step: number) => {
      this.stopPlaying();
      this.setStep(step);
    };
    this.slider.addEventListener('input', () => choose(Number(this.slider.value)));
    const prev = iconButton('chevron-left', 'Previous step', () => choose(this.step - 1));
    const next = iconButton('chevron-right', 'Next step', () => choose(this.step + 1));
    this.playButton = iconButton('play', 'Play the generation order', () => this.togglePlay());
    this.playButton.dataset.testid = 'rollout-play';
    this.stepper = el('div', { class: 'rollout-stepper', hidden: true }, prev, this.playButton, next, this.slider);

    this.sourceList = new RetrievedList({ onOpen: (p) => this.deps.openPatch(p), loadThumbnail: (p) => this.deps.loadThumbnail(p) });
    this.controls = el(
      'div',
      { class: 'rollout-controls' },
      el(
        'div',
        { class: 'hint' },
        'The database alone generates the rest of the image from the selected cell, in raster order, each token retrieved with the causal key of the tokens placed so far.',
      ),
      this.startLabel,
      el(
        'div',
        { class: 'rollout-form' },
        field('Mode', this.modeSelect),
        field('Seed', this.seedInput),
        field('T', this.temperatureInput),
        field('k', this.kInput),
      ),
      el('div', { class: 'rollout-actions' }, this.runButton, this.cancelButton, this.progress),
      this.message,
      this.indicators,
      this.legend,
      this.stepper,
      this.stepLabel,
      this.sourceBox,
    );

    this.overlaySelect = nativeSelect('rollout-colouring', "What the rollout's cells are coloured by", [
      ['sources', 'Sources'],
      ['changed', 'Changed cells'],
      ['none', 'No overlay'],
    ]);
    this.overlaySelect.addEventListener('change', () => {
      this.overlay = this.overlaySelect.value as Overlay;
      this.drawOverlays();
    });
    this.overlayCanvas.addEventListener('click', (e) => this.onFigureClick(e));
    const close = iconButton('close', 'Close the rollout', () => this.hide());
    this.viewer = el(
      'div',
      { class: 'rollout-pane', 'data-testid': 'rollout-pane', hidden: true },
      el('div', { class: 'rollout-pane-bar' }, el('span', { class: 'rollout-pane-title' }, 'Rollout'), this.overlaySelect, close),
      el(
        'div',
        { class: 'rollout-figures' },
        el(
          'figure',
          { class: 'rollout-figure' },
          el('div', { class: 'rollout-frame' }, this.originalCanvas, this.originalOverlay),
          el('figcaption', {}, 'Original'),
        ),
        el(
          'figure',
          { class: 'rollout-figure' },
          el('div', { class: 'rollout-frame' }, this.rolloutCanvas, this.overlayCanvas),
          el('figcaption', { 'data-testid': 'rollout-caption' }, 'Rollout'),
        ),
      ),
    );
    this.syncInputs();
    this.setSelection(null);
  }

  /** The grid the rollout starts in (a new image or database drops the rollout). */
  setGeometry(g: GridGeometry | undefined): void {
    if (g === this.geometry) return;
    this.geometry = g;
    this.reset();
  }

  /** The inspector's DAiD temperature, the default until the user sets one here. */
  setDefaultTemperature(temperature: number): void {
    if (!this.temperatureInput.dataset.touched) this.temperatureInput.value = String(temperature);
  }

  setSelection(cell: Cell | null): void {
    this.selection = cell;
    this.startLabel.textContent = cell
      ? `Starts at ${formatCell(cell.row, cell.col)}: the cells before it keep this image's tokens.`
      : 'Select a cell to start from.';
    this.syncInputs();
  }

  /** Starts a rollout from the selected cell. */
  async start(): Promise<void> {
    const cell = this.selection;
    if (!cell || this.running) return;
    const request = this.readRequest(cell);
    if (typeof request === 'string') {
      this.showMessage(request, 'error');
      return;
    }
    const seq = ++this.seq;
    this.stopPlaying();
    this.running = true;
    this.syncInputs();
    this.progress.hidden = false;
    this.progress.value = 0;
    this.showMessage(`Rolling out from ${formatCell(cell.row, cell.col)}…`);
    try {
      const data = await this.deps.run(request);
      if (seq !== this.seq) return;
      this.temperature = request.temperature;
      await this.show(data);
      this.showMessage(
        `${data.mode === 'greedy' ? 'Greedy' : `Sampled (seed ${request.seed})`} rollout from ${formatCell(data.from.row, data.from.col)}, k = ${data.k}: ${formatCount(data.generated)} cells generated in ${formatDuration(data.elapsedMs)}.`,
      );
    } catch (e) {
      if (seq !== this.seq) return;
      const err = e as Error;
      this.showMessage(
        err.name === 'RolloutCancelledError' ? 'The rollout was cancelled.' : `The rollout failed: ${err.message}`,
        err.name === 'RolloutCancelledError' ? 'info' : 'error',
      );
    } finally {
      if (seq === this.seq) {
        this.running = false;
        this.progress.hidden = true;
        this.syncInputs();
      }
    }
  }

  /** Progress of the running rollout. */
  setProgress(done: number, total: number): void {
    if (!this.running) return;
    this.progress.max = Math.max(1, total);
    this.progress.value = done;
    this.progress.title = `${formatCount(done)} of ${formatCount(total)} cells`;
  }

  hide(): void {
    this.stopPlaying();
    this.viewer.hidden = true;
    this.deps.onVisible(false);
  }

  // ------------------------------------------------------------ result

  private async show(data: RolloutData): Promise<void> {
    const g = this.geometry;
    if (!g || data.rows !== g.rows || data.cols !== g.cols) throw new Error(`the rollout's ${data.rows}x${data.cols} grid is not this image's`);
    this.data = data;
    this.colourOf = new Map();
    data.sourceCounts.slice(0, SOURCE_COLOURS.length).forEach((s, i) => this.colourOf.set(data.images.indexOf(s.image), SOURCE_COLOURS[i]));
    await this.drawFigures(data, g);
    this.renderIndicators(data);
    this.renderLegend(data);
    const steps = data.stepStart.length - 1;
    this.slider.max = String(steps);
    this.stepper.hidden = steps === 0;
    this.viewer.hidden = false;
    this.deps.onVisible(true);
    this.shownCell = null;
    replaceChildren(this.sourceBox, el('div', { class: 'hint' }, 'Click a generated cell of the rollout to see the patch its token came from.'));
    this.setStep(steps);
  }

  private async drawFigures(data: RolloutData, g: GridGeometry): Promise<void> {
    let w: number;
    let h: number;
    if (data.png) {
      const bmp = await createImageBitmap(new Blob([data.png as Uint8Array<ArrayBuffer>], { type: 'image/png' }));
      w = bmp.width;
      h = bmp.height;
      sizeCanvas(this.rolloutCanvas, w, h).drawImage(bmp, 0, 0);
      bmp.close();
      this.viewer.dataset.decoded = 'true';
    } else {
      // No decoder: the rollout as a token map (each cell in its token's colour).
      w = data.cols * TOKEN_CELL;
      h = data.rows * TOKEN_CELL;
      const ctx = sizeCanvas(this.rolloutCanvas, w, h);
      for (let i = 0; i < data.tokens.length; i++) {
        ctx.fillStyle = tokenColour(data.tokens[i]);
        ctx.fillRect((i % data.cols) * TOKEN_CELL, Math.floor(i / data.cols) * TOKEN_CELL, TOKEN_CELL, TOKEN_CELL);
      }
      this.viewer.dataset.decoded = 'false';
    }
    sizeCanvas(this.overlayCanvas, w, h);
    sizeCanvas(this.originalOverlay, w, h);
    const octx = sizeCanvas(this.originalCanvas, w, h);
    // The original at the same size, cell by cell from the engine's cell rectangles (what the encoder saw).
    try {
      const original = await this.deps.originalImage();
      const sx = (original.width || g.imageWidth) / g.imageWidth;
      const sy = (original.height || g.imageHeight) / g.imageHeight;
      const cw = w / g.cols;
      const ch = h / g.rows;
      for (let r = 0; r < g.rows; r++) {
        for (let c = 0; c < g.cols; c++) {
          const cell = g.rect(r, c);
          if (cell.width <= 0 || cell.height <= 0) continue;
          const dx = Math.round(c * cw);
          const dy = Math.round(r * ch);
          octx.drawImage(
            original,
            cell.x * sx,
            cell.y * sy,
            cell.width * sx,
            cell.height * sy,
            dx,
            dy,
            Math.round((c + 1) * cw) - dx,
            Math.round((r + 1) * ch) - dy,
          );
        }
      }
    } catch {
      // The original's pixels could not be read: its token map instead.
      for (let i = 0; i < data.original.length; i++) {
        octx.fillStyle = tokenColour(data.original[i]);
        octx.fillRect(((i % data.cols) * w) / data.cols, (Math.floor(i / data.cols) * h) / data.rows, w / data.cols, h / data.rows);
      }
    }
  }

  private renderIndicators(d: RolloutData): void {
    const top = d.topSource.image === null ? '—' : displayName(baseName(d.topSource.image));
    const run = d.longestCopiedRun.image === null ? '—' : displayName(baseName(d.longestCopiedRun.image));
    this.indicators.dataset.agreement = String(d.agreement);
    this.indicators.dataset.topShare = String(d.topSource.share);
    this.indicators.dataset.longestRun = String(d.longestCopiedRun.cells);
    replaceChildren(
      this.indicators,
      indicator('Agreement', formatPercent(d.agreement), "Generated cells whose token equals the original's", 'rollout-agreement'),
      indicator(
        'Top source',
        `${formatPercent(d.topSource.share)} · ${top}`,
        'Share of the generated cells taken from the most used source image',
        'rollout-top-source',
      ),
      indicator(
        'Longest copied run',
        `${formatCount(d.longestCopiedRun.cells)} cells · ${run}`,
        'The longest run of consecutive generated cells copied from one image at one offset (a copied region)',
        'rollout-longest-run',
      ),
    );
  }

  private renderLegend(d: RolloutData): void {
    if (d.sourceCounts.length === 0) {
      replaceChildren(this.legend, el('div', { class: 'hint' }, 'No cell was generated (no keys, or nothing retrieved).'));
      return;
    }
    const rows = d.sourceCounts.slice(0, SOURCE_COLOURS.length).map((s, i) => {
      const idx = d.images.indexOf(s.image);
      // The thumbnail shows the source patch of the first cell taken from this image.
      let first = -1;
      for (let c = 0; c < d.sourceImage.length && first < 0; c++) if (d.sourceImage[c] === idx) first = c;
      const patch: RetrievedPatch = {
        image: s.image,
        row: d.sourceRow[first],
        col: d.sourceCol[first],
        token: d.tokens[first],
        distance: d.sourceDistance[first],
      };
      const img = el('img', { class: 'legend-thumb', alt: '', draggable: 'false' }) as HTMLImageElement;
      void this.deps.loadThumbnail(patch).then(
        (t) => (img.src = t.url),
        () => img.classList.add('failed'),
      );
      const colour = el('span', { class: 'legend-colour' });
      colour.style.background = SOURCE_COLOURS[i];
      const item = el(
        'div',
        {
          class: 'legend-item',
          role: 'button',
          tabindex: '0',
          'data-testid': 'rollout-legend-item',
          'data-image': s.image,
          'data-cells': s.cells,
          title: `${displayName(s.image)}: ${formatCount(s.cells)} generated cells. Click to open it.`,
        },
        colour,
        img,
        el('span', { class: 'legend-name' }, displayName(baseName(s.image))),
        el('span', { class: 'legend-share' }, formatPercent(s.cells / Math.max(1, d.generated))),
      );
      const open = () => this.deps.openPatch(patch);
      item.addEventListener('click', open);
      item.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          open();
        }
      });
      return item;
    });
    const listed = d.sourceCounts.slice(0, SOURCE_COLOURS.length).reduce((a, s) => a + s.cells, 0);
    const others = d.generated - listed;
    if (others > 0) {
      const colour = el('span', { class: 'legend-colour' });
      colour.style.background = OTHER;
      rows.push(
        el(
          'div',
          { class: 'legend-item other' },
          colour,
          el('span', { class: 'legend-name' }, 'other images'),
          el('span', { class: 'legend-share' }, formatPercent(others / d.generated)),
        ),
      );
    }
    replaceChildren(this.legend, el('div', { class: 'legend-title' }, 'Where the generated tokens came from'), ...rows);
  }

  // ------------------------------------------------------------ stepping

  private setStep(step: number): void {
    const d = this.data;
    if (!d) return;
    const steps = d.stepStart.length - 1;
    this.step = Math.max(0, Math.min(steps, step));
    this.slider.value = String(this.step);
    this.drawOverlays();
    const start = d.from.row * d.cols + d.from.col;
    if (this.step === 0) {
      this.stepLabel.textContent = `Step 0 of ${steps}: only the prompt (the cells before ${formatCell(d.from.row, d.from.col)}).`;
      return;
    }
    const s = this.step - 1;
    const cell = start + s;
    const r = Math.floor(cell / d.cols);
    const c = cell % d.cols;
    const src = d.sourceImage[cell];
    this.stepLabel.dataset.step = String(this.step);
    this.stepLabel.textContent =
      src < 0
        ? `Step ${this.step} of ${steps}: ${formatCell(r, c)} keeps token ${d.tokens[cell]} (${d.stepStart[s + 1] > d.stepStart[s] ? 'nothing retrieved' : 'no key at the border'}).`
        : `Step ${this.step} of ${steps}: ${formatCell(r, c)} → token ${d.tokens[cell]} (original ${d.original[cell]}) from ${displayName(baseName(d.images[src]))} ${formatCell(d.sourceRow[cell], d.sourceCol[cell])}, d ${formatDistance(d.sourceDistance[cell])}.`;
    this.deps.showDistribution(
      d.stepTokens.subarray(d.stepStart[s], d.stepStart[s + 1]),
      d.stepP.subarray(d.stepStart[s], d.stepStart[s + 1]),
      d.original[cell],
      this.temperature,
    );
  }

  private togglePlay(): void {
    if (this.playing) return this.stopPlaying();
    const d = this.data;
    if (!d) return;
    const steps = d.stepStart.length - 1;
    if (this.step >= steps) this.setStep(0);
    const every = Math.max(10, PLAY_MS / Math.max(1, steps));
    this.playButton.setAttribute('icon', 'debug-pause');
    this.playButton.title = 'Pause';
    this.playing = setInterval(() => {
      this.setStep(this.step + 1);
      // stopped on the last step itself: a timer left for one more tick would move a step chosen meanwhile
      if (this.step >= steps) this.stopPlaying();
    }, every);
  }

  private stopPlaying(): void {
    if (this.playing) clearInterval(this.playing);
    this.playing = undefined;
    this.playButton.setAttribute('icon', 'play');
    this.playButton.title = 'Play the generation order';
  }

  private onFigureClick(e: MouseEvent): void {
    const d = this.data;
    if (!d) return;
    const rect = this.overlayCanvas.getBoundingClientRect();
    const c = Math.floor(((e.clientX - rect.left) / rect.width) * d.cols);
    const r = Math.floor(((e.clientY - rect.top) / rect.height) * d.rows);
    if (r < 0 || c < 0 || r >= d.rows || c >= d.cols) return;
    this.stopPlaying();
    this.showSource({ row: r, col: c });
  }

  /** Shows where a cell's token came from (and moves the step there). */
  showSource(cell: Cell): void {
    const d = this.data;
    if (!d) return;
    const i = cell.row * d.cols + cell.col;
    const start = d.from.row * d.cols + d.from.col;
    this.shownCell = cell;
    if (i >= start) this.setStep(i - start + 1);
    else this.drawOverlays();
    const src = d.sourceImage[i];
    this.sourceBox.dataset.row = String(cell.row);
    this.sourceBox.dataset.col = String(cell.col);
    if (src < 0) {
      replaceChildren(
        this.sourceBox,
        el(
          'div',
          { class: 'hint' },
          i < start
            ? `${formatCell(cell.row, cell.col)} is part of the prompt: this image's own token.`
            : `${formatCell(cell.row, cell.col)} has no key (border) or retrieved nothing: it keeps this image's token.`,
        ),
      );
      return;
    }
    const patch: RetrievedPatch = { image: d.images[src], row: d.sourceRow[i], col: d.sourceCol[i], token: d.tokens[i], distance: d.sourceDistance[i] };
    replaceChildren(this.sourceBox, el('div', { class: 'legend-title' }, `Source of ${formatCell(cell.row, cell.col)}`), this.sourceList.element);
    this.sourceList.render([patch], d.original[i], cell);
  }

  /** Sources or changed cells over the rollout, the prompt boundary, cells not generated yet at the current step, the current cell. */
  private drawOverlays(): void {
    const d = this.data;
    if (!d) return;
    const ctx = this.overlayCanvas.getContext('2d')!;
    const octx = this.originalOverlay.getContext('2d')!;
    const w = this.overlayCanvas.width;
    const h = this.overlayCanvas.height;
    ctx.clearRect(0, 0, w, h);
    octx.clearRect(0, 0, w, h);
    const cw = w / d.cols;
    const ch = h / d.rows;
    const start = d.from.row * d.cols + d.from.col;
    const upTo = start + this.step;
    for (let i = start; i < d.tokens.length; i++) {
      const x = (i % d.cols) * cw;
      const y = Math.floor(i / d.cols) * ch;
      if (i >= upTo) {
        ctx.fillStyle = 'rgba(0, 0, 0, 0.6)'; // not generated yet at this step
        ctx.fillRect(x, y, cw, ch);
        continue;
      }
      const src = d.sourceImage[i];
      if (this.overlay === 'sources' && src >= 0) {
        ctx.fillStyle = this.colourOf.get(src) ?? OTHER;
        ctx.globalAlpha = 0.45;
        ctx.fillRect(x, y, cw, ch);
        ctx.globalAlpha = 1;
      } else if (this.overlay === 'changed' && src >= 0 && d.tokens[i] !== d.original[i]) {
        for (const c of [ctx, octx]) {
          c.strokeStyle = '#ff3b30';
          c.lineWidth = Math.max(1, cw / 10);
          c.strokeRect(x + 1, y + 1, cw - 2, ch - 2);
        }
      }
    }
    // the prompt boundary: a line along the top of the first generated cells
    for (const c of [ctx, octx]) {
      c.strokeStyle = '#ffffff';
      c.lineWidth = Math.max(1, ch / 12);
      c.beginPath();
      const fx = d.from.col * cw;
      const fy = d.from.row * ch;
      c.moveTo(fx, fy + ch);
      c.lineTo(fx, fy);
      c.lineTo(w, fy);
      if (d.from.col > 0) {
        c.moveTo(0, fy + ch);
        c.lineTo(fx, fy + ch);
      }
      c.stroke();
    }
    const current = this.step > 0 ? start + this.step - 1 : -1;
    const mark = this.shownCell ? this.shownCell.row * d.cols + this.shownCell.col : current;
    if (mark >= 0) {
      for (const c of [ctx, octx]) {
        c.strokeStyle = '#ffd60a';
        c.lineWidth = Math.max(2, cw / 6);
        c.strokeRect((mark % d.cols) * cw, Math.floor(mark / d.cols) * ch, cw, ch);
      }
    }
    this.shownCell = null;
  }

  // ------------------------------------------------------------ small parts

  private reset(): void {
    this.seq++;
    this.stopPlaying();
    this.data = undefined;
    this.running = false;
    this.progress.hidden = true;
    replaceChildren(this.indicators);
    replaceChildren(this.legend);
    replaceChildren(this.sourceBox);
    this.stepLabel.textContent = '';
    this.stepper.hidden = true;
    this.showMessage('');
    if (!this.viewer.hidden) this.hide();
    this.syncInputs();
  }

  private readRequest(cell: Cell): RolloutRequest | string {
    const mode = this.modeSelect.value as RolloutMode;
    const seed = Number(this.seedInput.value);
    const temperature = Number(this.temperatureInput.value);
    const k = Number(this.kInput.value);
    if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 31) return 'The seed must be a whole number from 0 to 2147483648.';
    if (!(temperature > 0) || !Number.isFinite(temperature) || temperature > 1e6) return 'The temperature must be a positive number.';
    if (!Number.isInteger(k) || k < 1 || k > 2048) return 'k must be a whole number from 1 to 2048.';
    return { row: cell.row, col: cell.col, mode, seed, temperature, k };
  }

  private syncInputs(): void {
    this.seedInput.disabled = this.modeSelect.value !== 'sample';
    this.runButton.toggleAttribute('disabled', !this.selection || !this.geometry || this.running);
    this.cancelButton.hidden = !this.running;
  }

  private showMessage(text: string, kind: 'info' | 'error' = 'info'): void {
    this.message.textContent = text;
    this.message.dataset.kind = kind;
  }
}

function baseName(p: string): string {
  const i = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  return i >= 0 ? p.slice(i + 1) : p;
}

function sizeCanvas(c: HTMLCanvasElement, w: number, h: number): CanvasRenderingContext2D {
  c.width = w;
  c.height = h;
  return c.getContext('2d')!;
}

function nativeSelect(name: string, title: string, options: readonly (readonly [string, string])[]): HTMLSelectElement {
  const s = el('select', { class: `rollout-select select-${name}`, title, 'aria-label': title, 'data-testid': name }) as HTMLSelectElement;
  for (const [value, text] of options) s.appendChild(el('option', { value }, text));
  return s;
}

function numberInput(name: string, title: string, value: string, min: number, max: number, step: number | 'any'): Input {
  return el('input', { type: 'number', class: 'rollout-number', title, 'aria-label': title, value, min, max, step, 'data-testid': name }) as Input;
}

function field(label: string, input: HTMLElement): HTMLElement {
  return el('label', { class: 'rollout-field' }, el('span', {}, label), input);
}

function iconButton(icon: string, label: string, onClick: () => void): HTMLElement {
  const b = el('vscode-toolbar-button', { icon, label, title: label });
  b.addEventListener('click', onClick);
  return b;
}

function indicator(name: string, value: string, title: string, testId: string): HTMLElement {
  return el('div', { class: 'indicator', title, 'data-testid': testId }, el('span', { class: 'k' }, name), el('span', { class: 'v' }, value));
}
