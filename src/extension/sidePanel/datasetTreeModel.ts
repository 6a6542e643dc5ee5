// The Datasets tree as data: which images a dataset has and the status of
// each (indexed, changed since indexing, not indexed yet, failed with the
// reason, deleted but still in the database), grouped by folder, with the
// labels and descriptions the tree shows. Pure: no `vscode` import.
import { formatBytes, plural } from '../../core/format';

export type ImageStatus = 'indexed' | 'changed' | 'new' | 'failed' | 'missing';

/** An image file found on disk ('/'-separated path relative to the dataset root). */
export interface DiskImage {
  readonly rel: string;
  readonly bytes: number;
  readonly mtimeMs: number;
}

/** An image the database holds (as the engine's `images` request lists it). */
export interface IndexedImage {
  readonly path: string;
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
  readonly mtimeMs: number;
}

export interface FailedImage {
  readonly path: string;
  readonly error: string;
}

export interface ImageEntry {
  /** '/'-separated path relative to the dataset root. */
  readonly rel: string;
  readonly status: ImageStatus;
  /** Pixel size when indexed. */
  readonly width?: number;
  readonly height?: number;
  /** Why it failed. */
  readonly error?: string;
}

export type StatusCounts = Record<ImageStatus, number>;

export function emptyCounts(): StatusCounts {
  return { indexed: 0, changed: 0, new: 0, failed: 0, missing: 0 };
}

/**
 * Joins what is on disk with what the database holds. `disk` undefined: the
 * folder could not be listed; the database's view is shown as it is.
 * Sizes and modification times compare as the indexer compares them (bytes and
 * whole milliseconds), so "changed" means the next update re-reads the file.
 * `sizesOnly`: a database built from another copy of the dataset (one that
 * patchlens.databases names, built on other machines), whose file times say
 * nothing here: the size decides (the inspector compares contents).
 */
export function classifyImages(
  disk: readonly DiskImage[] | undefined,
  indexed: readonly IndexedImage[],
  failed: readonly FailedImage[],
  sizesOnly = false,
): ImageEntry[] {
  const byPath = new Map(indexed.map((i) => [i.path, i]));
  const failedByPath = new Map(failed.map((f) => [f.path, f]));
  const out: ImageEntry[] = [];
  if (!disk) {
    for (const i of indexed) out.push({ rel: i.path, status: 'indexed', width: i.width, height: i.height });
    for (const f of failed) if (!byPath.has(f.path)) out.push({ rel: f.path, status: 'failed', error: f.error });
    return sortEntries(out);
  }
  const seen = new Set<string>();
  for (const d of disk) {
    seen.add(d.rel);
    const i = byPath.get(d.rel);
    if (i) {
      const same = i.bytes === d.bytes && (sizesOnly || Math.floor(i.mtimeMs) === Math.floor(d.mtimeMs));
      out.push({ rel: d.rel, status: same ? 'indexed' : 'changed', width: i.width, height: i.height });
      continue;
    }
    const f = failedByPath.get(d.rel);
    out.push(f ? { rel: d.rel, status: 'failed', error: f.error } : { rel: d.rel, status: 'new' });
  }
  for (const i of indexed) if (!seen.has(i.path)) out.push({ rel: i.path, status: 'missing', width: i.width, height: i.height });
  return sortEntries(out);
}

