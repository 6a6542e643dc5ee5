// One written form for each kind of value Patch Lens shows (webviews, trees,
// quick picks, notifications, the CLI's text output), so "(6, 5)", "11,130"
// and "12.4%" read the same wherever they appear. The CLI's --json output keeps
// raw numbers: these are for people, not scripts.

const GROUPED = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const ONE_DECIMAL = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** A grid cell, row first: "(6, 5)". */
export function formatCell(row: number, col: number): string {
  return `(${row}, ${col})`;
}

/** A grid's size, rows by columns: "24×24". */
export function formatGrid(rows: number, cols: number): string {
  return `${rows}×${cols}`;
}

/** A count of things, with thousands separators: "11,130". */
export function formatCount(n: number): string {
  return Number.isFinite(n) ? GROUPED.format(n) : String(n);
}

/** A noun for a count: "patch" for 1, "patches" otherwise. */
export function plural(n: number, word: string): string {
  if (n === 1) return word;
  return /(?:ch|sh|s|x)$/.test(word) ? `${word}es` : `${word}s`;
}

/** The last segment of a '/'-separated dataset path: the name an image is shown by. */
export function baseName(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}

/** A count and its noun, plural when it is not one: "1 image", "11,130 images". */
export function formatCountOf(n: number, singular: string, plural = `${singular}s`): string {
  return `${formatCount(n)} ${n === 1 ? singular : plural}`;
}

/**
 * A fraction in [0, 1] as a percentage with one decimal: "12.4%", "0.9%".
 * Exact ends read "0%" and "100%"; values that would round to them but are
 * not read "<0.1%" and ">99.9%", so a rare token never looks absent.
 */
export function formatPercent(fraction: number): string {
  if (!Number.isFinite(fraction)) return String(fraction);
  if (fraction === 0) return '0%';
  if (fraction === 1) return '100%';
  if (fraction > 0 && fraction < 0.0005) return '<0.1%';
  if (fraction < 1 && fraction >= 0.9995) return '>99.9%';
  return `${ONE_DECIMAL.format(fraction * 100)}%`;
}

/** A squared L2 distance between keys (or to a code), three decimals: "0.412". */
export function formatDistance(d: number): string {
  return Number.isFinite(d) ? d.toFixed(3) : String(d);
}

/** Perplexity (exp of the entropy, in codes), one decimal with separators: "2,447.4". */
export function formatPerplexity(p: number): string {
  return Number.isFinite(p) ? ONE_DECIMAL.format(p) : String(p);
}

/** A mean of counts (tokens per image, cells in a run), one decimal: "3.2". */
export function formatMean(x: number): string {
  return Number.isFinite(x) ? ONE_DECIMAL.format(x) : String(x);
}

/** A duration: "0.4 ms", "14 ms" under a second, "1.2 s" above it. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms >= 1000) return `${ONE_DECIMAL.format(ms / 1000)} s`;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms)} ms`;
}

/** A size in bytes, binary units: "512 B", "6.6 MB", "120 GB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

/** A value with no kind of its own (temperature, lambda, PSNR), three significant digits: "1", "0.25", "32.4". */
export function formatSignificant(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-4) return v.toExponential(2);
  return Number(v.toPrecision(3)).toString();
}
