// "Go to Patch" references: `image:row,col` (or just `image`), and the
// completion of a typed image name against a dataset's images. Pure: no `vscode` import.

import { Worker } from 'node:worker_threads';
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
  /**
   * Indices of the images whose name begins with the text (by name), then those whose path does (by path), then those
   * whose path contains it; at most the limit asked for.
   */
  readonly ordered: readonly number[];
  /** How many images begin with the text (the candidates when nothing is resolved); a lower bound when `atLeast`. */
  readonly prefixCount: number;
  readonly atLeast?: boolean;
}

const baseOf = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
/** A path as matched: '/'-separated, lower case. */
const normalised = (p: string): string => p.replace(/\\/g, '/').toLowerCase();
const stemOf = (name: string): string => (name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : name);

/** Entries checked for a substring per keystroke at most, and pairs compared to count two overlapping prefix ranges. */
const SCAN_LIMIT = 100_000;

/**
 * A typed image matched against dataset-relative paths ('/'-separated), case insensitively: an exact path wins, then an
 * exact name (with or without its extension), then a unique prefix of a name or path. Several candidates and none
 * resolved means the text is ambiguous; `ambiguity` says which. Paths and names are kept sorted, so a prefix is two
 * binary searches whatever the number of images (Go to Patch matches on every keystroke on the extension host); a
 * substring is looked for in at most SCAN_LIMIT of them.
 */
export class ImageIndex {
  private readonly paths: string[];
  private readonly names: string[];
  private readonly byPath: Uint32Array;
  private readonly byName: Uint32Array;

  constructor(images: readonly string[], sorted?: { paths: string[]; names: string[]; byPath: Uint32Array; byName: Uint32Array }) {
    this.paths = sorted?.paths ?? images.map(normalised);
    this.names = sorted?.names ?? this.paths.map(baseOf);
    this.byPath = sorted?.byPath ?? sortedBy(this.paths);
    this.byName = sorted?.byName ?? sortedBy(this.names);
  }

  /**
   * The index of a list, its two sorts (seconds of CPU at a million images) in a worker thread when the list is long,
   * so the extension host keeps answering while Go to Patch gets ready.
   */
  static async build(images: readonly string[]): Promise<ImageIndex> {
    if (images.length < WORKER_SORT_FROM) return new ImageIndex(images);
    // normalised once, here: the worker sorts these lists and the index keeps them
    const paths = images.map(normalised);
    const names = paths.map(baseOf);
    const [byPath, byName] = await sortInWorker([paths, names]);
    return new ImageIndex(images, { paths, names, byPath, byName });
  }

  get size(): number {
    return this.paths.length;
  }

  match(typed: string, limit = Infinity): ImageMatches {
    const t = normalised(typed.trim());
    const n = this.paths.length;
    if (!t) return { ordered: Array.from({ length: Math.min(n, limit) }, (_, i) => i), prefixCount: n };
    const [n0, n1] = prefixRange(this.byName, this.names, t);
    const [p0, p1] = prefixRange(this.byPath, this.paths, t);
    // the union of the two prefix ranges: an image in both is counted once
    let overlap = 0;
    let atLeast = false;
    if (n1 - n0 <= p1 - p0) {
      if (n1 - n0 > SCAN_LIMIT) atLeast = true;
      else for (let k = n0; k < n1; k++) if (this.paths[this.byName[k]].startsWith(t)) overlap++;
    } else if (p1 - p0 > SCAN_LIMIT) atLeast = true;
    else for (let k = p0; k < p1; k++) if (this.names[this.byPath[k]].startsWith(t)) overlap++;
    const prefixCount = atLeast ? Math.max(n1 - n0, p1 - p0) : n1 - n0 + (p1 - p0) - overlap;

    const ordered: number[] = [];
    for (let k = n0; k < n1 && ordered.length < limit; k++) ordered.push(this.byName[k]);
    for (let k = p0; k < p1 && ordered.length < limit; k++) if (!this.names[this.byPath[k]].startsWith(t)) ordered.push(this.byPath[k]);
    if (ordered.length < limit) {
      for (let k = 0, scanned = 0; k < n && scanned < SCAN_LIMIT && ordered.length < limit; k++, scanned++) {
        const i = this.byPath[k];
        if (!this.names[i].startsWith(t) && !this.paths[i].startsWith(t) && this.paths[i].includes(t)) ordered.push(i);
      }
    }

    const exactPath = this.withPath(t);
    const exactName = exactPath.length ? [] : this.withName(t);
    const only = prefixCount === 1 ? (n1 > n0 ? this.byName[n0] : this.byPath[p0]) : undefined;
    const resolved = exactPath.length
      ? exactPath.length === 1
        ? exactPath[0]
        : undefined
      : exactName.length
        ? exactName.length === 1
          ? exactName[0]
          : undefined
        : only;
    return { resolved, ordered, prefixCount, ...(atLeast ? { atLeast } : {}) };
  }

