// The host side of the inspector (InspectorSession) with a fake engine: the
// ready/init/grid handshake, requests answered by id, errors carried back, and
// every message from the webview checked: schema, grid range, and
// image paths limited to what the session offered inside the dataset folder.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EngineRequests } from '../../src/engine/engineProtocol';
import { InspectorSession, type InspectorHost, type InspectorTarget } from '../../src/extension/inspector/inspectorSession';
import { resolveDatasetPath, toDatasetPath } from '../../src/extension/inspector/datasetPaths';
import type { HostToInspector } from '../../src/protocol';
import { tempDir } from '../support/fixtures';
import { saveTable } from '../../src/extension/saveTable';

const ROWS = 4;
const COLS = 5;

interface Call {
  method: string;
  params: Record<string, unknown>;
}

function fakeEngine(
  opts: {
    summary?: boolean;
    failQuery?: string;
    failGrid?: { name: string; message: string };
    results?: { image: string; row: number; col: number; token: number; distance: number }[];
  } = {},
) {
  const calls: Call[] = [];
  const summary = {
    dbDir: '/db',
    root: '/data',
    generation: 3,
    updatedAt: '',
    model: { name: 'tiny', fingerprint: 'f', manifestPath: '/m.json', rows: ROWS, cols: COLS, dim: 4, codebookSize: 64, hasDecoder: true },
    keys: { shape: 'causal' as const, hops: 1, border: 'skip' as const, source: 'latent' as const },
    index: { m: 16, efConstruction: 200, ef: 64, keyDim: 16 },
    images: 3,
    entries: 36,
    diskBytes: 1,
    failed: [],
    lastBuild: { finishedAt: '', elapsedMs: 1, added: 3, updated: 0, removed: 0 },
  };
  const grid = (image: string) => ({
    image,
    inDatabase: true,
    width: 100,
    height: 80,
    rows: ROWS,
    cols: COLS,
    tokens: Int32Array.from({ length: ROWS * COLS }, (_, i) => i % 7),
    distances: new Float32Array(ROWS * COLS).fill(0.5),
    cells: Array.from({ length: ROWS * COLS }, (_, i) => ({
      row: Math.floor(i / COLS),
      col: i % COLS,
      x: (i % COLS) * 20,
      y: Math.floor(i / COLS) * 20,
      width: 20,
      height: 20,
    })),
  });
  const results = opts.results ?? [
    { image: 'b.png', row: 1, col: 1, token: 3, distance: 0.1 },
    { image: 'sub/c.png', row: 3, col: 4, token: 5, distance: 0.2 },
  ];
  const engine = {
    calls,
    request: async <M extends keyof EngineRequests>(method: M, params: EngineRequests[M]['params']): Promise<EngineRequests[M]['result']> => {
      calls.push({ method, params: params as Record<string, unknown> });
      const answers: Partial<Record<keyof EngineRequests, () => unknown>> = {
        summary: () => (opts.summary === false ? null : summary),
        grid: () => {
          if (opts.failGrid) throw Object.assign(new Error(opts.failGrid.message), { name: opts.failGrid.name });
          return grid((params as { image: string }).image);
        },
        query: () => {
          if (opts.failQuery) {
            const e = new Error(opts.failQuery);
            e.name = 'DatabaseError';
            throw e;
          }
          return {
            query: { image: 'a.png', row: 1, col: 2, token: 6, inDatabase: true },
            results,
            distribution: [
              { token: 3, p: 0.6, distance: 0.1 },
              { token: 5, p: 0.4, distance: 0.2 },
            ],
            exact: false,
            searchMs: 0.3,
          };
        },
        crop: () => new Uint8Array([137, 80, 78, 71]),
        thumbnail: () => {
          const { row, col } = (params as { cell: { row: number; col: number } }).cell;
          return {
            png: new Uint8Array([137, 80, 78, 71]),
            window: { row: Math.max(0, Math.min(ROWS - 3, row - 1)), col: Math.max(0, Math.min(COLS - 3, col - 1)), rows: 3, cols: 3 },
          };
        },
        reconstruct: () => new Uint8Array([1, 2, 3]),
      };
      return answers[method]!() as EngineRequests[M]['result'];
    },
  };
  return engine;
}

