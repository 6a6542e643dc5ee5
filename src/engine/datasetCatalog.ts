// A dataset's images by id, whatever holds them: plain files, or members of
// the archives in the root (datasetSource.ts). Each archive's member index is
// built once and kept with the database (<db>/sources/), keyed by the
// archive's size, mtime and a hash of its head and tail; a member is then
// read with one positioned read. An id is never resolved as a file-system
// path past its archive: the member part is looked up by name.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { sha256 } from './sha256';
import picomatch from 'picomatch';
import {
  DEFAULT_MAX_MEMBER_BYTES,
  JOINED_METADATA_FILE,
  METADATA_EXTENSIONS,
  MAX_METADATA_CHARS,
  archiveKind,
  memberId,
  metadataFromJson,
  sampleKey,
  splitArchiveId,
  type ArchiveKind,
  type ImageMetadata,
} from '../core/datasetLayout';
import { isInside } from '../core/paths';
import { SourceError, type ArchiveListing, type ArchiveSource, type ListOptions, type MemberEntry, type MemberReader } from './datasetSource';
import { tarGzSource, tarSource } from './sources/tarSource';
import { zipSource } from './sources/zipSource';
import { parquetSource } from './sources/parquetSource';
import { CodeShard } from './sources/hdf5Codes';
import { tokenMapPng } from './tokenMap';
import { LRUCache } from 'lru-cache';

const INDEX_FORMAT = 'patchlens.members/v1';
const SOURCES: Partial<Record<ArchiveKind, ArchiveSource>> = { tar: tarSource, 'tar.gz': tarGzSource, zip: zipSource, parquet: parquetSource };

/** An archive's member index, as kept with the database. */
export interface ArchiveIndex extends ArchiveListing {
  readonly format: typeof INDEX_FORMAT;
  readonly rel: string;
  readonly kind: ArchiveKind;
  readonly bytes: number;
  readonly mtimeMs: number;
  /** SHA-256 of the size and the first and last 64 KiB. */
  readonly hash: string;
  /** Listing options the index was built with (a change rebuilds it). */
  readonly options: string;
}

export type ResolvedImage =
  | { readonly kind: 'file'; readonly id: string; readonly abs: string }
  | { readonly kind: 'member'; readonly id: string; readonly abs: string; readonly index: ArchiveIndex; readonly member: MemberEntry }
  | { readonly kind: 'codes'; readonly id: string; readonly abs: string; readonly index: ArchiveIndex; readonly row: number };

export interface CatalogOptions {
  /** Where member indexes are kept (<db>/sources); none: built in memory only. */
  readonly cacheDir?: string;
  readonly maxMemberBytes?: number;
  /** Parquet image column override. */
  readonly imageColumn?: string;
}

/** The folder beside a database's files that holds its member indexes. */
export function sourcesDir(dbDir: string): string {
  return path.join(dbDir, 'sources');
}

const HEAD_TAIL = 64 * 1024;

async function headTailHash(abs: string, size: number): Promise<string> {
  const fh = await fs.promises.open(abs, 'r');
  try {
    const buf = Buffer.alloc(Math.min(HEAD_TAIL, size));
    await fh.read(buf, 0, buf.length, 0);
    if (size <= HEAD_TAIL) return sha256(String(size), buf);
    const head = Buffer.from(buf);
    // the tail is read over the head's buffer: a short tail leaves the head's last bytes after it, as hashed ever since
    await fh.read(buf, 0, buf.length, Math.max(HEAD_TAIL, size - HEAD_TAIL));
    return sha256(String(size), head, buf);
  } finally {
    await fh.close();
  }
}

const OPEN_READERS = 8;

export class DatasetCatalog {
  readonly root: string;
  private readonly opts: ListOptions;
  private readonly indexes = new Map<string, ArchiveIndex>();
  private readonly memberMaps = new WeakMap<ArchiveIndex, Map<string, MemberEntry>>();
  /** Open archive readers, the least recently used closed when more than OPEN_READERS are open. */
  private readonly readers = new LRUCache<string, { index: ArchiveIndex; reader: Promise<MemberReader> }>({
    max: OPEN_READERS,
    dispose: (r, _rel, reason) => {
      if (reason === 'evict')
        void r.reader.then(
          (x) => x.close(),
          () => undefined,
        );
    },
  });
  private readonly shards = new Map<string, { index: ArchiveIndex; shard: Promise<CodeShard> }>();
  private readonly joined = new Map<string, { mtimeMs: number; map: Map<string, ImageMetadata> }>();

