// npm run bench:duplicates — the duplicate finder at scale on synthetic token
// grids (default 100k images, 24x24 tokens, K = 16384: LlamaGen VQ-16's grid):
// images/s, peak memory, the window tables' bytes, and the recall of planted
// copies (exact token copies, noisy copies, pasted 8x8 blocks), with a share
// of images on a uniform background to exercise the common-window guard.
// The grids are regenerated (seeded) on each of the finder's two passes, as a
// database streams its records; generating alone is timed too, and subtracted.
// Prints figures and writes bench/results/duplicates.json; nothing is asserted.

import { findDuplicates, type TokenImage, type TokenSource } from '../src/core/duplicates';
import { seededRng } from '../src/core/rng';
import { intArg, machineInfo, parseBenchArgs, table, writeResult } from './lib/common';

const USAGE = `npm run bench:duplicates -- [options]
  --images N     images (default 100000)
  --grid G       G x G tokens (default 24)
  --codes K      codebook size (default 16384)
  --window W     window side (default 3)
  --seed S       (default 1)
  --out NAME     results name under bench/results (default duplicates)`;

interface Plan {
  readonly n: number;
  readonly g: number;
  readonly k: number;
  readonly seed: number;
}

/** What image i is: a fresh grid, or a planted copy of an earlier one. */
function kind(i: number): 'copy' | 'noisy' | 'pasted' | 'flat' | 'fresh' {
  if (i < 100) return 'fresh';
  switch (i % 100) {
    case 1:
      return 'copy';
    case 2:
      return 'noisy';
    case 3:
      return 'pasted';
    case 4:
    case 5:
      return 'flat';
    default:
      return 'fresh';
  }
}

/** The earlier image a planted one copies. */
const origin = (i: number) => i - 50;

function freshGrid(p: Plan, i: number, out: Int32Array): void {
  const rng = seededRng(p.seed * 1_000_003 + i);
  // a skewed token distribution (real codebooks are used unevenly)
  for (let c = 0; c < out.length; c++) out[c] = Math.floor(p.k * rng() ** 2);
}

function grid(p: Plan, i: number, out: Int32Array, tmp: Int32Array): void {
  const what = kind(i);
  if (what === 'fresh') return freshGrid(p, i, out);
  if (what === 'flat') {
    freshGrid(p, i, out);
    out.fill(0, 0, Math.floor(out.length * 0.6)); // 60% uniform background: one window everywhere
    return;
  }
  freshGrid(p, origin(i), out);
  if (what === 'noisy') {
    const rng = seededRng(i);
    for (let c = 0; c < out.length; c++) if (rng() < 0.05) out[c] = Math.floor(rng() * p.k);
  } else if (what === 'pasted') {
    freshGrid(p, i, tmp);
    const g = p.g;
    for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) tmp[(g - 8 + r) * g + c] = out[(r + 2) * g + c + 2];
    out.set(tmp);
  }
}

function source(p: Plan): TokenSource {
  return {
    rows: p.g,
    cols: p.g,
    count: p.n,
    *images(): Iterable<TokenImage> {
      const out = new Int32Array(p.g * p.g);
      const tmp = new Int32Array(p.g * p.g);
      for (let i = 0; i < p.n; i++) {
        grid(p, i, out, tmp);
        yield { path: `img-${i}`, sha256: `h${i}`, tokens: out };
      }
    },
  };
}

async function main(): Promise<void> {
  const v = parseBenchArgs(USAGE, {
    images: { type: 'string' },
    grid: { type: 'string' },
    codes: { type: 'string' },
    window: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
  });
  const p: Plan = {
    n: intArg(v.images, 'images', 100_000),
    g: intArg(v.grid, 'grid', 24, 8),
    k: intArg(v.codes, 'codes', 16384, 2),
    seed: intArg(v.seed, 'seed', 1, 0),
  };
  const w = intArg(v.window, 'window', 3);
  const gen0 = performance.now();
  // the same grids as the finder will read, for their share of the time
  let sink = 0;
  for (const img of source(p).images() as Iterable<TokenImage>) sink += img.tokens[0];
  const genMs = (performance.now() - gen0) * 2; // the finder reads twice
  let peakRss = 0;
  const sample = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
  const timer = setInterval(sample, 50);
  const rss0 = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const res = await findDuplicates([source(p)], { window: w, limit: p.n, onProgress: sample });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  clearInterval(timer);
  sample();
  const planted = new Map<string, string>();
  for (let i = 0; i < p.n; i++) {
    const k = kind(i);
    if (k === 'copy' || k === 'noisy' || k === 'pasted') planted.set(`img-${origin(i)} img-${i}`, k);
  }
  const found = new Set(res.pairs.map((x) => `${x.a} ${x.b}`));
  const recall = (k: string) => {
    const all = [...planted].filter(([, kk]) => kk === k);
    return `${all.filter(([pair]) => found.has(pair)).length}/${all.length}`;
  };
  const others = res.pairs.filter((x) => !planted.has(`${x.a} ${x.b}`));
  const falsePairs = others.length;
  // two images on the uniform background can share a window that is background but for one token
  const idOf = (p: string) => Number(p.slice(4));
  const flatPairs = others.filter((x) => kind(idOf(x.a)) === 'flat' && kind(idOf(x.b)) === 'flat');
  const maxOtherShared = others.reduce((m, x) => Math.max(m, x.sharedCells), 0);
  const s = res.stats;
  const findMs = ms - genMs;
  const out = {
    machine: machineInfo(),
    plan: { ...p, window: w },
    elapsedMs: ms,
    generateMs: genMs,
    imagesPerSecond: p.n / (ms / 1000),
    imagesPerSecondFinderOnly: p.n / (findMs / 1000),
    cpuMs,
    imagesPerCpuSecond: p.n / (cpuMs / 1000),
    peakRssBytes: peakRss,
    rssGrowthBytes: peakRss - rss0,
    stats: s,
    tableBytesPerDistinctWindow: s.tableBytes / s.distinctWindows,
    recall: { copy: recall('copy'), noisy: recall('noisy'), pasted: recall('pasted') },
    reportedPairs: res.pairs.length,
    falsePairs,
    otherPairsBothOnBackground: flatPairs.length,
    maxOtherSharedCells: maxOtherShared,
    sink,
  };
  console.log(
    table(
      ['images', 'grid', 'w', 'images/s', 'finder only', 'images/CPU-s', 'peak RSS', 'tables', 'B/distinct window', 'distinct windows', 'common', 'pairs'],
      [
        [
          p.n,
          `${p.g}x${p.g}`,
          w,
          out.imagesPerSecond.toFixed(0),
          out.imagesPerSecondFinderOnly.toFixed(0),
          out.imagesPerCpuSecond.toFixed(0),
          `${(peakRss / 2 ** 20).toFixed(0)} MiB`,
          `${(s.tableBytes / 2 ** 20).toFixed(0)} MiB`,
          out.tableBytesPerDistinctWindow.toFixed(1),
          String(s.distinctWindows),
          String(s.commonWindows),
          String(res.pairs.length),
        ],
      ],
    ),
  );
  console.log(
    `recall of planted pairs: exact copies ${out.recall.copy}, 5%-noisy copies ${out.recall.noisy}, pasted 8x8 blocks ${out.recall.pasted}; ${falsePairs} other pairs (${flatPairs.length} of them two images on the uniform background; at most ${maxOtherShared} shared cells)`,
  );
  console.log(`(generating the grids: ${(genMs / 1000).toFixed(1)} s of the ${(ms / 1000).toFixed(1)} s)`);
  writeResult(v.out ?? 'duplicates', out);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
