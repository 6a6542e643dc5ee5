// A scripted host for the inspector webview: a synthetic image and token grid
// (a 6x8 grid over a 400x240 image, centre-cropped like a real model input),
// answers to queries, crops, reconstructions and image pixels, so browser
// tests can check what the webview draws against known data.

import sharp from 'sharp';
import { cellRects, planResize, thumbnailWindow } from '../../src/core/geometry';
import { retrievalDistribution } from '../../src/core/daid';
import type { HostToInspector, InspectorDatabase, InspectorSettings } from '../../src/protocol';
import type { WebviewPage } from '../support/webviewHarness';
import { texturedImage } from '../support/fixtures';

export const IMAGE = { width: 400, height: 240, input: { width: 256, height: 192 }, rows: 6, cols: 8 };

export const DATABASE: InspectorDatabase = {
  dataset: 'photos',
  model: 'tiny-test',
  rows: IMAGE.rows,
  cols: IMAGE.cols,
  codebookSize: 64,
  hasDecoder: true,
  keys: { shape: 'causal', hops: 1, border: 'skip', source: 'latent' },
  images: 12,
  entries: 12 * 5 * 6,
};

export const SETTINGS: InspectorSettings = { topK: 6, excludeSelf: true, temperature: 1, queryKeys: 'latent' };

export const HOSTILE_NAMES = [
  '<img src=x onerror="window.__pwned=1">.png',
  '"><script>window.__pwned=2</script>.jpg',
  'sub/<b>bold</b> & \u202Egnp.exe.png',
  "it's `fine` ${x}.webp",
];

/** The token of each cell: deterministic, with repeats so usage and highlights have something to show. */
export function gridTokens(): Int32Array {
  const t = new Int32Array(IMAGE.rows * IMAGE.cols);
  for (let i = 0; i < t.length; i++) t[i] = (i * 7 + (i >> 3) * 3) % 23;
  return t;
}

export function gridCells(): Float32Array {
  const plan = planResize(IMAGE.width, IMAGE.height, IMAGE.input.width, IMAGE.input.height, 'crop');
  const cells = cellRects(plan, IMAGE.rows, IMAGE.cols);
  const out = new Float32Array(cells.length * 4);
  cells.forEach((c, i) => out.set([c.x, c.y, c.width, c.height], i * 4));
  return out;
}

export interface FakeHostOptions {
  /** File names of the retrieved patches, cycled. */
  readonly names?: readonly string[];
  readonly database?: InspectorDatabase | null;
  readonly status?: Extract<HostToInspector, { type: 'init' }>['status'];
  /** Don't answer queries (to test pending states and time-outs). */
  readonly silent?: boolean;
  /** Answer queries with an error. */
  readonly failQueries?: string;
  readonly imageName?: string;
  /** The token of the i-th retrieved patch (default: three tokens near the true one, cycled). */
  readonly resultToken?: (i: number, trueToken: number) => number;
  /** How many patches a query returns (default: the k asked for). */
  readonly resultCount?: number;
  /** The image's `src` ('' : the webview asks for its pixels). */
  readonly imageSrc?: string;
  /** Answers `imagePixels` only once this settles (a large image still on its way). */
  readonly pixelsGate?: Promise<unknown>;
  /** The view settings `init` carries (a jump from another inspector). */
  readonly view?: Extract<HostToInspector, { type: 'init' }>['view'];
}

export interface FakeHost {
  readonly png: Uint8Array;
  /** Delay before the grid follows `init` (0: at once). */
  gridDelayMs: number;
  /** Called for each query with its answer (for tests that check what was drawn). */
  readonly queries: { row: number; col: number; reply: Extract<HostToInspector, { type: 'queryResult' }> }[];
  sendGrid(): Promise<void>;
  /** Posts `init` again, as the host does when a session restarts (after a build) on the same image. */
  sendInit(): Promise<void>;
}

let imagePng: Promise<Uint8Array> | undefined;
let thumbPng: Promise<Uint8Array> | undefined;

export function testImagePng(): Promise<Uint8Array> {
  imagePng ??= texturedImage(IMAGE.width, IMAGE.height, 7)
    .then((i) => i.png().toBuffer())
    .then((b) => new Uint8Array(b));
  return imagePng;
}

function thumbnailPng(): Promise<Uint8Array> {
  thumbPng ??= texturedImage(96, 96, 3)
    .then((i) => i.png().toBuffer())
    .then((b) => new Uint8Array(b));
  return thumbPng;
}