const base = tempDir();
let folders = 0;
/** A fresh dataset folder under this file's temp dir. */
function datasetFolder(): string {
  const dir = path.join(base, `data-${folders++}`);
  fs.mkdirSync(dir);
  return dir;
}

function setup(
  opts: { target?: InspectorTarget; file?: string; engine?: ReturnType<typeof fakeEngine>; saveAs?: (defaultName: string) => string | undefined } = {},
) {
  const root = opts.file ? path.dirname(opts.file) : datasetFolder();
  const file = opts.file ?? path.join(root, 'a.png');
  fs.writeFileSync(file, Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
  const engine = opts.engine ?? fakeEngine();
  const posted: HostToInspector[] = [];
  const logs: { level: string; message: string }[] = [];
  const opened: { file: string; row: number; col: number }[] = [];
  const jumps: { keep: boolean; view: unknown }[] = [];
  const builds: (string | undefined)[] = [];
  const rebuilds: { root: string; shape: string; hops: number }[] = [];
  const saved: { defaultName: string; file?: string }[] = [];
  const exportDir = path.join(root, '..', `${path.basename(root)}-exports`);
  const host: InspectorHost = {
    engine,
    log: {
      info: (m) => logs.push({ level: 'info', message: m }),
      warn: (m) => logs.push({ level: 'warn', message: m }),
      error: (m) => logs.push({ level: 'error', message: m }),
    },
    post: (m) => posted.push(m),
    locate: () => opts.target ?? { dbDir: '/db', root, datasetName: 'data', buildRoot: root },
    settings: () => ({ topK: 5, excludeSelf: true, temperature: 0.5, queryKeys: 'code' }),
    model: () => '/models/m.json',
    imageSrc: () => 'https://file+.vscode-resource/a.png',
    isBuilding: () => false,
    build: async (r) => void builds.push(r),
    rebuildWithKeys: async (r, keys) => void rebuilds.push({ root: r, ...keys }),
    openPatch: (f, row, col, keep, view) => {
      opened.push({ file: f, row, col });
      jumps.push({ keep, view });
    },
    showLog: () => {},
    // The save dialog's seam: the user picks a file name (saveAs) in a folder of exports; the real writer saves there.
    saveExport: async (table, defaultName) => {
      const chosen = opts.saveAs ? opts.saveAs(defaultName) : defaultName;
      const r = await saveTable(table, defaultName, async () => {
        if (!chosen) return undefined;
        fs.mkdirSync(exportDir, { recursive: true });
        const target = path.join(exportDir, chosen);
        return { file: target, write: (bytes) => fs.promises.writeFile(target, bytes) };
      });
      saved.push({ defaultName, file: r?.file });
    },
  };
  const session = new InspectorSession(file, host);
  return { root, file, engine, posted, logs, opened, jumps, builds, rebuilds, saved, session };
}

/** Waits until the posted messages satisfy a condition (answers are async). */
async function until<T>(what: string, fn: () => T | undefined | false): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function ready(s: ReturnType<typeof setup>) {
  s.session.receive({ type: 'ready' });
  await until('status ready', () => s.posted.find((m) => m.type === 'status' && m.status.state === 'ready'));
}

test('ready is answered by init (image, database, settings) and the grid as typed arrays', async () => {
  const s = setup();
  await ready(s);
  const init = s.posted.find((m) => m.type === 'init') as Extract<HostToInspector, { type: 'init' }>;
  assert.deepEqual(init.image, { name: 'a.png', path: 'a.png', src: 'https://file+.vscode-resource/a.png' });
  assert.equal(init.database?.rows, ROWS);
  assert.equal(init.database?.hasDecoder, true);
  assert.deepEqual(init.settings, { topK: 5, excludeSelf: true, temperature: 0.5, queryKeys: 'code' });
  const grid = s.posted.find((m) => m.type === 'grid') as Extract<HostToInspector, { type: 'grid' }>;
  assert.ok(grid.tokens instanceof Int32Array && grid.distances instanceof Float32Array && grid.cells instanceof Float32Array);
  assert.deepEqual([...grid.cells.subarray(4 * 6, 4 * 7)], [20, 20, 20, 20]); // cell (1, 1)
  // The grid is asked for with the trusted model, for the absolute file.
  const g = s.engine.calls.find((c) => c.method === 'grid')!;
  assert.deepEqual(g.params, { dbDir: '/db', image: s.file, model: '/models/m.json' });
});

test("no database: init without one and a Build button; Build builds the image's dataset, then starts again", async () => {
  const s = setup({ engine: fakeEngine({ summary: false }) });
  s.session.receive({ type: 'ready' });
  const init = await until('init', () => s.posted.find((m) => m.type === 'init') as Extract<HostToInspector, { type: 'init' }> | undefined);
  assert.equal(init.database, null);
  assert.equal(init.status.state, 'noDatabase');
  assert.equal(init.status.canBuild, true);
  s.session.receive({ type: 'build' });
  await until('a second init', () => s.posted.filter((m) => m.type === 'init').length === 2);
  assert.deepEqual(s.builds, [s.root]);
  assert.ok(s.posted.some((m) => m.type === 'status' && m.status.state === 'building'));
});

test('Rebuild with these key settings: the dataset is rebuilt with the shape and h asked for, then the session starts again; an image of no dataset is refused', async () => {
  const s = setup();
  await ready(s);
  s.session.receive({ type: 'rebuildWithKeys', shape: 'ring', hops: 2 });
  await until('a second init', () => s.posted.filter((m) => m.type === 'init').length === 2);
  assert.deepEqual(s.rebuilds, [{ root: s.root, shape: 'ring', hops: 2 }]);
  assert.deepEqual(s.builds, []);
  const building = s.posted.find((m) => m.type === 'status' && m.status.state === 'building') as Extract<HostToInspector, { type: 'status' }>;
  assert.match(building.status.message, /Rebuilding the patch database of .* with ring keys, h = 2/);
  // Out of range h: rejected by the schema.
  assert.equal(s.session.receive({ type: 'rebuildWithKeys', shape: 'ring', hops: 9 }), undefined);
  const other = setup({ target: { dbDir: '/db', root: '/data', datasetName: 'data' } });
  await ready(other);
  other.session.receive({ type: 'rebuildWithKeys', shape: 'ring', hops: 2 });
  assert.deepEqual(other.rebuilds, []);
  assert.ok(
    other.logs.some((l) => /no dataset whose database could be rebuilt/.test(l.message)),
    JSON.stringify(other.logs),
  );
});

test('an image outside every dataset with no database anywhere: a clear message, Build asks for the dataset', async () => {
  const s = setup({ target: {} });
  s.session.receive({ type: 'ready' });
  const init = await until('init', () => s.posted.find((m) => m.type === 'init') as Extract<HostToInspector, { type: 'init' }> | undefined);
  assert.equal(init.status.state, 'noDatabase');
  assert.match(init.status.message, /outside the open dataset folders/);
  assert.equal(s.engine.calls.length, 0);
});

test('query: answered by id with the results and the DAiD distribution as the engine gave them, and the settings passed on', async () => {
  const s = setup();
  await ready(s);
  s.session.receive({ type: 'query', messageId: 7, row: 1, col: 2, k: 3, excludeSelf: false });
  const r = await until('queryResult', () => s.posted.find((m) => m.type === 'queryResult') as Extract<HostToInspector, { type: 'queryResult' }> | undefined);
  assert.equal(r.inReplyTo, 7);
  assert.deepEqual(
    r.results.map((p) => p.image),
    ['b.png', 'sub/c.png'],
  );
  assert.deepEqual(
    r.results.map((p) => p.row),
    [1, 3],
  );
  assert.deepEqual(
    r.results.map((p) => p.token),
    [3, 5],
  );
  assert.deepEqual(
    r.results.map((p) => p.distance),
    [0.1, 0.2],
  );
  assert.deepEqual(r.distribution, [
    { token: 3, p: 0.6, distance: 0.1 },
    { token: 5, p: 0.4, distance: 0.2 },
  ]);
  assert.equal(r.token, 6);
  const q = s.engine.calls.find((c) => c.method === 'query')!;
  assert.deepEqual(q.params.options, { k: 3, excludeSelf: false, queryKeys: 'code', temperature: 0.5 });
  assert.equal(q.params.model, '/models/m.json');
});

test('engine errors come back as `error` answers with their class, and are logged', async () => {
  const s = setup({ engine: fakeEngine({ failQuery: 'the index cannot be read' }) });
  await ready(s);
  s.session.receive({ type: 'query', messageId: 3, row: 0, col: 0, k: 3, excludeSelf: true });
  const e = await until('error', () => s.posted.find((m) => m.type === 'error') as Extract<HostToInspector, { type: 'error' }> | undefined);
  assert.deepEqual(e, { type: 'error', inReplyTo: 3, kind: 'DatabaseError', message: 'the index cannot be read' });
  assert.ok(s.logs.some((l) => l.level === 'error' && l.message.includes('the index cannot be read')));
});

test("Rebuild is offered for the engine's RebuildNeededError alone, not for any message that mentions damage", async () => {
  for (const [failGrid, canBuild] of [
    [
      {
        name: 'RebuildNeededError',
        message: 'the database file /db/index.bin is damaged (checksum mismatch). Rebuild the database (patchlens index --rebuild)',
      },
      true,
    ],
    [{ name: 'ManifestError', message: 'the model file /m/encoder.onnx is missing' }, false],
  ] as const) {
    const s = setup({ engine: fakeEngine({ failGrid }) });
    s.session.receive({ type: 'ready' });
    const st = await until(`an error status for ${failGrid.name}`, () => {
      const m = s.posted.find((p) => (p.type === 'status' || p.type === 'init') && p.status.state === 'error');
      return m && (m.type === 'status' || m.type === 'init') ? m.status : undefined;
    });
    assert.equal(st.message, failGrid.message);
    assert.equal(st.canBuild, canBuild, failGrid.name);
  }
});

test('invalid messages are rejected, logged, answered with an error when they carry an id, and never reach the engine', async () => {
  const s = setup();
  await ready(s);
  const before = s.engine.calls.length;
  const bad: [string, unknown, number | undefined][] = [
    ['a string', 'query', undefined],
    ['an unknown type', { type: 'deleteAll', messageId: 1 }, 1],
    ['an unknown field', { type: 'query', messageId: 2, row: 0, col: 0, k: 3, excludeSelf: true, path: '/etc' }, 2],
    ['a row outside the grid', { type: 'query', messageId: 3, row: ROWS, col: 0, k: 3, excludeSelf: true }, 3],
    ['a column outside the grid', { type: 'query', messageId: 4, row: 0, col: COLS + 10, k: 3, excludeSelf: true }, 4],
    ['k = 0', { type: 'query', messageId: 5, row: 0, col: 0, k: 0, excludeSelf: true }, 5],
    ['a fractional row', { type: 'query', messageId: 6, row: 0.5, col: 0, k: 3, excludeSelf: true }, 6],
    ['a crop of an image never offered', { type: 'crop', messageId: 8, image: 'secret.png', row: 0, col: 0 }, 8],
    ['a crop outside the dataset', { type: 'crop', messageId: 9, image: '../../etc/passwd', row: 0, col: 0 }, 9],
    ['a crop of an absolute path', { type: 'crop', messageId: 10, image: '/etc/passwd', row: 0, col: 0 }, 10],
    ['an oversized string', { type: 'crop', messageId: 11, image: 'x'.repeat(5000), row: 0, col: 0 }, 11],
    ['a bad log level', { type: 'log', level: 'fatal', message: 'x' }, undefined],
    ['an open of a file never offered', { type: 'openPatch', image: 'other.png', row: 0, col: 0 }, undefined],
    ['an open outside the grid', { type: 'openPatch', image: 'a.png', row: 99, col: 0 }, undefined],
    ['a NaN messageId', { type: 'reconstruct', messageId: Number.NaN }, undefined],
  ];
  for (const [what, m, id] of bad) {
    const logs = s.logs.length;
    const posted = s.posted.length;
    s.session.receive(m);
    await until(`${what} to be logged`, () => s.logs.slice(logs).find((l) => l.level === 'warn' && /rejected/.test(l.message)));
    if (id !== undefined) {
      const e = await until(
        `${what} to be answered`,
        () => s.posted.slice(posted).find((x) => x.type === 'error') as Extract<HostToInspector, { type: 'error' }> | undefined,
      );
      assert.equal(e.inReplyTo, id, what);
      assert.equal(e.kind, 'InvalidMessage', what);
    }
  }
  assert.equal(s.engine.calls.length, before, 'no rejected message reached the engine');
  assert.deepEqual(s.opened, []);
});

test('crops and opens accept the images a query offered, inside the dataset; a crop is one engine request, cached', async () => {
  const s = setup({
    engine: fakeEngine({
      results: [
        { image: 'b.png', row: 0, col: 4, token: 1, distance: 0.1 },
        { image: '../outside.png', row: 1, col: 1, token: 2, distance: 0.2 },
      ],
    }),
  });
  await ready(s);
  s.session.receive({ type: 'query', messageId: 1, row: 1, col: 1, k: 2, excludeSelf: true });
  await until('queryResult', () => s.posted.find((m) => m.type === 'queryResult'));
  s.session.receive({ type: 'crop', messageId: 2, image: 'b.png', row: 0, col: 4 });
  const c = await until('cropResult', () => s.posted.find((m) => m.type === 'cropResult') as Extract<HostToInspector, { type: 'cropResult' }> | undefined);
  // The engine's window as it answered, with its PNG.
  assert.deepEqual(c.window, { row: 0, col: 2, rows: 3, cols: 3 });
  assert.deepEqual([...c.png], [137, 80, 78, 71]);
  const thumbnail = s.engine.calls.find((x) => x.method === 'thumbnail')!;
  assert.deepEqual(thumbnail.params, { dbDir: '/db', image: 'b.png', cell: { row: 0, col: 4 }, size: 96, model: '/models/m.json' });
  // One call: no token grid of the patch's image comes to the host, no separate crop.
  assert.deepEqual(
    s.engine.calls.filter((x) => x.method === 'grid' && x.params.image === 'b.png'),
    [],
  );
  assert.deepEqual(
    s.engine.calls.filter((x) => x.method === 'crop'),
    [],
  );
  // The same crop again comes from the cache.
  s.session.receive({ type: 'crop', messageId: 3, image: 'b.png', row: 0, col: 4 });
  await until('second cropResult', () => s.posted.find((m) => m.type === 'cropResult' && m.inReplyTo === 3));
  assert.equal(s.engine.calls.filter((x) => x.method === 'thumbnail').length, 1);
  // Compare on hover's crop of an h-hop neighbourhood: one engine request reaching h cells, larger, cached apart.
  s.session.receive({ type: 'crop', messageId: 4, image: 'b.png', row: 0, col: 4, hops: 3 });
  await until('neighbourhood cropResult', () => s.posted.find((m) => m.type === 'cropResult' && m.inReplyTo === 4));
  assert.deepEqual(s.engine.calls.filter((x) => x.method === 'thumbnail').at(-1)!.params, {
    dbDir: '/db',
    image: 'b.png',
    cell: { row: 0, col: 4 },
    reach: 3,
    size: 320,
    model: '/models/m.json',
  });
  assert.equal(s.engine.calls.filter((x) => x.method === 'thumbnail').length, 2);
  // A database entry pointing outside the dataset is offered but still refused.
  const logs = s.logs.length;
  s.session.receive({ type: 'openPatch', image: '../outside.png', row: 1, col: 1 });
  await until('refusal', () => s.logs.slice(logs).find((l) => /outside the dataset folder|'\.\.' segment/.test(l.message)));
  s.session.receive({ type: 'openPatch', image: 'b.png', row: 0, col: 4 });
  assert.deepEqual(s.opened, [{ file: path.join(s.root, 'b.png'), row: 0, col: 4 }]);
});

test('after a restart (a build) the list still drawn may fetch its thumbnails; another dataset root forgets them', async () => {
  const opts: { engine: ReturnType<typeof fakeEngine>; target?: InspectorTarget } = {
    engine: fakeEngine({ results: [{ image: 'b.png', row: 0, col: 4, token: 1, distance: 0.1 }] }),
  };
  const s = setup(opts);
  await ready(s);
  s.session.receive({ type: 'query', messageId: 1, row: 1, col: 1, k: 1, excludeSelf: true });
  await until('queryResult', () => s.posted.find((m) => m.type === 'queryResult'));
  await s.session.start(); // what a finished build or a settings change does
  s.session.receive({ type: 'crop', messageId: 2, image: 'b.png', row: 0, col: 4 });
  await until('cropResult', () => s.posted.find((m) => m.type === 'cropResult' && m.inReplyTo === 2));
  assert.deepEqual(
    s.logs.filter((l) => l.level !== 'info'),
    [],
  );
  // The image now belongs to another dataset: what the old one offered is refused.
  const other = datasetFolder();
  opts.target = { dbDir: '/db2', root: other, datasetName: 'other', buildRoot: other };
  await s.session.start();
  s.session.receive({ type: 'crop', messageId: 3, image: 'b.png', row: 0, col: 4 });
  await until('refusal', () => s.posted.find((m) => m.type === 'error' && m.inReplyTo === 3));
});

test('imagePixels sends the file itself for browser formats; reconstruct goes to the engine with the trusted model', async () => {
  const s = setup();
  await ready(s);
  s.session.receive({ type: 'imagePixels', messageId: 4 });
  const p = await until('imagePixels', () => s.posted.find((m) => m.type === 'imagePixels') as Extract<HostToInspector, { type: 'imagePixels' }> | undefined);
  assert.equal(p.mime, 'image/png');
  assert.deepEqual([...p.bytes], [...fs.readFileSync(s.file)]);
  s.session.receive({ type: 'reconstruct', messageId: 5 });
  await until('reconstruction', () => s.posted.find((m) => m.type === 'reconstruction'));
  assert.deepEqual(s.engine.calls.find((c) => c.method === 'reconstruct')!.params, { dbDir: '/db', image: s.file, model: '/models/m.json' });
});

test('TIFF pixels come from the engine as a PNG of the whole image', async () => {
  const root = datasetFolder();
  const s = setup({ file: path.join(root, 'scan.tif'), target: { dbDir: '/db', root, datasetName: 'd', buildRoot: root } });
  await ready(s);
  s.session.receive({ type: 'imagePixels', messageId: 4 });
  const p = await until('imagePixels', () => s.posted.find((m) => m.type === 'imagePixels') as Extract<HostToInspector, { type: 'imagePixels' }> | undefined);
  assert.equal(p.mime, 'image/png');
  assert.deepEqual(s.engine.calls.find((c) => c.method === 'crop')!.params, {
    file: path.join(root, 'scan.tif'),
    rect: { x: 0, y: 0, width: 100, height: 80 },
    size: 100,
    imageSize: { width: 100, height: 80 },
  });
});

test('select before the grid is there waits for it; answers of an earlier start are dropped', async () => {
  const s = setup();
  s.session.select(2, 3);
  await ready(s);
  const sel = await until('select', () => s.posted.find((m) => m.type === 'select'));
  assert.deepEqual(sel, { type: 'select', row: 2, col: 3 });
  s.session.receive({ type: 'query', messageId: 9, row: 1, col: 1, k: 2, excludeSelf: true });
  s.session.receive({ type: 'reload' }); // restarts before the answer is posted
  await until('a second ready status', () => s.posted.filter((m) => m.type === 'status' && m.status.state === 'ready').length === 2);
  assert.equal(s.posted.filter((m) => m.type === 'queryResult').length, 0);
});

test('dataset paths: relative, inside the folder; absolute, escaping and NUL paths refused', () => {
  const root = '/data/set';
  assert.equal(toDatasetPath(root, '/data/set/a/b.png'), 'a/b.png');
  assert.equal(toDatasetPath(root, '/data/other.png'), undefined);
  assert.deepEqual(resolveDatasetPath(root, 'a/b.png'), { ok: true, file: '/data/set/a/b.png' });
  for (const bad of ['../x.png', 'a/../../x.png', '/etc/passwd', 'C:\\x.png', '', 'a\0.png', '.', 'a/..']) {
    assert.equal(resolveDatasetPath(root, bad).ok, false, bad);
  }
});

test('a jump carries the view settings: the ones an inspector was opened with, then the ones its webview reports', async () => {
  const s = setup({ engine: fakeEngine({ results: [{ image: 'b.png', row: 0, col: 4, token: 1, distance: 0.1 }] }) });
  const carried = { shape: 'ring', hops: 2, overlay: 'tokens', showGrid: false, reconstruction: false } as const;
  s.session.carryView(carried);
  await ready(s);
  const init = s.posted.find((m) => m.type === 'init') as Extract<HostToInspector, { type: 'init' }>;
  assert.deepEqual(init.view, carried);
  s.session.receive({ type: 'query', messageId: 1, row: 1, col: 1, k: 5, excludeSelf: true });
  await until('queryResult', () => s.posted.find((m) => m.type === 'queryResult'));
  s.session.receive({ type: 'openPatch', image: 'b.png', row: 0, col: 4 });
  const mine = { shape: null, hops: 3, overlay: 'image', showGrid: true, reconstruction: true } as const;
  s.session.receive({ type: 'view', view: mine });
  s.session.receive({ type: 'openPatch', image: 'b.png', row: 0, col: 4, keep: true });
  assert.deepEqual(s.jumps, [
    { keep: false, view: carried },
    { keep: true, view: mine },
  ]);
  // a view outside the vocabulary is refused like any message
  const logs = s.logs.length;
  s.session.receive({ type: 'view', view: { ...mine, hops: 9 } });
  await until('refusal', () => s.logs.slice(logs).find((l) => l.level === 'warn'));
  assert.deepEqual(s.session.view, mine);
});

test("export: the last query's retrieved patches as CSV and its DAiD distribution as JSON, by the chosen file's extension; nothing to export before a query", async () => {
  const s = setup({ saveAs: (name) => (name.endsWith('-daid.csv') ? name.replace(/\.csv$/, '.json') : name) });
  await ready(s);
  assert.ok(s.session.receive({ type: 'export', kind: 'retrieved' }), 'the message is valid');
  assert.equal(s.saved.length, 0, 'nothing to save before a query');
  assert.ok(
    s.logs.some((l) => /no query to export yet/.test(l.message)),
    JSON.stringify(s.logs),
  );
  assert.equal(s.session.receive({ type: 'export', kind: 'codebook' }), undefined, 'a dataset table is not a query export');

  s.session.receive({ type: 'query', messageId: 7, row: 1, col: 2, k: 3, excludeSelf: false });
  await until('queryResult', () => s.posted.find((m) => m.type === 'queryResult'));
  s.session.receive({ type: 'export', kind: 'retrieved' });
  s.session.receive({ type: 'export', kind: 'daid' });
  await until('two saved files', () => s.saved.length === 2);
  // the two saves run at once: they may finish in either order
  s.saved.sort((a, b) => b.defaultName.localeCompare(a.defaultName));
  assert.deepEqual(
    s.saved.map((x) => x.defaultName),
    ['a-1-2-retrieved.csv', 'a-1-2-daid.csv'],
  );

  const csv = fs.readFileSync(s.saved[0].file!, 'utf8');
  assert.equal(csv, 'rank,image,row,col,token,squared_distance,same_token,caption\r\n1,b.png,1,1,3,0.1,false,\r\n2,sub/c.png,3,4,5,0.2,false,\r\n');
  assert.match(s.saved[1].file!, /-daid\.json$/);
  const doc = JSON.parse(fs.readFileSync(s.saved[1].file!, 'utf8')) as { kind: string; about: Record<string, unknown>; rows: Record<string, unknown>[] };
  assert.equal(doc.kind, 'daid');
  assert.deepEqual(doc.about, {
    dataset: 'data',
    image: 'a.png',
    row: 1,
    col: 2,
    token: 6,
    k: 3,
    temperature: 0.5,
    keys: 'code keys, causal h=1, border skip',
  });
  assert.deepEqual(doc.rows, [
    { rank: 1, token: 3, p: 0.6, true_token: false },
    { rank: 2, token: 5, p: 0.4, true_token: false },
  ]);

  // Cancelling the dialog writes nothing.
  const c = setup({ saveAs: () => undefined });
  await ready(c);
  c.session.receive({ type: 'query', messageId: 1, row: 1, col: 2, k: 3, excludeSelf: false });
  await until('queryResult', () => c.posted.find((m) => m.type === 'queryResult'));
  c.session.receive({ type: 'export', kind: 'retrieved' });
  await until('the dialog answered', () => c.saved.length === 1);
  assert.equal(c.saved[0].file, undefined);
});
