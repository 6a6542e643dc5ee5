// Inspector latency at ~1M database entries: how long from a click on a patch
// to the retrieved list drawn (target: median under 100 ms), and to every
// visible thumbnail loaded, on the HNSW backend and on a local Lance database
// of the same photos, side by side in one run. Prints figures and writes
// bench/results/inspector-<entries>.json; asserts nothing.
//
//   npm run bench:inspector -- [--entries 1000000] [--clicks 60] [--k 20] [--backend hnsw|lance|both] [--build-only]
//
// Beside the latencies, each backend's resident memory is measured in a fresh
// process: after opening the database, and after queries on it.
//
// The database is real: ~entries/506 synthetic photos tokenized by a small
// ONNX VQ model shaped like Janus-Pro's (384 px input, 16 px patches -> 24x24
// grid, d = 8; 4096 codes by default, --codes 16384 for Janus-Pro's), causal
// h = 1 keys with skipped borders (506 entries an image, key dim 32), HNSW
// M = 16, efConstruction 100 (--efConstruction); the Lance database is built
// from the same photos by the same engine request with backend 'lance' (its
// IVF-PQ index chosen by the builder, as `patchlens index --backend lance`
// does). Both are built once into .cache/bench-inspector/ (minutes) and reused. The click runs through the
// whole inspector minus VS Code: the webview bundle in Chromium -> the host
// session -> the engine worker -> back -> the list drawn; the page-to-host
// hop is Playwright's binding instead of VS Code's postMessage.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { EngineClient } from '../src/engine/engineClient';
import { PatchDatabase } from '../src/engine/database';
import { LanceDatabase } from '../src/engine/lanceDatabase';
import { PatchRetriever } from '../src/engine/retrieval';
import { Tokenizer } from '../src/engine/tokenizer';
import type { DbSummary } from '../src/engine/engineProtocol';
import { entryCount } from '../src/core/neighbourhood';
import { texturedImage } from '../test/support/fixtures';
import { writeTinyModel } from '../test/support/tinyModel';
import { closeBrowser, openWebview } from '../test/support/webviewHarness';
import { bridgeSession } from '../test/webview/sessionBridge';

const ENTRIES_PER_IMAGE = entryCount(24, 24, 'causal', 1, 'skip');
/** Written into the dataset after the build: inspected, it is tokenized on the fly. */
const NOT_INDEXED = 'not-indexed.png';
type Backend = 'hnsw' | 'lance';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
function strArg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? String(process.argv[i + 1]) : dflt;
}

const entries = arg('entries', 1_000_000);
const clicks = arg('clicks', 60);
const k = arg('k', 20);
const efConstruction = arg('efConstruction', 100);
/** Codebook size: 4096 keeps the one-off build short; retrieval does not depend on it. */
const codes = arg('codes', 4096);
const backendArg = strArg('backend', 'both');
if (!['hnsw', 'lance', 'both'].includes(backendArg)) throw new RangeError(`--backend must be hnsw, lance or both, got ${backendArg}`);
const backends: Backend[] = backendArg === 'both' ? ['hnsw', 'lance'] : [backendArg as Backend];
const imagesWanted = Math.ceil(entries / ENTRIES_PER_IMAGE);
const repo = path.resolve(__dirname, '..');
const dir = path.join(repo, '.cache', 'bench-inspector', `n${imagesWanted}-ef${efConstruction}-k${codes}`);
const root = path.join(dir, 'photos');
/** The HNSW database in the dataset (as a build from VS Code puts it), the Lance one beside the dataset. */
const dbDirs: Record<Backend, string> = { hnsw: path.join(root, '.patchlens'), lance: path.join(dir, 'lance') };

interface Stats {
  readonly median: number;
  readonly p90: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}
function statsOf(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p90: q(0.9), min: s[0], max: s[s.length - 1], n: s.length };
}

/** A deterministic stream of grid cells, never the same twice in a row. */
function* cells(seed: number): Generator<{ row: number; col: number }> {
  let x = seed;
  let last = -1;
  for (;;) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const c = x % (24 * 24);
    if (c === last) continue;
    last = c;
    yield { row: Math.floor(c / 24), col: c % 24 };
  }
}