  /** Up to two images whose path is `t`: enough to tell one from several. */
  private withPath(t: string): number[] {
    const out: number[] = [];
    for (let k = prefixRange(this.byPath, this.paths, t)[0]; k < this.byPath.length && out.length < 2 && this.paths[this.byPath[k]] === t; k++)
      out.push(this.byPath[k]);
    return out;
  }

  /** Up to two images named `t`, with or without an extension ("chelsea" names chelsea.png, not chelsea.png.bak). */
  private withName(t: string): number[] {
    const out: number[] = [];
    for (let k = prefixRange(this.byName, this.names, t)[0]; k < this.byName.length && out.length < 2 && this.names[this.byName[k]] === t; k++)
      out.push(this.byName[k]);
    const [s0, s1] = prefixRange(this.byName, this.names, `${t}.`);
    for (let k = s0; k < Math.min(s1, s0 + SCAN_LIMIT) && out.length < 2; k++) if (stemOf(this.names[this.byName[k]]) === t) out.push(this.byName[k]);
    return out;
  }
}

/** Below this many images both sorts take well under 0.1 s: not worth a thread. */
const WORKER_SORT_FROM = 50_000;

/** `sortedBy` of each list, in a worker thread (its source is the function's own, so both sides sort alike). */
function sortInWorker(lists: readonly (readonly string[])[]): Promise<Uint32Array[]> {
  const source = `const { parentPort, workerData } = require('node:worker_threads');
    const sortedBy = ${sortedBy.toString()};
    const out = workerData.map(sortedBy);
    parentPort.postMessage(out, out.map((o) => o.buffer));`;
  return new Promise((resolve, reject) => {
    const w = new Worker(source, { eval: true, workerData: lists });
    w.once('message', (m: Uint32Array[]) => resolve(m));
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`the sorting thread stopped (exit code ${code})`)));
  });
}

function sortedBy(keys: readonly string[]): Uint32Array {
  const order = Uint32Array.from(keys, (_, i) => i);
  return order.sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : a - b));
}

/** The positions in `order` (sorted by `keys`) of the keys that begin with `t`. */
function prefixRange(order: Uint32Array, keys: readonly string[], t: string): [number, number] {
  const lower = (key: string): number => {
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[order[mid]] < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return [lower(t), lower(`${t}\uffff`)];
}

/** `ImageIndex.match` over a list once (the index is worth keeping when the same list is matched again). */
export function matchImages(typed: string, images: readonly string[]): ImageMatches {
  return new ImageIndex(images).match(typed);
}

/** "“chelsea” matches 3 images: chelsea-1.jpg, chelsea-2.jpg, chelsea-3.jpg"; `total` when more were found than named. */
export function ambiguity(typed: string, names: readonly string[], shown = 5, total = names.length, atLeast = false): string {
  const listed = names.slice(0, shown).join(', ');
  const more = total - Math.min(shown, names.length);
  return `“${typed.trim()}” matches ${atLeast ? 'at least ' : ''}${total} images: ${listed}${more > 0 ? `, and ${more} more` : ''}`;
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
