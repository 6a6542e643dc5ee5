// Saving an export table where the user chose: the file's extension picks
// the format (.json is JSON, anything else CSV). The save dialog is a seam
// (VS Code's showSaveDialog in the extension, a temp folder in tests), so
// this file has no vscode import.

import { formatOfFile, formatTable, type ExportTable } from '../core/exportTable';
import type { ExportFormat } from '../core/vocabulary';

/** Where the user chose to save: a name to show and how to write there. */
export interface SaveTarget {
  /** The chosen file's path (for messages). */
  readonly file: string;
  write(bytes: Uint8Array): PromiseLike<void>;
}

/** The save dialog: the chosen file, or undefined when the user cancelled. */
export type ChooseSaveTarget = (defaultName: string) => PromiseLike<SaveTarget | undefined>;

export interface SavedTable {
  readonly file: string;
  readonly format: ExportFormat;
  readonly rows: number;
}

/** Asks where to save, then writes the table in the format the chosen name asks for; undefined when cancelled. */
export async function saveTable(table: ExportTable, defaultName: string, choose: ChooseSaveTarget): Promise<SavedTable | undefined> {
  const target = await choose(defaultName);
  if (!target) return undefined;
  const format = formatOfFile(target.file);
  await target.write(new TextEncoder().encode(formatTable(table, format)));
  return { file: target.file, format, rows: table.rows.length };
}

/** A file name for an export: `<image stem>-<row>-<col>-<kind>.csv` for a query, `<dataset>-<kind>.csv` otherwise. */
export function exportFileName(kind: string, source: string, cell?: { row: number; col: number }): string {
  const stem = (source.split('/').pop() ?? source).replace(/\.[^.]*$/, '').replace(/[^\p{L}\p{N}._-]+/gu, '_') || 'patchlens';
  return cell ? `${stem}-${cell.row}-${cell.col}-${kind}.csv` : `${stem}-${kind}.csv`;
}