async function writePhotos(): Promise<void> {
  fs.mkdirSync(root, { recursive: true });
  const t0 = performance.now();
  let written = 0;
  for (let i = 0; i < imagesWanted; i++) {
    const f = path.join(root, `photo-${String(i).padStart(5, '0')}.png`);
    if (!fs.existsSync(f)) {
      await (await texturedImage(96, 96, 1000 + i)).png().toFile(f);
      written++;
    }
  }
  if (written) console.log(`dataset: ${written} of ${imagesWanted} images written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

async function ensureDatabase(engine: EngineClient, model: string, backend: Backend): Promise<void> {
  const dbDir = dbDirs[backend];
  // A cached database from an older format or a killed run is rebuilt, not an error.
  let rebuild = false;
  const summary = fs.existsSync(dbDir)
    ? await engine.request('summary', { dbDir }).catch((err: unknown) => {
        console.log(`cached ${backend} database unusable (${err instanceof Error ? err.message : String(err)}): rebuilding it`);
        rebuild = true;
        return undefined;
      })
    : undefined;
  if (summary && summary.images >= imagesWanted) {
    console.log(
      `${backend} database: ${summary.entries.toLocaleString('en-US')} entries in ${summary.images} images (cached in ${path.relative(repo, dbDir)})`,
    );
    return;
  }
  // the not-indexed image stays out of every build
  fs.rmSync(path.join(root, NOT_INDEXED), { force: true });
  await writePhotos();
  let last = 0;
  const r = await engine.request(
    'build',
    {
      root,
      dbDir,
      model,
      keys: { shape: 'causal', hops: 1, border: 'skip', source: 'latent' },
      ...(backend === 'lance' ? { backend: 'lance' as const } : { hnsw: { m: 16, efConstruction, ef: 64 } }),
      rebuild,
    },
    {
      timeoutMs: 0,
      onProgress: (p) => {
        if (p.phase === 'encode' && p.done - last >= 200) {
          last = p.done;
          console.log(`  ${backend} build: ${p.done}/${p.total} images`);
        }
      },
    },
  );
  const t = r.timings;
  console.log(
    `${backend} database: ${r.entries.toLocaleString('en-US')} entries built in ${(r.elapsedMs / 1000).toFixed(0)} s (encode ${(t.encodeMs / 1000).toFixed(0)} s, insert ${(t.insertMs / 1000).toFixed(0)} s, write ${(t.writeMs / 1000).toFixed(0)} s)`,
  );
}

interface ClickRun {
  readonly listMs: number[];
  readonly thumbsMs: number[];
  readonly roundTripMs: number[];
  readonly renderMs: number[];
  readonly count: number;
}

interface BackendResult {
  readonly backend: Backend;
  readonly dbDir: string;
  readonly entries: number;
  readonly images: number;
  readonly index: DbSummary['index'];
  readonly openMs: number;
  readonly engineQuery: Stats;
  /** Of the engine query: the search alone, as the retriever times it. */
  readonly search: Stats;
  readonly clickIndexed: Stats;
  readonly roundTrip: Stats;
  readonly render: Stats;
  readonly thumbs: Stats;
  readonly clickNotIndexed: Stats;
  readonly rows: number;
  readonly resident: Resident;
}

/** Resident memory of a fresh process that opens the database and queries it (MB, after a full collection). */
interface Resident {
  readonly baseMb: number;
  readonly openMb: number;
  readonly queriedMb: number;
  readonly peakMb: number;
}

const photo = (i: number) => path.join(root, `photo-${String(i % imagesWanted).padStart(5, '0')}.png`);

async function measure(engine: EngineClient, model: string, backend: Backend): Promise<BackendResult> {
  const dbDir = dbDirs[backend];
  // 1. The engine alone: a query request from the extension host's side (worker round trip included).
  const t0 = performance.now();
  await engine.request('query', { dbDir, image: photo(0), row: 5, col: 5, options: { k, excludeSelf: true }, model }); // opens the database
  const openMs = performance.now() - t0;
  const engineMs: number[] = [];
  const searchMs: number[] = [];
  const gen = cells(1);
  for (let i = 0; i < 200; i++) {
    const c = gen.next().value!;
    const t = performance.now();
    const r = await engine.request('query', { dbDir, image: photo(i * 7919), row: c.row, col: c.col, options: { k, excludeSelf: true }, model });
    engineMs.push(performance.now() - t);
    searchMs.push(r.searchMs);
  }

  // 2. Click -> list drawn, through the webview, the host session and the engine.
  const resources: Record<string, Uint8Array> = {};
  const offDb = path.join(root, NOT_INDEXED);
  if (!fs.existsSync(offDb)) await (await texturedImage(96, 96, 424242)).png().toFile(offDb);
  const runClicks = async (file: string, rel: string): Promise<ClickRun> => {
    resources[rel] = fs.readFileSync(file);
    const w = await openWebview({ name: `bench-${backend}`, bundle: 'inspector', resources, viewport: { width: 1400, height: 900 } });
    bridgeSession(w, file, { engine, root, dbDir, model, settings: { topK: k } });
    await w.page.locator('[data-testid="patch-grid"][data-rows]').waitFor({ timeout: 120_000 });
    const listMs: number[] = [];
    const thumbsMs: number[] = [];
    const roundTripMs: number[] = [];
    const renderMs: number[] = [];
    const g = cells(7);
    for (let i = 0; i < clicks + 3; i++) {
      const c = g.next().value!;
      const p = await w.cellPoint(c.row, c.col);
      // In the page: a real click's pointer events at the cell, then wait for the list of that
      // cell and the next frame (drawn), then for its visible thumbnails.
      const t = (await w.page.evaluate(`new Promise((resolve) => {
        const list = document.querySelector('[data-testid="retrieved-list"]');
        const target = document.elementFromPoint(${p.x}, ${p.y});
        performance.clearMeasures();
        const t0 = performance.now();
        let drawn = 0;
        const thumbs = () => {
          const imgs = [...list.querySelectorAll('.retrieved-item')].filter((e) => e.getBoundingClientRect().top < innerHeight).map((e) => e.querySelector('.thumb'));
          const m = (n) => performance.getEntriesByName(n, 'measure').pop()?.duration ?? NaN;
          if (imgs.every((t) => !t.classList.contains('loading'))) resolve({ list: drawn, thumbs: performance.now() - t0, roundTrip: m('patchlens:query-round-trip'), render: m('patchlens:query-render') });
          else setTimeout(thumbs, 2);
        };
        const obs = new MutationObserver(() => {
          if (list.dataset.forRow === '${c.row}' && list.dataset.forCol === '${c.col}') {
            obs.disconnect();
            requestAnimationFrame(() => { drawn = performance.now() - t0; thumbs(); });
          }
        });
        obs.observe(list, { attributes: true, childList: true });
        const opts = { clientX: ${p.x}, clientY: ${p.y}, pointerId: 1, button: 0, buttons: 1, bubbles: true, isPrimary: true };
        target.dispatchEvent(new PointerEvent('pointerdown', opts));
        target.dispatchEvent(new PointerEvent('pointerup', { ...opts, buttons: 0 }));
      })`)) as { list: number; thumbs: number; roundTrip: number; render: number };
      if (i >= 3) {
        // the first clicks warm caches (JIT, the engine's open database)
        listMs.push(t.list);
        thumbsMs.push(t.thumbs);
        roundTripMs.push(t.roundTrip);
        renderMs.push(t.render);
      }
    }
    const count = await w.page.getByTestId('retrieved-item').count();
    await w.close();
    return { listMs, thumbsMs, roundTripMs, renderMs, count };
  };
  const inspected = `photo-${String(Math.min(42, imagesWanted - 1)).padStart(5, '0')}.png`;
  const indexed = await runClicks(path.join(root, inspected), inspected);
  const onTheFly = await runClicks(offDb, NOT_INDEXED);
  const summary = (await engine.request('summary', { dbDir }))!;
  return {
    backend,
    dbDir: path.relative(repo, dbDir),
    entries: summary.entries,
    images: summary.images,
    index: summary.index,
    openMs,
    engineQuery: statsOf(engineMs),
    search: statsOf(searchMs),
    clickIndexed: statsOf(indexed.listMs),
    roundTrip: statsOf(indexed.roundTripMs),
    render: statsOf(indexed.renderMs),
    thumbs: statsOf(indexed.thumbsMs),
    clickNotIndexed: statsOf(onTheFly.listMs),
    rows: indexed.count,
    resident: resident(backend, model),
  };
}

/** Runs this file with --resident-of in a fresh process (the engine's worker shares this one's memory). */
function resident(backend: Backend, model: string): Resident {
  const r = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      __filename,
      '--resident-of',
      backend,
      '--entries',
      String(entries),
      '--efConstruction',
      String(efConstruction),
      '--codes',
      String(codes),
      '--model',
      model,
    ],
    { encoding: 'utf8', cwd: repo, maxBuffer: 1 << 24 },
  );
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (r.status !== 0 || !line) throw new Error(`resident measurement of ${backend} failed: ${r.stderr || r.stdout}`);
  return JSON.parse(line) as Resident;
}

/** In a fresh process: open the backend's database as the engine worker does, then 200 queries through the retriever. */
async function residentOf(backend: Backend, model: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  const mb = () => {
    gc();
    return process.memoryUsage().rss / 2 ** 20;
  };
  let peak = 0;
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss / 2 ** 20)), 20);
  const baseMb = mb();
  const db = backend === 'lance' ? await LanceDatabase.connect(dbDirs.lance) : PatchDatabase.open(dbDirs.hnsw, { verify: false });
  if (!db) throw new Error(`no ${backend} database in ${dbDirs[backend]}`);
  const openMb = mb();
  const r = new PatchRetriever(db, root, () => Tokenizer.load(model));
  const gen = cells(3);
  for (let i = 0; i < 200; i++) {
    const c = gen.next().value!;
    const grid = await r.tokenGrid(photo(i * 7919));
    await r.query(grid, c.row, c.col, { k, excludeSelf: true });
  }
  const queriedMb = mb();
  clearInterval(sample);
  if (db instanceof LanceDatabase) db.close();
  console.log(JSON.stringify({ baseMb, openMb, queriedMb, peakMb: Math.max(peak, queriedMb) } satisfies Resident));
}

const f1 = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const cell = (s: Stats) => `${f1(s.median)} / ${f1(s.p90)} / ${f1(s.max)}`;

function indexText(r: BackendResult): string {
  const ix = r.index;
  if (r.backend === 'hnsw') return `HNSW M ${ix.m} efConstruction ${ix.efConstruction} ef ${ix.ef}`;
  const l = ix.lance!;
  return l.partitions
    ? `IVF-PQ ${l.partitions} partitions x ${l.subVectors} sub-vectors, nprobes ${l.nprobes}, refine ${l.refineFactor}`
    : 'flat (no vector index)';
}

async function main(): Promise<void> {
  const resOf = strArg('resident-of', '');
  if (resOf) return residentOf(resOf as Backend, strArg('model', ''));
  fs.mkdirSync(dir, { recursive: true });
  const model = writeTinyModel(path.join(dir, 'model'), { size: 384, patch: 16, dim: 8, codes, seed: 7 });
  const engine = new EngineClient();
  const results: BackendResult[] = [];
  try {
    for (const b of backends) await ensureDatabase(engine, model, b);
    // --build-only: the (long) builds in their own run, e.g. one backend at a time on a shared machine
    if (process.argv.includes('--build-only')) return;
    for (const b of backends) results.push(await measure(engine, model, b));
  } finally {
    await closeBrowser();
    await engine.dispose();
  }

  if (!results.length) return;
  const rows: [string, (r: BackendResult) => string][] = [
    ['index', indexText],
    ['entries (images)', (r) => `${r.entries.toLocaleString('en-US')} (${r.images})`],
    ['first query (opens the database)', (r) => `${f1(r.openMs)} ms`],
    ['engine query (host -> worker -> host)', (r) => cell(r.engineQuery)],
    ['  of which the search', (r) => cell(r.search)],
    ['click -> list drawn, indexed image', (r) => `${cell(r.clickIndexed)}   [${r.rows} rows]`],
    ['  of which query sent -> answer in page', (r) => cell(r.roundTrip)],
    ['  of which answer -> list and bars built', (r) => cell(r.render)],
    ['click -> thumbnails loaded, indexed', (r) => cell(r.thumbs)],
    ['click -> list drawn, image not indexed', (r) => cell(r.clickNotIndexed)],
    [
      'resident MB: base / opened / after 200 queries',
      (r) => `${r.resident.baseMb.toFixed(0)} / ${r.resident.openMb.toFixed(0)} / ${r.resident.queriedMb.toFixed(0)}`,
    ],
    ['  peak resident MB', (r) => r.resident.peakMb.toFixed(0)],
  ];
  const w0 = Math.max(...rows.map(([l]) => l.length)) + 2;
  const w = 40;
  console.log('');
  console.log(`Inspector latency, k = ${k}, ${clicks} clicks a case; ms as median / p90 / max (24x24 grid, ${codes} codes, causal h=1, key dim 32)`);
  console.log(`${''.padEnd(w0)}${results.map((r) => r.backend.padEnd(w)).join('')}`);
  for (const [label, f] of rows) console.log(`${label.padEnd(w0)}${results.map((r) => f(r).padEnd(w)).join('')}`);
  for (const r of results) {
    const met = r.clickIndexed.median < 100 && r.clickNotIndexed.median < 100;
    console.log(`target (${r.backend}): click -> list drawn median < 100 ms: ${met ? 'met' : 'NOT met'}`);
  }
  const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const out = path.join(repo, 'bench', 'results', `inspector-${results[0].entries}.json`);
  fs.writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), loadAverage: load, k, clicks, codes, results }, null, 1)}\n`);
  console.log(`(load average at the end ${load}; written to ${path.relative(repo, out)})`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
