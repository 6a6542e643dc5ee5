// Results as tables for a notebook or a paper: the retrieved patches of a
// query, its DAiD distribution, codebook statistics, retrieval predictability;
// written as CSV (RFC 4180) or JSON. File names are data from anyone's
// dataset: a text cell that a spreadsheet would run as a formula (starting
// with = + - @, or a tab or carriage return) is written with a leading
// apostrophe, as OWASP advises for CSV injection (JSON keeps every name
// exactly); numbers are written as numbers, so a negative one stays a number.
// Pure: no file access here.

import type { ExportFormat, ExportKind } from './vocabulary';

export type TableCell = string | number | boolean | null;

export interface ExportTable {
  readonly kind: ExportKind;
  /** What the rows describe (dataset, query patch, settings): JSON's `about`; a CSV has rows only. */
  readonly about: Readonly<Record<string, TableCell>>;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly TableCell[])[];
}

/** A spreadsheet runs a cell starting with one of these as a formula. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV cell: numbers as they are, text guarded against formulas and quoted where needed. */
export function csvCell(v: TableCell): string {
  if (v === null) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  const text = FORMULA_START.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The table as CSV: a header row, then one line per row, CRLF line ends (RFC 4180). */
export function toCsv(t: ExportTable): string {
  const lines = [t.columns.map(csvCell), ...t.rows.map((r) => r.map(csvCell))];
  return `${lines.map((l) => l.join(',')).join('\r\n')}\r\n`;
}

/** The table as JSON: `{ kind, about, rows: [{ column: value, … }] }` (pandas: `DataFrame(doc["rows"])`). */
export function toJson(t: ExportTable): string {
  const rows = t.rows.map((r) => Object.fromEntries(t.columns.map((c, i) => [c, r[i] ?? null])));
  return `${JSON.stringify({ kind: t.kind, about: t.about, rows }, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
}

export function formatTable(t: ExportTable, format: ExportFormat): string {
  return format === 'json' ? toJson(t) : toCsv(t);
}

/** The format a file name asks for: `.json` is JSON, anything else CSV. */
export function formatOfFile(file: string): ExportFormat {
  return /\.json$/i.test(file) ? 'json' : 'csv';
}

export interface RetrievedRow {
  readonly image: string;
  readonly row: number;
  readonly col: number;
  readonly token: number;
  readonly distance: number;
  readonly caption?: string;
}

export interface QueryAbout {
  readonly dataset: string;
  readonly image: string;
  readonly row: number;
  readonly col: number;
  /** The queried patch's own token. */
  readonly token: number;
  readonly k: number;
  readonly temperature: number;
  readonly keys: string;
}

/** The retrieved patches of a query, nearest first. */
export function retrievedTable(about: QueryAbout, rows: readonly RetrievedRow[]): ExportTable {
  return {
    kind: 'retrieved',
    about: { ...about },
    columns: ['rank', 'image', 'row', 'col', 'token', 'squared_distance', 'same_token', 'caption'],
    rows: rows.map((r, i) => [i + 1, r.image, r.row, r.col, r.token, r.distance, r.token === about.token, r.caption ?? '']),
  };
}

/** DAiD's distribution of a query: p_ret per retrieved token, largest first. */
export function daidTable(about: QueryAbout, tokens: ArrayLike<number>, p: ArrayLike<number>): ExportTable {
  const rows: TableCell[][] = [];
  for (let i = 0; i < tokens.length; i++) rows.push([i + 1, tokens[i], p[i], tokens[i] === about.token]);
  return { kind: 'daid', about: { ...about }, columns: ['rank', 'token', 'p', 'true_token'], rows };
}

/** Usage per code (every code, dead ones with count 0), most used first. */
export function codebookTable(about: Readonly<Record<string, TableCell>>, usage: ArrayLike<number>): ExportTable {
  let total = 0;
  for (let i = 0; i < usage.length; i++) total += usage[i];
  const order = Array.from({ length: usage.length }, (_, i) => i).sort((a, b) => usage[b] - usage[a] || a - b);
  return {
    kind: 'codebook',
    about: { ...about },
    columns: ['token', 'count', 'share', 'dead'],
    rows: order.map((t) => [t, usage[t], total ? usage[t] / total : 0, usage[t] === 0]),
  };
}

/** A result of named figures (retrieval predictability): one row per figure, in the order given. */
export function metricsTable(kind: ExportKind, about: Readonly<Record<string, TableCell>>, figures: Readonly<Record<string, unknown>>): ExportTable {
  const rows: TableCell[][] = [];
  for (const [name, value] of Object.entries(figures)) {
    if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') rows.push([name, value]);
  }
  return { kind, about: { ...about }, columns: ['metric', 'value'], rows };
}