  constructor(
    root: string,
    private readonly catalogOpts: CatalogOptions = {},
  ) {
    this.root = path.resolve(root);
    this.opts = { maxMemberBytes: catalogOpts.maxMemberBytes ?? DEFAULT_MAX_MEMBER_BYTES, imageColumn: catalogOpts.imageColumn || undefined };
  }

  /** Where member indexes are kept, if anywhere. */
  get cacheDir(): string | undefined {
    return this.catalogOpts.cacheDir;
  }

  private get optionKey(): string {
    return JSON.stringify([this.opts.maxMemberBytes, this.opts.imageColumn ?? null]);
  }

  private cacheFile(rel: string): string | undefined {
    const dir = this.catalogOpts.cacheDir;
    return dir ? path.join(dir, `${sha256(rel).slice(0, 24)}.json`) : undefined;
  }

  /** The absolute path of an archive or file id's leading part, refusing anything that leaves the root. */
  private absOf(rel: string): string | undefined {
    const segs = rel.split('/');
    if (segs.some((s) => s === '' || s === '.' || s === '..')) return undefined;
    const abs = path.join(this.root, ...segs);
    return isInside(this.root, abs) && abs !== this.root ? abs : undefined;
  }

  /** The member index of the archive at `rel`: from memory, from the database's copy when the archive is unchanged, or by listing it. */
  async index(rel: string): Promise<ArchiveIndex> {
    const abs = this.absOf(rel);
    const kind = archiveKind(rel);
    if (!abs || !kind) throw new SourceError(`${rel} is not an archive in the dataset`);
    const st = await fs.promises.stat(abs);
    const mtimeMs = Math.floor(st.mtimeMs);
    const mem = this.indexes.get(rel);
    if (mem && mem.bytes === st.size && mem.mtimeMs === mtimeMs && mem.options === this.optionKey) return mem;
    const cache = this.cacheFile(rel);
    let hash: string | undefined;
    if (cache) {
      try {
        const saved = JSON.parse(await fs.promises.readFile(cache, 'utf8')) as ArchiveIndex;
        if (saved.format === INDEX_FORMAT && saved.rel === rel && saved.bytes === st.size && saved.options === this.optionKey) {
          hash = await headTailHash(abs, st.size);
          if (saved.hash === hash) {
            const idx = saved.mtimeMs === mtimeMs ? saved : { ...saved, mtimeMs };
            this.remember(rel, idx);
            return idx;
          }
        }
      } catch {
        /* no usable copy: list the archive */
      }
    }
    hash ??= await headTailHash(abs, st.size);
    let listing: ArchiveListing;
    try {
      listing = await this.list(kind, abs, rel);
    } catch (err) {
      listing = { members: [], problems: [{ path: rel, error: err instanceof Error ? err.message : String(err) }] };
    }
    const idx: ArchiveIndex = { format: INDEX_FORMAT, rel, kind, bytes: st.size, mtimeMs, hash, options: this.optionKey, ...listing };
    if (cache) {
      try {
        await fs.promises.mkdir(path.dirname(cache), { recursive: true });
        const tmp = `${cache}.tmp-${process.pid}`;
        await fs.promises.writeFile(tmp, JSON.stringify(idx));
        await fs.promises.rename(tmp, cache);
      } catch {
        /* a read-only database folder: the index is rebuilt next time */
      }
    }
    this.remember(rel, idx);
    return idx;
  }

  private remember(rel: string, idx: ArchiveIndex): void {
    const old = this.indexes.get(rel);
    if (old && old !== idx) {
      const r = this.readers.get(rel);
      if (r)
        void r.reader.then(
          (x) => x.close(),
          () => undefined,
        );
      this.readers.delete(rel);
      const s = this.shards.get(rel);
      if (s)
        void s.shard.then(
          (x) => x.close(),
          () => undefined,
        );
      this.shards.delete(rel);
    }
    this.indexes.set(rel, idx);
  }

