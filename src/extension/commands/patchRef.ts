// "Go to Patch" references: `image:row,col` (or just `image`), and the
// completion of a typed image name against a dataset's images. Pure: no `vscode` import.

import { formatCell, formatGrid } from '../../core/format';

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
  if (ref.row >= rows || ref.col >= cols)
    return `Patch ${formatCell(ref.row, ref.col)} is outside the ${formatGrid(rows, cols)} grid (rows 0–${rows - 1}, columns 0–${cols - 1})`;
  return undefined;
}

/**
 * The image part of what is typed so far, also while the position is half
 * typed ("cat.png:", "cat.png:3"), so the image list can follow the typing.
 */
export function typedImage(text: string): string {
  const t = text.trim();
  const full = parsePatchRef(t);
  if (!('error' in full)) return full.image;
  const partial = /\s*(?::\s*\d*\s*[,:]?\s*\d*|\(\s*\d*\s*,?\s*\d*)\s*$/.exec(t);
  return partial && partial.index > 1 ? t.slice(0, partial.index).trim() : t;
}

/** A position typed alone ("3,4", ":3,4", "(3, 4)"), meaning the image already open. */
export function parseBarePosition(text: string): { row: number; col: number } | undefined {
  const m = /^\s*:?\s*\(?\s*(\d+)\s*[,:]\s*(\d+)\s*\)?\s*$/.exec(text);
  return m ? { row: Number(m[1]), col: Number(m[2]) } : undefined;
}

export interface ImageMatches {
  /** The one image the text names: its exact path, its exact name, or the only name it begins. */
  readonly resolved?: number;
  /** Indices of the images whose name or path begins with the text, then those that contain it. */
  readonly ordered: readonly number[];
  /** How many of `ordered` begin with the text (the candidates when nothing is resolved). */
  readonly prefixCount: number;
}

const baseOf = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
const stemOf = (name: string): string => (name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : name);

/**
 * Matches a typed image against dataset-relative paths ('/'-separated), case
 * insensitively: an exact path wins, then an exact name (with or without its
 * extension), then a unique prefix of a name or path. Several candidates and
 * none resolved means the text is ambiguous; `ambiguity` says which.
 */
export function matchImages(typed: string, images: readonly string[]): ImageMatches {
  const t = typed.trim().replace(/\\/g, '/').toLowerCase();
  if (!t) return { ordered: images.map((_, i) => i), prefixCount: images.length };
  const exactPath: number[] = [];
  const exactName: number[] = [];
  const prefix: number[] = [];
  const contains: number[] = [];
  images.forEach((img, i) => {
    const rel = img.toLowerCase();
    const name = baseOf(rel);
    if (rel === t) exactPath.push(i);
    if (name === t || stemOf(name) === t) exactName.push(i);
    if (name.startsWith(t) || rel.startsWith(t)) prefix.push(i);
    else if (rel.includes(t)) contains.push(i);
  });
  const resolved =
    exactPath.length === 1
      ? exactPath[0]
      : exactPath.length
        ? undefined
        : exactName.length === 1
          ? exactName[0]
          : exactName.length
            ? undefined
            : prefix.length === 1
              ? prefix[0]
              : undefined;
  return { resolved, ordered: [...prefix, ...contains], prefixCount: prefix.length };
}

/** "“chelsea” matches 3 images: chelsea-1.jpg, chelsea-2.jpg, chelsea-3.jpg". */
export function ambiguity(typed: string, names: readonly string[], shown = 5): string {
  const listed = names.slice(0, shown).join(', ');
  return `“${typed.trim()}” matches ${names.length} images: ${listed}${names.length > shown ? `, and ${names.length - shown} more` : ''}`;
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