function sortEntries(entries: ImageEntry[]): ImageEntry[] {
  return entries.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

export function countStatuses(entries: readonly ImageEntry[]): StatusCounts {
  const c = emptyCounts();
  for (const e of entries) c[e.status]++;
  return c;
}

/** An archive file of a dataset (a folder in the tree), with what the database holds of its members. */
export interface ArchiveStatus {
  /** '/'-separated path relative to the dataset root. */
  readonly rel: string;
  readonly bytes: number;
  readonly mtimeMs: number;
  /** Members in the database, by id. */
  readonly indexed: ReadonlyMap<string, IndexedImage>;
  /** Members that failed to index, by id. */
  readonly failed: ReadonlyMap<string, FailedImage>;
  /** Why the last build could not read the archive itself. */
  readonly error?: string;
}

/**
 * Splits the database's images into the members of the given archives (by
 * archive) and the rest: members are listed a page at a time when their
 * archive is expanded, not with the folder's files.
 */
export function splitByArchive(
  archives: readonly DiskImage[],
  indexed: readonly IndexedImage[],
  failed: readonly FailedImage[],
): { indexed: IndexedImage[]; failed: FailedImage[]; archives: ArchiveStatus[] } {
  const byRel = new Map(
    archives.map((a) => [
      a.rel,
      {
        rel: a.rel,
        bytes: a.bytes,
        mtimeMs: a.mtimeMs,
        indexed: new Map<string, IndexedImage>(),
        failed: new Map<string, FailedImage>(),
        error: undefined as string | undefined,
      },
    ]),
  );
  const archiveOf = (id: string) => {
    for (let i = id.indexOf('/'); i >= 0; i = id.indexOf('/', i + 1)) {
      const a = byRel.get(id.slice(0, i));
      if (a) return a;
    }
    return undefined;
  };
  const rest = { indexed: [] as IndexedImage[], failed: [] as FailedImage[] };
  for (const i of indexed) {
    const a = archiveOf(i.path);
    if (a) a.indexed.set(i.path, i);
    else rest.indexed.push(i);
  }
  for (const f of failed) {
    const own = byRel.get(f.path);
    const a = own ?? archiveOf(f.path);
    if (own) own.error = f.error;
    else if (a) a.failed.set(f.path, f);
    else rest.failed.push(f);
  }
  return { ...rest, archives: [...byRel.values()] };
}

/** The status of a member listed from its archive (compared as the indexer compares: bytes and the archive's mtime). */
export function classifyMember(a: ArchiveStatus, id: string, bytes: number, mtimeMs: number): ImageEntry {
  const i = a.indexed.get(id);
  if (i)
    return { rel: id, status: i.bytes === bytes && Math.floor(i.mtimeMs) === Math.floor(mtimeMs) ? 'indexed' : 'changed', width: i.width, height: i.height };
  const f = a.failed.get(id);
  return f ? { rel: id, status: 'failed', error: f.error } : { rel: id, status: 'new' };
}

/** What the database holds of an archive's members, as counts (members not yet indexed are counted once listed). */
export function archiveCounts(a: ArchiveStatus): StatusCounts {
  const c = emptyCounts();
  c.indexed = a.indexed.size;
  c.failed = a.failed.size + (a.error ? 1 : 0);
  return c;
}

/** An archive's description: its members once known, else what the database holds of them. */
export function archiveDescription(a: ArchiveStatus, members?: number): string {
  if (a.error) return `unreadable: ${oneLine(a.error, 80)}`;
  const parts: string[] = [];
  if (members !== undefined) parts.push(`${members.toLocaleString('en-US')} ${plural(members, 'image')}`);
  if (a.indexed.size) parts.push(`${a.indexed.size.toLocaleString('en-US')} indexed`);
  if (a.failed.size) parts.push(`${a.failed.size.toLocaleString('en-US')} failed`);
  if (!parts.length) parts.push(formatBytes(a.bytes));
  return parts.join(' · ');
}

/** The row after a page of an archive's entries: how many are left and how many the next page shows. */
export function showMoreLabel(shown: number, total: number, page = ARCHIVE_PAGE): string {
  const left = total - shown;
  return `Show more… (${Math.min(page, left).toLocaleString('en-US')} of ${left.toLocaleString('en-US')} more)`;
}

export interface FolderNode {
  /** Folder name ('' for the dataset root). */
  readonly name: string;
  /** '/'-separated path relative to the dataset root ('' for the root). */
  readonly rel: string;
  readonly folders: FolderNode[];
  readonly images: ImageEntry[];
  /** Archives in this folder (each a folder of its members). */
  readonly archives: ArchiveStatus[];
  /** Archives at and below this folder (their members not yet indexed are not in `counts`). */
  archivesBelow: number;
  /** Statuses of every image below this folder. */
  readonly counts: StatusCounts;
}

/** Groups entries (and archives) by folder, folders first, each level sorted by name. */
export function folderTree(entries: readonly ImageEntry[], archives: readonly ArchiveStatus[] = []): FolderNode {
  const root: FolderNode = { name: '', rel: '', folders: [], images: [], archives: [], archivesBelow: 0, counts: emptyCounts() };
  const index = new Map<string, FolderNode>([['', root]]);
  const folder = (rel: string): FolderNode => {
    const existing = index.get(rel);
    if (existing) return existing;
    const slash = rel.lastIndexOf('/');
    const parent = folder(slash < 0 ? '' : rel.slice(0, slash));
    const node: FolderNode = { name: rel.slice(slash + 1), rel, folders: [], images: [], archives: [], archivesBelow: 0, counts: emptyCounts() };
    parent.folders.push(node);
    index.set(rel, node);
    return node;
  };
  const dirOf = (rel: string) => {
    const slash = rel.lastIndexOf('/');
    return slash < 0 ? '' : rel.slice(0, slash);
  };
  /** Counts into a folder and every ancestor. */
  const count = (dir: string, c: Partial<StatusCounts>, archives = 0) => {
    for (let d = dir; ; d = dirOf(d)) {
      const node = index.get(d)!;
      for (const [k, n] of Object.entries(c) as [ImageStatus, number][]) node.counts[k] += n;
      node.archivesBelow += archives;
      if (d === '') break;
    }
  };
  for (const e of entries) {
    const dir = dirOf(e.rel);
    folder(dir).images.push(e);
    count(dir, { [e.status]: 1 });
  }
  for (const a of archives) {
    const dir = dirOf(a.rel);
    folder(dir).archives.push(a);
    count(dir, archiveCounts(a), 1);
  }
  const sort = (n: FolderNode) => {
    n.folders.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    n.images.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
    n.archives.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
    n.folders.forEach(sort);
  };
  sort(root);
  return root;
}

/** The one-line description next to an image's name. */
export function imageDescription(e: ImageEntry, grid?: { rows: number; cols: number }): string {
  const g = grid ? `${grid.rows}×${grid.cols} tokens` : '';
  const px = e.width && e.height ? `${e.width}×${e.height}` : '';
  switch (e.status) {
    case 'indexed':
      return [g, px].filter(Boolean).join(' · ');
    case 'changed':
      return 'changed since indexing';
    case 'new':
      return 'not indexed';
    case 'failed':
      return `failed: ${oneLine(e.error ?? 'unknown error')}`;
    case 'missing':
      return 'deleted · still in the database';
  }
}

/** The hover text of an image (plain text). */
export function imageTooltip(e: ImageEntry, grid?: { rows: number; cols: number }): string {
  const lines = [e.rel];
  switch (e.status) {
    case 'indexed':
      lines.push(`Indexed${grid ? `: ${grid.rows}×${grid.cols} token grid` : ''}${e.width ? ` from ${e.width}×${e.height} px` : ''}.`);
      break;
    case 'changed':
      lines.push('Changed on disk since it was indexed; the next update re-indexes it.');
      break;
    case 'new':
      lines.push('Not in the patch database yet; build or update the database to index it.');
      break;
    case 'failed':
      lines.push(`Could not be indexed: ${e.error ?? 'unknown error'}`, 'It is retried when the file changes, or on a rebuild.');
      break;
    case 'missing':
      lines.push('Deleted from disk; its patches leave the database at the next update.');
      break;
  }
  return lines.join('\n');
}

export function oneLine(s: string, max = 120): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export interface DatasetState {
  /** Whether a database exists (undefined: not known yet). */
  readonly built?: boolean;
  readonly images?: number;
  readonly grid?: { rows: number; cols: number };
  readonly counts?: StatusCounts;
  readonly building?: { phase: string; done: number; total: number };
  /** The database could not be read. */
  readonly error?: string;
}

/** The one-line description next to a dataset's name. */
export function datasetDescription(s: DatasetState): string {
  const parts: string[] = [];
  if (s.building) {
    parts.push(s.building.phase === 'encode' && s.building.total ? `building ${s.building.done}/${s.building.total}` : `building (${s.building.phase})`);
  }
  if (s.error) parts.push(`database unreadable: ${oneLine(s.error, 60)}`);
  else if (s.built === false) parts.push('no database');
  else if (s.built) {
    parts.push(`${s.images ?? 0} ${plural(s.images ?? 0, 'image')}`);
    if (s.grid) parts.push(`${s.grid.rows}×${s.grid.cols} tokens`);
  }
  const c = s.counts;
  if (c) {
    if (c.changed) parts.push(`${c.changed} changed`);
    if (c.new && s.built) parts.push(`${c.new} not indexed`);
    else if (c.new && s.built === false) parts.push(`${c.new} ${plural(c.new, 'image')}`);
    if (c.failed) parts.push(`${c.failed} failed`);
    if (c.missing) parts.push(`${c.missing} deleted`);
  }
  return parts.join(' · ');
}

/** A folder's description: how many images (and archives, whose members are counted once indexed), and what needs attention. */
export function folderDescription(counts: StatusCounts, archives = 0): string {
  const total = counts.indexed + counts.changed + counts.new + counts.failed + counts.missing;
  const parts = total || !archives ? [`${total} ${plural(total, 'image')}`] : [];
  if (archives) parts.push(`${archives} ${plural(archives, 'archive')}`);
  if (counts.changed) parts.push(`${counts.changed} changed`);
  if (counts.new) parts.push(`${counts.new} not indexed`);
  if (counts.failed) parts.push(`${counts.failed} failed`);
  return parts.join(' · ');
}

/** Codicon id and theme colour id of a status. */
export function statusIcon(status: ImageStatus): { id: string; color?: string } {
  switch (status) {
    case 'indexed':
      return { id: 'pass', color: 'testing.iconPassed' };
    case 'changed':
      return { id: 'diff-modified', color: 'gitDecoration.modifiedResourceForeground' };
    case 'new':
      return { id: 'circle-large-outline', color: 'disabledForeground' };
    case 'failed':
      return { id: 'error', color: 'problemsErrorIcon.foreground' };
    case 'missing':
      return { id: 'diff-removed', color: 'gitDecoration.deletedResourceForeground' };
  }
}

/** At most `max` children are shown under one folder; the rest are summarised. */
export const MAX_CHILDREN = 2000;

/** Members of an archive (or of a folder inside one) shown a page at a time: a 100k-member shard is never listed at once. */
export const ARCHIVE_PAGE = 100;

/** "just now", "5 min ago", "3 h ago", "2 days ago", else the date. */
export function formatAgo(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return 'unknown';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 45) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 24) return `${h} h ago`;
  const d = Math.round(h / 24);
  if (d < 14) return `${d} ${plural(d, 'day')} ago`;
  return new Date(t).toISOString().slice(0, 10);
}