  private async list(kind: ArchiveKind, abs: string, rel: string): Promise<ArchiveListing> {
    if (kind === 'hdf5') {
      let shard: CodeShard;
      try {
        shard = await CodeShard.open(abs);
      } catch (err) {
        return { members: [], problems: [{ path: rel, error: `the file ${(err as Error).message}` }] };
      }
      try {
        return { members: [], problems: [], codes: shard.info };
      } finally {
        shard.close();
      }
    }
    return SOURCES[kind]!.list(abs, rel, this.opts);
  }

  private memberMap(idx: ArchiveIndex): Map<string, MemberEntry> {
    let m = this.memberMaps.get(idx);
    if (!m) {
      m = new Map(idx.members.map((e) => [e.name, e]));
      this.memberMaps.set(idx, m);
    }
    return m;
  }

  /** A member of an archive by name. */
  member(idx: ArchiveIndex, name: string): MemberEntry | undefined {
    return this.memberMap(idx).get(name);
  }

  /** Finds an image by id; undefined when no such image is in the dataset. */
  async resolve(id: string): Promise<ResolvedImage | undefined> {
    const split = splitArchiveId(id);
    if (split) {
      const abs = this.absOf(split.archive);
      const st = abs ? await fs.promises.stat(abs).catch(() => undefined) : undefined;
      if (abs && st?.isFile()) {
        const index = await this.index(split.archive);
        if (index.codes) {
          const row = /^\d+$/.test(split.member) ? Number(split.member) : -1;
          return row >= 0 && row < index.codes.rows ? { kind: 'codes', id, abs, index, row } : undefined;
        }
        const member = this.memberMap(index).get(split.member);
        return member ? { kind: 'member', id, abs, index, member } : undefined;
      }
    }
    const abs = this.absOf(id);
    if (!abs) return undefined;
    const st = await fs.promises.stat(abs).catch(() => undefined);
    return st?.isFile() ? { kind: 'file', id, abs } : undefined;
  }

  /** Version of an image for caches: a member carries its archive's. */
  async version(r: ResolvedImage): Promise<{ bytes: number; mtimeMs: number } | undefined> {
    if (r.kind === 'file') {
      const st = await fs.promises.stat(r.abs).catch(() => undefined);
      return st ? { bytes: st.size, mtimeMs: Math.floor(st.mtimeMs) } : undefined;
    }
    return { bytes: r.kind === 'member' ? r.member.size : r.index.bytes, mtimeMs: r.index.mtimeMs };
  }

  private reader(idx: ArchiveIndex, abs: string): Promise<MemberReader> {
    const have = this.readers.get(idx.rel);
    if (have && have.index === idx) return have.reader;
    const reader = SOURCES[idx.kind]!.open(abs, this.opts);
    reader.catch(() => this.readers.delete(idx.rel));
    this.readers.set(idx.rel, { index: idx, reader });
    return reader;
  }

  /** The bytes of an image (file or member). */
  async read(r: ResolvedImage): Promise<Uint8Array> {
    if (r.kind === 'file') return fs.promises.readFile(r.abs);
    if (r.kind === 'codes') throw new SourceError(`${r.id} is a row of an AR-RAG code shard: it has tokens and latents, no pixels`);
    return (await this.reader(r.index, r.abs)).read(r.member);
  }

  /** Reads a member of an archive by its index entry. */
  async readMember(idx: ArchiveIndex, m: MemberEntry): Promise<Uint8Array> {
    const abs = this.absOf(idx.rel);
    if (!abs) throw new SourceError(`${idx.rel} is not in the dataset`);
    return (await this.reader(idx, abs)).read(m);
  }

  /** Rows of a code shard. */
  async readCodes(idx: ArchiveIndex, start: number, count: number): Promise<{ tokens: Int32Array; latents: Float32Array }> {
    let s = this.shards.get(idx.rel);
    if (!s || s.index !== idx) {
      const abs = this.absOf(idx.rel);
      if (!abs) throw new SourceError(`${idx.rel} is not in the dataset`);
      s = { index: idx, shard: CodeShard.open(abs) };
      this.shards.set(idx.rel, s);
    }
    return (await s.shard).read(start, count);
  }