/** The model-input view of the test image, as the "reconstruction" (an exact one: the error map is all zero). */
async function reconstructionPng(): Promise<Uint8Array> {
  const plan = planResize(IMAGE.width, IMAGE.height, IMAGE.input.width, IMAGE.input.height, 'crop');
  const buf = await sharp(Buffer.from(await testImagePng()))
    .resize(plan.resizedWidth, plan.resizedHeight, { fit: 'fill' })
    .extract({ left: plan.offsetX, top: plan.offsetY, width: plan.targetWidth, height: plan.targetHeight })
    .png()
    .toBuffer();
  return new Uint8Array(buf);
}

/** Answers the webview's messages like the extension host would. */
export async function attachFakeHost(w: WebviewPage, opts: FakeHostOptions = {}): Promise<FakeHost> {
  const png = await testImagePng();
  const names = opts.names ?? ['a.png', 'b.png', 'nested/c.png'];
  const tokens = gridTokens();
  const queries: FakeHost['queries'] = [];
  const host = { png, queries, gridDelayMs: 0, sendGrid: async () => {}, sendInit: async () => {} };
  const database = opts.database === undefined ? DATABASE : opts.database;
  const sendGrid = async () => {
    await w.post({
      type: 'grid',
      width: IMAGE.width,
      height: IMAGE.height,
      rows: IMAGE.rows,
      cols: IMAGE.cols,
      inDatabase: true,
      tokens,
      distances: new Float32Array(tokens.length).map((_, i) => 0.01 * (i % 17)),
      cells: gridCells(),
    });
    await w.post({ type: 'status', status: { state: 'ready', message: '', canBuild: false } });
  };
  const sendInit = () =>
    w.post({
      type: 'init',
      image: { name: opts.imageName ?? 'cat.png', path: `photos/${opts.imageName ?? 'cat.png'}`, src: opts.imageSrc ?? 'https://webview.test/res/cat.png' },
      database,
      settings: SETTINGS,
      status: opts.status ?? { state: 'loading', message: 'Reading the token grid…', canBuild: false },
      ...(opts.view ? { view: opts.view } : {}),
    });
  w.onMessage((m) => {
    void (async () => {
      switch (m.type) {
        case 'ready':
          await sendInit();
          if (host.gridDelayMs) await new Promise((r) => setTimeout(r, host.gridDelayMs));
          if (database && !opts.status) await sendGrid();
          return;
        case 'query': {
          if (opts.silent) return;
          if (opts.failQueries) return w.post({ type: 'error', inReplyTo: m.messageId, kind: 'DatabaseError', message: opts.failQueries });
          const row = m.row as number;
          const col = m.col as number;
          const k = opts.resultCount ?? (m.k as number);
          const results = Array.from({ length: k }, (_, i) => ({
            image: names[i % names.length],
            row: (row + i) % IMAGE.rows,
            col: (col + 2 * i) % IMAGE.cols,
            token: opts.resultToken ? opts.resultToken(i, tokens[row * IMAGE.cols + col]) : (tokens[row * IMAGE.cols + col] + (i % 3)) % 23,
            distance: 0.05 + 0.1 * i,
          }));
          const dist = retrievalDistribution(results, SETTINGS.temperature);
          const reply = {
            type: 'queryResult' as const,
            inReplyTo: m.messageId as number,
            row,
            col,
            token: tokens[row * IMAGE.cols + col],
            searchMs: 0.42,
            results,
            distribution: dist.map(({ token, p, distance }) => ({ token, p, distance })),
          };
          queries.push({ row, col, reply });
          return w.post(reply);
        }
        case 'crop': {
          const row = m.row as number;
          const col = m.col as number;
          const window = thumbnailWindow(IMAGE.rows, IMAGE.cols, row, col, (m.hops as number | undefined) ?? 1);
          return w.post({ type: 'cropResult', inReplyTo: m.messageId, png: await thumbnailPng(), window });
        }
        case 'reconstruct':
          return w.post({ type: 'reconstruction', inReplyTo: m.messageId, png: await reconstructionPng() });
        case 'imagePixels':
          await opts.pixelsGate;
          return w.post({ type: 'imagePixels', inReplyTo: m.messageId, bytes: png, mime: 'image/png' });
      }
    })().catch((e: Error) => w.errors.push(`[fake host] ${e.stack}`));
  });
  host.sendGrid = sendGrid;
  host.sendInit = sendInit;
  return host;
}
