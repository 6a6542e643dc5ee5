// "Go to Patch" references: `image:row,col` (or just `image`). Pure: no `vscode` import.

export interface PatchRef {
  /** The image as typed (relative to a dataset root, or absolute). */
  readonly image: string;
  /** Absent when only an image was given. */
  readonly row?: number;
  readonly col?: number;
}

/**
 * Parses `photos/cat.png:12,7`, `cat.png : 12, 7`, `cat.png:12:7`, `cat.png (12, 7)` or
 * `cat.png`. The position is taken from the end, so names with colons (and
 * Windows drive letters) stay whole.
 */
export function parsePatchRef(text: string): PatchRef | { error: string } {
  const t = text.trim();
  if (!t) return { error: 'Type an image and a patch, e.g. photos/cat.png:12,7' };
  const m = /^(.*?)\s*(?::\s*(\d+)\s*[,:]\s*(\d+)|\(\s*(\d+)\s*,\s*(\d+)\s*\))\s*$/.exec(t);
  if (m) {
    const image = m[1].trim();
    if (!image) return { error: 'The image is missing before the position' };
    const row = Number(m[2] ?? m[4]);
    const col = Number(m[3] ?? m[5]);
    if (!Number.isSafeInteger(row) || !Number.isSafeInteger(col)) return { error: 'Row and column must be whole numbers' };
    return { image, row, col };
  }
  // "cat.png:" or "cat.png:3" while typing (a drive letter "C:" at the start is not a position).
  const partial = /:\s*\d*\s*,?\s*\d*\s*$/.exec(t);
  if (partial && partial.index > 1) return { error: 'Give the patch as row,col, e.g. cat.png:12,7' };
  return { image: t };
}

/** Checks a position against a token grid; an error message, or undefined when it lies inside. */
export function checkPosition(ref: PatchRef, rows: number, cols: number): string | undefined {
  if (ref.row === undefined || ref.col === undefined) return undefined;
  if (ref.row >= rows || ref.col >= cols) return `Patch ${ref.row},${ref.col} is outside the ${rows}×${cols} grid (rows 0–${rows - 1}, columns 0–${cols - 1})`;
  return undefined;
}

/** The text of a reference, as Go to Patch accepts it. */
export function formatPatchRef(image: string, row: number, col: number): string {
  return `${image}:${row},${col}`;
}

/** Parses a token id typed by the user against the codebook size. */
export function parseTokenId(text: string, codebookSize?: number): number | { error: string } {
  const t = text.trim().replace(/^#/, '');
  if (!/^\d+$/.test(t)) return { error: 'Type a token id: a whole number, e.g. 42' };
  const n = Number(t);
  if (!Number.isSafeInteger(n)) return { error: 'That token id is too large' };
  if (codebookSize !== undefined && n >= codebookSize) return { error: `Token ids go from 0 to ${codebookSize - 1}` };
  return n;
}
