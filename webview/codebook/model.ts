// The Codebook view's model: codes in usage order, the token-id filter, the
// summary line, the rows a scrolled list shows. Pure: no DOM, no `vscode`.

import { perplexity } from '../../src/core/codebookStats';
import { formatCount, formatPercent, formatPerplexity } from '../../src/core/format';
import { int, num, passes, str, v } from '../../src/messageSchema';

/** Code ids by usage, most used first; ties (and dead codes) by id. */
export function usageOrder(counts: ArrayLike<number>): Uint32Array {
  const ids = new Uint32Array(counts.length);
  for (let i = 0; i < ids.length; i++) ids[i] = i;
  return ids.sort((a, b) => counts[b] - counts[a] || a - b);
}

export type TokenFilter =
  | { readonly kind: 'all' }
  /** Ids whose decimal form starts with these digits (the exact id first). */
  | { readonly kind: 'prefix'; readonly digits: string }
  /** Ids in any of the closed ranges. */
  | { readonly kind: 'ranges'; readonly ranges: readonly (readonly [number, number])[] };

export const FILTER_HELP = 'Type a token id (42), a range (100-200) or a list (1, 5, 9-12)';

/** Parses the filter box: empty, digits, `a-b`, or a comma list of ids and ranges. A leading # is allowed. */
export function parseTokenFilter(text: string): TokenFilter | { readonly error: string } {
  const t = text.trim();
  if (!t) return { kind: 'all' };
  if (/^#?\d+$/.test(t)) return { kind: 'prefix', digits: String(Number(t.replace('#', ''))) };
  const ranges: [number, number][] = [];
  for (const part of t.split(',')) {
    const p = part.trim();
    if (!p) continue;
    const m = /^#?(\d+)\s*(?:(?:-|–|\.\.)\s*#?(\d+))?$/.exec(p);
    if (!m) return { error: FILTER_HELP };
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    ranges.push([Math.min(a, b), Math.max(a, b)]);
  }
  return ranges.length ? { kind: 'ranges', ranges } : { kind: 'all' };
}

export function matchesFilter(f: TokenFilter, id: number): boolean {
  switch (f.kind) {
    case 'all':
      return true;
    case 'prefix':
      return String(id).startsWith(f.digits);
    case 'ranges':
      return f.ranges.some(([a, b]) => id >= a && id <= b);
  }
}

/** The codes the list shows, in order: usage order filtered; an exact id match first. */
export function visibleCodes(order: ArrayLike<number>, counts: ArrayLike<number>, f: TokenFilter, showDead: boolean): number[] {
  const out: number[] = [];
  const exact = f.kind === 'prefix' ? Number(f.digits) : -1;
  if (exact >= 0 && exact < counts.length && (showDead || counts[exact] > 0)) out.push(exact);
  for (let i = 0; i < order.length; i++) {
    const id = order[i];
    if (id === exact) continue;
    if (!showDead && counts[id] === 0) continue;
    if (matchesFilter(f, id)) out.push(id);
  }
  return out;
}

export interface CodebookSummary {
  readonly codes: number;
  readonly used: number;
  readonly dead: number;
  /** Indexed patch positions (sum of counts). */
  readonly tokens: number;
  /** exp(entropy) of usage, in codes. */
  readonly perplexity: number;
  /** The largest count (for usage bars). */
  readonly max: number;
}

export function summarize(counts: ArrayLike<number>): CodebookSummary {
  let used = 0;
  let tokens = 0;
  let max = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (c > 0) used++;
    tokens += c;
    if (c > max) max = c;
  }
  return { codes: counts.length, used, dead: counts.length - used, tokens, perplexity: perplexity(counts), max };
}

export function summaryText(s: CodebookSummary, images: number): string {
  return `${formatCount(s.used)} of ${formatCount(s.codes)} codes used · ${formatCount(s.dead)} dead · perplexity ${formatPerplexity(s.perplexity)} · ${formatCount(images)} image${images === 1 ? '' : 's'}`;
}

/** Usage share of a code, as shown next to its count. */
export function shareText(count: number, tokens: number): string {
  if (!tokens || !count) return '';
  return formatPercent(count / tokens);
}

/** Rows [first, last) of a fixed-height list to render for a scroll position, with overscan. */
export function rowWindow(scrollTop: number, viewport: number, rowHeight: number, total: number, overscan = 6): { first: number; last: number } {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(total, Math.ceil((scrollTop + viewport) / rowHeight) + overscan);
  return { first, last: Math.max(first, last) };
}

/** The prototype of a code as RGBA for ImageData (alpha 255), or undefined for a code never seen. */
export function prototypeRgba(prototypes: Uint8Array, patch: number, id: number, count: number): Uint8ClampedArray<ArrayBuffer> | undefined {
  if (!count) return undefined;
  const n = patch * patch;
  const src = id * n * 3;
  if (src + n * 3 > prototypes.length) return undefined;
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    out[i * 4] = prototypes[src + i * 3];
    out[i * 4 + 1] = prototypes[src + i * 3 + 1];
    out[i * 4 + 2] = prototypes[src + i * 3 + 2];
    out[i * 4 + 3] = 255;
  }
  return out;
}

const viewStateFields = {
  /** The dataset shown. */
  root: v.optional(str(4096)),
  /** The token-id filter's text. */
  filter: str(200),
  showDead: v.boolean(),
  /** The selected code. */
  selected: v.optional(int(0, (1 << 20) - 1)),
  scrollTop: num(0, 1e9),
};

/** What the view keeps across hiding and reloading (getState/setState). */
export interface CodebookViewState {
  root?: string;
  filter: string;
  showDead: boolean;
  selected?: number;
  scrollTop: number;
}

const DEFAULT_STATE: CodebookViewState = { root: undefined, filter: '', showDead: true, selected: undefined, scrollTop: 0 };

/** The saved state, checked like a message: each invalid field falls back to its default. */
export function restoreCodebookState(saved: unknown): CodebookViewState {
  const out: CodebookViewState = { ...DEFAULT_STATE };
  if (saved === null || typeof saved !== 'object' || Array.isArray(saved)) return out;
  for (const key of Object.keys(viewStateFields) as (keyof typeof viewStateFields)[]) {
    const value = (saved as Record<string, unknown>)[key];
    if (value !== undefined && passes(viewStateFields[key], value)) (out as unknown as Record<string, unknown>)[key] = value;
  }
  return out;
}