  /** Captions, prompts, categories and JSON fields of an image, when its source has any. */
  async metadata(r: ResolvedImage): Promise<ImageMetadata | undefined> {
    let own: ImageMetadata | undefined;
    let folder: string;
    let name: string;
    if (r.kind === 'file') {
      own = await this.siblingMetadata(r.abs);
      folder = path.dirname(r.abs);
      name = path.basename(r.abs);
    } else {
      own = r.kind === 'member' ? r.member.meta : undefined;
      folder = path.dirname(r.abs);
      name = r.kind === 'member' ? r.member.name.slice(r.member.name.lastIndexOf('/') + 1) : String(r.row);
    }
    const joined = await this.joinedMetadata(folder, name);
    if (!own && !joined) return undefined;
    return { ...joined, ...own };
  }

  /** WebDataset's layout in a plain folder: a.jpg beside a.txt / a.json / a.cls. */
  private async siblingMetadata(abs: string): Promise<ImageMetadata | undefined> {
    const dir = path.dirname(abs);
    const { key } = sampleKey(path.basename(abs));
    let out: ImageMetadata | undefined;
    for (const [ext, field] of Object.entries(METADATA_EXTENSIONS)) {
      const p = path.join(dir, `${key}.${ext}`);
      let text: string;
      try {
        const st = await fs.promises.stat(p);
        if (!st.isFile() || st.size > MAX_METADATA_CHARS * 4) continue;
        text = await fs.promises.readFile(p, 'utf8');
      } catch {
        continue;
      }
      out ??= {};
      if (field === 'json') {
        try {
          out = { ...metadataFromJson(JSON.parse(text)), ...out };
        } catch {
          /* not JSON: no fields from it */
        }
      } else out[field] = text.trim().slice(0, MAX_METADATA_CHARS);
    }
    return out;
  }

  /** MJHQ-30K's meta_data.json: the nearest one at or above the image's folder (up to the root), by the image's name without extension. */
  private async joinedMetadata(folder: string, name: string): Promise<ImageMetadata | undefined> {
    const stem = name.includes('.') ? name.slice(0, name.indexOf('.')) : name;
    for (let dir = folder; isInside(this.root, dir); dir = path.dirname(dir)) {
      const map = await this.joinedFile(path.join(dir, JOINED_METADATA_FILE));
      if (map) return map.get(stem) ?? map.get(name);
      if (dir === this.root) break;
    }
    return undefined;
  }

  private async joinedFile(p: string): Promise<Map<string, ImageMetadata> | undefined> {
    const st = await fs.promises.stat(p).catch(() => undefined);
    if (!st?.isFile()) return undefined;
    const have = this.joined.get(p);
    if (have && have.mtimeMs === st.mtimeMs) return have.map;
    const map = new Map<string, ImageMetadata>();
    try {
      const j = JSON.parse(await fs.promises.readFile(p, 'utf8')) as unknown;
      if (j && typeof j === 'object' && !Array.isArray(j)) for (const [k, v] of Object.entries(j)) map.set(k, metadataFromJson(v));
    } catch {
      /* unreadable: joins nothing */
    }
    this.joined.set(p, { mtimeMs: st.mtimeMs, map });
    return map;
  }

  /** The bytes of a build entry (a file or a member). */
  async entryBytes(e: DatasetEntry): Promise<Uint8Array> {
    if (!e.source) return fs.promises.readFile(e.abs);
    if ('row' in e.source) throw new SourceError(`${e.rel} is a code row, not an image`);
    return this.readMember(e.source.index, e.source.member);
  }

  /** SHA-256 of what an entry holds: a file's or member's bytes, a code row's tokens and latents. */
  async entryHash(e: DatasetEntry): Promise<string> {
    if (e.source && 'row' in e.source) {
      const { tokens, latents } = await this.readCodes(e.source.index, e.source.row, 1);
      return codeRowHash(tokens, latents);
    }
    return sha256(await this.entryBytes(e));
  }

  async close(): Promise<void> {
    const rs = [...this.readers.values()];
    this.readers.clear();
    await Promise.all(
      rs.map((r) =>
        r.reader.then(
          (x) => x.close(),
          () => undefined,
        ),
      ),
    );
    for (const s of this.shards.values())
      await s.shard.then(
        (x) => x.close(),
        () => undefined,
      );
    this.shards.clear();
  }
}

export function codeRowHash(tokens: Int32Array, latents: Float32Array): string {
  return sha256(new Uint8Array(tokens.buffer, tokens.byteOffset, tokens.byteLength), new Uint8Array(latents.buffer, latents.byteOffset, latents.byteLength));
}

/** Where an entry of a build comes from when it is not a plain file. */
export type EntrySource = { readonly index: ArchiveIndex; readonly member: MemberEntry } | { readonly index: ArchiveIndex; readonly row: number };

/** An image (or code row) to index: a scanned file, or one inside an archive (`abs` is then the archive). */
export interface DatasetEntry {
  readonly rel: string;
  readonly abs: string;
  readonly bytes: number;
  readonly mtimeMs: number;
  readonly source?: EntrySource;
}

export interface ExpandOptions {
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  /** The model's grid cells and latent width: a code shard must match them. */
  readonly cells: number;
  readonly dim: number;
  readonly modelName: string;
  /** Check code shards against the model's cells and d (default); off: list their rows whatever their shape. */
  readonly codeShapes?: boolean;
  readonly onArchive?: (rel: string, done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

/**
 * The entries inside a dataset's archives (member indexes built or reused) and
 * the problems found in them, with the member ids filtered by include/exclude.
 */
export async function expandArchives(
  catalog: DatasetCatalog,
  archives: readonly { rel: string; abs: string; bytes: number; mtimeMs: number }[],
  opts: ExpandOptions,
): Promise<{ entries: DatasetEntry[]; problems: { path: string; error: string; bytes: number; mtimeMs: number }[] }> {
  const inc = opts.include?.length ? picomatch(opts.include as string[], { dot: true }) : undefined;
  const exc = opts.exclude?.length ? picomatch(opts.exclude as string[], { dot: true }) : undefined;
  const wanted = (id: string) => (!inc || inc(id)) && !(exc && exc(id));
  const entries: DatasetEntry[] = [];
  const problems: { path: string; error: string; bytes: number; mtimeMs: number }[] = [];
  let done = 0;
  for (const a of archives) {
    if (opts.signal?.aborted) break;
    opts.onArchive?.(a.rel, done++, archives.length);
    let index: ArchiveIndex;
    try {
      index = await catalog.index(a.rel);
    } catch (err) {
      problems.push({
        path: a.rel,
        error: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        bytes: a.bytes,
        mtimeMs: a.mtimeMs,
      });
      continue;
    }
    for (const p of index.problems) problems.push({ ...p, bytes: a.bytes, mtimeMs: index.mtimeMs });
    if (index.codes) {
      const { rows, cells, dim } = index.codes;
      if (opts.codeShapes !== false && (cells !== opts.cells || dim !== opts.dim)) {
        const g = Math.round(Math.sqrt(cells));
        problems.push({
          path: a.rel,
          error: `the code shard holds ${g}x${g} grids (${cells} cells) of d=${dim} latents; the model ${opts.modelName} makes ${opts.cells} cells of d=${opts.dim}: build it with the model that wrote it`,
          bytes: a.bytes,
          mtimeMs: index.mtimeMs,
        });
        continue;
      }
      const rowBytes = cells * (1 + dim) * 4;
      for (let row = 0; row < rows; row++) {
        const id = `${a.rel}/${row}`;
        if (wanted(id)) entries.push({ rel: id, abs: a.abs, bytes: rowBytes, mtimeMs: index.mtimeMs, source: { index, row } });
      }
      continue;
    }
    for (const m of index.members) {
      const id = memberId(a.rel, m.name);
      if (wanted(id)) entries.push({ rel: id, abs: a.abs, bytes: m.size, mtimeMs: index.mtimeMs, source: { index, member: m } });
    }
  }
  return { entries, problems };
}

/**
 * The archive holding a path such as /data/shards/0.tar/a.jpg (the nearest
 * existing archive file above it), with the member's id under the archive's
 * folder; undefined when the path names no archive member.
 */
export function archiveOfPath(abs: string): { root: string; id: string } | undefined {
  for (let p = path.dirname(abs); p !== path.dirname(p); p = path.dirname(p)) {
    if (archiveKind(path.basename(p)) && fs.statSync(p, { throwIfNoEntry: false })?.isFile()) {
      const root = path.dirname(p);
      return { root, id: path.relative(root, abs).split(path.sep).join('/') };
    }
  }
  return undefined;
}

/** Catalogs kept open by folder, for reading images by absolute path (files or archive members). */
export class PathReader {
  private readonly catalogs = new Map<string, DatasetCatalog>();

  /** The catalog of a dataset root (member indexes from `cacheDir` when given). */
  catalog(root: string, cacheDir?: string): DatasetCatalog {
    let c = this.catalogs.get(root);
    // one made before the database existed keeps no indexes: the build's are reused once there are some
    if (!c || (cacheDir && !c.cacheDir)) {
      void c?.close();
      c = new DatasetCatalog(root, { cacheDir });
      this.catalogs.set(root, c);
    }
    return c;
  }

  /** Where an absolute path's image is: a file, or an archive member. */
  async resolve(abs: string): Promise<{ catalog: DatasetCatalog; image: ResolvedImage } | undefined> {
    const st = await fs.promises.stat(abs).catch(() => undefined);
    if (st?.isFile()) {
      const catalog = this.catalog(path.dirname(abs));
      return { catalog, image: { kind: 'file', id: path.basename(abs), abs } };
    }
    const a = archiveOfPath(abs);
    if (!a) return undefined;
    const catalog = this.catalog(a.root);
    const image = await catalog.resolve(a.id);
    return image ? { catalog, image } : undefined;
  }

  /**
   * The bytes of the image at an absolute path (a file, or a member inside an
   * archive on the way); a row of an AR-RAG code shard, which has no pixels,
   * reads as its token map (a PNG of `size`, the size its grid's cells are measured in).
   */
  async read(abs: string, size?: { width: number; height: number }): Promise<Uint8Array> {
    const r = await this.resolve(abs);
    if (!r) return fs.promises.readFile(abs); // the error names the file
    if (r.image.kind === 'codes') return tokenMapPng((await r.catalog.readCodes(r.image.index, r.image.row, 1)).tokens, size);
    return r.catalog.read(r.image);
  }

  /** The archive at or above an absolute path, and the path's place inside it ('' for the archive itself). */
  private async archiveAt(abs: string): Promise<{ catalog: DatasetCatalog; index: ArchiveIndex; prefix: string } | undefined> {
    const st = await fs.promises.stat(abs).catch(() => undefined);
    let root: string;
    let rel: string;
    let prefix: string;
    if (st?.isFile() && archiveKind(path.basename(abs))) {
      root = path.dirname(abs);
      rel = path.basename(abs);
      prefix = '';
    } else {
      const a = st ? undefined : archiveOfPath(abs);
      if (!a) return undefined;
      root = a.root;
      const slash = a.id.indexOf('/');
      rel = a.id.slice(0, slash);
      prefix = a.id.slice(slash + 1);
    }
    const catalog = this.catalog(root);
    return { catalog, index: await catalog.index(rel), prefix };
  }

  /** An archive (a folder), a folder inside one, or a member (a file); undefined for anything else. */
  async stat(abs: string): Promise<{ type: 'file' | 'folder'; size: number; mtimeMs: number } | undefined> {
    const a = await this.archiveAt(abs);
    if (!a) return undefined;
    const { index, prefix } = a;
    if (prefix === '') return { type: 'folder', size: 0, mtimeMs: index.mtimeMs };
    if (index.codes)
      return /^\d+$/.test(prefix) && Number(prefix) < index.codes.rows
        ? { type: 'file', size: index.codes.cells * (1 + index.codes.dim) * 4, mtimeMs: index.mtimeMs }
        : undefined;
    const m = a.catalog.member(index, prefix);
    if (m) return { type: 'file', size: m.size, mtimeMs: index.mtimeMs };
    return index.members.some((e) => e.name.startsWith(`${prefix}/`)) ? { type: 'folder', size: 0, mtimeMs: index.mtimeMs } : undefined;
  }

  /** The entries of an archive or of a folder inside one, sorted, folders first. */
  async entries(abs: string): Promise<{ name: string; type: 'file' | 'folder' }[]> {
    const a = await this.archiveAt(abs);
    if (!a) return [];
    return levelOf(a.index, a.prefix).entries.map((e) => ({ name: e.name, type: e.folder ? ('folder' as const) : ('file' as const) }));
  }

  forget(root: string): void {
    const c = this.catalogs.get(root);
    this.catalogs.delete(root);
    void c?.close();
  }

  async close(): Promise<void> {
    const all = [...this.catalogs.values()];
    this.catalogs.clear();
    await Promise.all(all.map((c) => c.close()));
  }
}

/** One entry of a level of an archive: a folder inside it (with how many images are below), or an image. */
export interface ArchiveLevelEntry {
  readonly name: string;
  readonly folder: boolean;
  /** An image's bytes (a code row's tokens and latents); 0 for a folder. */
  readonly bytes: number;
  /** Images below a folder; 1 for an image. */
  readonly images: number;
}

/** A level of an archive: folders first, then images, each sorted (code rows in row order). */
export interface ArchiveLevel {
  readonly entries: readonly ArchiveLevelEntry[];
  /** Images at and below this level. */
  readonly images: number;
}

const levels = new WeakMap<ArchiveIndex, Map<string, ArchiveLevel>>();

/**
 * The entries directly under `prefix` ('' for the archive itself) of an
 * archive, keeping only the member ids `wanted` accepts. Computed once per
 * index, level and filter, so paging through a 100k-member shard sorts it once.
 */
export function levelOf(index: ArchiveIndex, prefix: string, wanted?: (id: string) => boolean, filterKey = ''): ArchiveLevel {
  let byKey = levels.get(index);
  if (!byKey) levels.set(index, (byKey = new Map()));
  const key = `${prefix}\0${filterKey}`;
  const have = byKey.get(key);
  if (have) return have;
  const lead = prefix === '' ? '' : `${prefix}/`;
  const folders = new Map<string, number>();
  const files: ArchiveLevelEntry[] = [];
  if (index.codes) {
    const rowBytes = index.codes.cells * (1 + index.codes.dim) * 4;
    if (prefix === '')
      for (let i = 0; i < index.codes.rows; i++)
        if (!wanted || wanted(`${index.rel}/${i}`)) files.push({ name: String(i), folder: false, bytes: rowBytes, images: 1 });
  } else {
    for (const m of index.members) {
      if (!m.name.startsWith(lead) || (wanted && !wanted(memberId(index.rel, m.name)))) continue;
      const rest = m.name.slice(lead.length);
      const slash = rest.indexOf('/');
      if (slash < 0) files.push({ name: rest, folder: false, bytes: m.size, images: 1 });
      else folders.set(rest.slice(0, slash), (folders.get(rest.slice(0, slash)) ?? 0) + 1);
    }
    files.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  }
  const folderEntries = [...folders].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([name, images]) => ({ name, folder: true, bytes: 0, images }));
  let images = files.length;
  for (const n of folders.values()) images += n;
  const level = { entries: [...folderEntries, ...files], images };
  byKey.set(key, level);
  return level;
}

/** One page of a level of an archive in a dataset, for the Datasets view; `error`: the archive could not be read. */
export async function archivePage(
  catalog: DatasetCatalog,
  rel: string,
  prefix: string,
  opts: { offset: number; limit: number; include?: readonly string[]; exclude?: readonly string[] },
): Promise<{ total: number; images: number; mtimeMs: number; entries: ArchiveLevelEntry[]; error?: string }> {
  const index = await catalog.index(rel);
  const inc = opts.include?.length ? picomatch(opts.include as string[], { dot: true }) : undefined;
  const exc = opts.exclude?.length ? picomatch(opts.exclude as string[], { dot: true }) : undefined;
  const wanted = inc || exc ? (id: string) => (!inc || inc(id)) && !(exc && exc(id)) : undefined;
  const level = levelOf(index, prefix, wanted, JSON.stringify([opts.include ?? [], opts.exclude ?? []]));
  const error = index.problems.find((p) => p.path === rel)?.error;
  return {
    total: level.entries.length,
    images: level.images,
    mtimeMs: index.mtimeMs,
    entries: level.entries.slice(opts.offset, opts.offset + opts.limit),
    error,
  };
}
