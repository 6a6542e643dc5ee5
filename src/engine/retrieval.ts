// Retrieval over a patch database: the k nearest entries of a patch's key and
// the DAiD distribution over their tokens; token grids of images in or out of
// the database (tokenized on the fly with the database's model).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { retrievalDistribution, type TokenProbability } from '../core/daid';
import { cellRects, type Cell } from '../core/geometry';
import { codeGrid, type KeySource } from '../core/neighbourhood';
import { planResize } from '../core/geometry';
import { DatabaseError } from './database';
import { sha256File } from './sha256';
import { excludeImages, type PatchStore } from './patchStore';
import { decodeForModel, DEFAULT_MAX_PIXELS } from './imageDecoder';
import { toRel } from './datasetScanner';
import { isInside } from '../core/paths';
import type { Tokenizer } from './tokenizer';
import type { LabelFilter } from './patchIndex';
import { tokenMapPng } from './tokenMap';
import { DatasetCatalog, sourcesDir, type ResolvedImage } from './datasetCatalog';
import { captionOf, splitArchiveId, type ImageMetadata } from '../core/datasetLayout';

export interface PatchRef {
  /** Path relative to the dataset root, '/'-separated. */
  readonly image: string;
  readonly row: number;
  readonly col: number;
  readonly token: number;
}

export interface RetrievedPatch extends PatchRef {
  /** Squared L2 distance between keys. */
  readonly distance: number;
  /** The source image's caption, where it has one (added by withCaptions). */
  readonly caption?: string;
}

export interface QueryOptions {
  readonly k?: number;
  readonly exact?: boolean;
  /** Drop the query image's own entries. */
  readonly excludeSelf?: boolean;
  /** Build the query key from latents or from the codebook vectors of the tokens. */
  readonly queryKeys?: KeySource;
  /** DAiD temperature T. */
  readonly temperature?: number;
}

export interface QueryResult {
  readonly query: PatchRef & { inDatabase: boolean };
  readonly results: RetrievedPatch[];
  readonly distribution: TokenProbability[];
  readonly exact: boolean;
  readonly searchMs: number;
}

/** Token grid of an image, with where each cell lies in the image's pixels. */
export interface TokenGrid {
  readonly image: string;
  readonly inDatabase: boolean;
  readonly width: number;
  readonly height: number;
  readonly rows: number;
  readonly cols: number;
  readonly tokens: Int32Array;
  readonly distances: Float32Array;
  readonly latents: Float32Array;
  readonly cells: Cell[];
}

export class PatchRetriever {
  private catalogCache?: DatasetCatalog;

  constructor(
    readonly db: PatchStore,
    readonly datasetRoot: string,
    /** Loads the database's model when an image outside the database must be tokenized. */
    private readonly loadTokenizer?: () => Promise<Tokenizer>,
    private readonly maxPixels = DEFAULT_MAX_PIXELS,
    /** The dataset's catalog, when the caller keeps one open across retrievers (default: one of its own). */
    catalog?: DatasetCatalog,
  ) {
    this.catalogCache = catalog;
  }

  /** Path of an image relative to the dataset root ('/'-separated), or undefined when it lies outside. */
  relPath(image: string): string | undefined {
    const abs = path.resolve(this.datasetRoot, image);
    return isInside(this.datasetRoot, abs) ? toRel(this.datasetRoot, abs) : undefined;
  }

  /** The dataset's images by id, archive members included (member indexes from the database folder). */
  get catalog(): DatasetCatalog {
    return (this.catalogCache ??= new DatasetCatalog(this.datasetRoot, { cacheDir: sourcesDir(this.db.dir) }));
  }

  /** An archive member (or code row) by id; undefined for plain files and unknown ids. */
  private async member(rel: string | undefined): Promise<ResolvedImage | undefined> {
    if (rel === undefined || !splitArchiveId(rel)) return undefined;
    const r = await this.catalog.resolve(rel).catch(() => undefined);
    return r && r.kind !== 'file' ? r : undefined;
  }

  /** Metadata (caption, prompt, category, JSON fields) of an image of the dataset, when its source has any. */
  async metadata(image: string): Promise<ImageMetadata | undefined> {
    const rel = this.relPath(image);
    if (rel === undefined) return undefined;
    const r = await this.catalog.resolve(rel).catch(() => undefined);
    return r ? this.catalog.metadata(r) : undefined;
  }

  /** The results with their source images' captions (one metadata look-up per image). */
  async withCaptions<T extends { image: string }>(items: readonly T[]): Promise<(T & { caption?: string })[]> {
    const byImage = new Map<string, Promise<string | undefined>>();
    const captionFor = (image: string) => {
      let c = byImage.get(image);
      if (!c) byImage.set(image, (c = this.metadata(image).then(captionOf, () => undefined)));
      return c;
    };
    return Promise.all(
      items.map(async (r) => {
        const caption = await captionFor(r.image);
        return caption === undefined ? r : { ...r, caption };
      }),
    );
  }

  /** The bytes of an image of the dataset: a file, or a member read from its archive. */
  async imageBytes(image: string): Promise<Uint8Array> {
    const rel = this.relPath(image);
    const m = await this.member(rel);
    // a code row has no pixels: its token map, at the size the database measures its cells in
    if (m?.kind === 'codes')
      return tokenMapPng((await this.catalog.readCodes(m.index, m.row, 1)).tokens, { width: this.db.model.inputWidth, height: this.db.model.inputHeight });
    if (m) return this.catalog.read(m);
    return fs.promises.readFile(path.resolve(this.datasetRoot, image));
  }

  /** The image's token grid from the database, or by tokenizing the file. */
  async tokenGrid(image: string): Promise<TokenGrid> {
    const rel = this.relPath(image);
    const i = rel === undefined ? undefined : this.db.imageIndex.get(rel);
    const { rows, cols, inputWidth, inputHeight } = this.db.model;
    const resize = this.db.model.resize as 'crop' | 'pad' | 'stretch';
    const member = await this.member(rel);
    if (i !== undefined) {
      const img = this.db.image(i);
      // The stored grid is used only while the file (or the archive holding it) is the one that was indexed.
      let st: { size: number; mtimeMs: number } | undefined;
      const abs = path.resolve(this.datasetRoot, img.path);
      if (member) {
        const v = await this.catalog.version(member);
        st = v && { size: v.bytes, mtimeMs: v.mtimeMs };
      } else {
        try {
          st = fs.statSync(abs);
        } catch {
          st = undefined; // gone, or a member of an archive that is gone (ENOTDIR)
        }
      }
      // Same size, other time (a copy of the dataset on another machine, a shared database's): the content decides, as a build's does.
      const same = (s: { size: number; mtimeMs: number }) =>
        s.size === img.bytes && (Math.floor(s.mtimeMs) === img.mtimeMs || (!member && sha256File(abs) === img.sha256));
      if (!st || member?.kind === 'codes' || same(st)) {
        const rec = this.db.record(i);
        const plan = planResize(img.width, img.height, inputWidth, inputHeight, resize);
        return {
          image: img.path,
          inDatabase: true,
          width: img.width,
          height: img.height,
          rows,
          cols,
          tokens: rec.tokens,
          distances: rec.distances,
          latents: rec.latents,
          cells: cellRects(plan, rows, cols),
        };
      }
    }
    if (!this.loadTokenizer) throw new DatabaseError(`${image} is not in the database and no model is available to tokenize it`);
    const tok = await this.loadTokenizer();
    if (tok.info.fingerprint !== this.db.model.fingerprint) {
      throw new DatabaseError(
        `the model ${tok.info.manifest.name} (${tok.info.fingerprint}) is not the one the database was built with (${this.db.model.name}, ${this.db.model.fingerprint})`,
        "Pass the database's model with --model",
      );
    }
    const abs = path.resolve(this.datasetRoot, image);
    if (member?.kind === 'codes')
      throw new DatabaseError(
        `${image} is a row of an AR-RAG code shard that is not in the database (tokens without pixels cannot be tokenized)`,
        'Build the database (patchlens index)',
      );
    if (rel !== undefined && splitArchiveId(rel) && !member && !fs.existsSync(abs))
      throw new DatabaseError(`${image} is not in the dataset (no such archive member)`);
    const bytes = member ? await this.catalog.read(member) : await fs.promises.readFile(abs);
    const decoded = await decodeForModel(bytes, tok.info.manifest.input, this.maxPixels);
    const [enc] = await tok.encode([decoded.rgb]);
    return {
      image: rel ?? abs,
      inDatabase: false,
      width: decoded.width,
      height: decoded.height,
      rows,
      cols,
      tokens: enc.tokens,
      distances: enc.distances,
      latents: enc.latents,
      cells: cellRects(decoded.plan, rows, cols),
    };
  }

  /** A filter that leaves out the grid's own image's entries (none when it is not in the database). */
  selfFilter(grid: Pick<TokenGrid, 'image' | 'inDatabase'>): LabelFilter | undefined {
    const selfIdx = grid.inDatabase ? this.db.imageIndex.get(grid.image) : undefined;
    if (selfIdx === undefined) return undefined;
    return excludeImages(this.db, [selfIdx]);
  }

  /** The k nearest entries of a key (exact or HNSW), nearest first, with their tokens and positions. */
  async search(key: Readonly<Float32Array>, k: number, opts: { exact?: boolean; exclude?: LabelFilter } = {}): Promise<RetrievedPatch[]> {
    const { cols } = this.db.model;
    const index = opts.exact ? this.db.exactIndex() : this.db.index;
    const hits = await index.search(key, k, opts.exclude);
    const results: RetrievedPatch[] = [];
    for (const h of hits) {
      const loc = this.db.locate(h.label);
      if (!loc) continue;
      const token = h.token ?? this.db.record(loc.image).tokens[loc.row * cols + loc.col];
      results.push({ image: this.db.image(loc.image).path, row: loc.row, col: loc.col, token, distance: h.distance });
    }
    return results;
  }

  /** Nearest entries to the key of (row, col) in the grid, and their DAiD distribution. */
  async query(grid: TokenGrid, row: number, col: number, opts: QueryOptions = {}): Promise<QueryResult> {
    const { rows, cols, dim } = this.db.model;
    if (!Number.isInteger(row) || !Number.isInteger(col) || row < 0 || col < 0 || row >= rows || col >= cols) {
      throw new RangeError(`patch ${row},${col} is outside the ${rows}x${cols} grid`);
    }
    const k = opts.k ?? 10;
    if (!Number.isInteger(k) || k < 1 || k > 10_000) throw new RangeError(`k must be an integer from 1 to 10000, got ${k}`);
    const source = opts.queryKeys ?? this.db.keys.source;
    const vectors = source === 'latent' ? grid.latents : codeGrid(grid.tokens, this.db.codebook, dim);
    const key = this.db.keyAt(vectors, row, col);
    const t0 = performance.now();
    const results = await this.search(key, k, { exact: opts.exact, exclude: opts.excludeSelf ? this.selfFilter(grid) : undefined });
    const searchMs = performance.now() - t0;
    return {
      query: { image: grid.image, row, col, token: grid.tokens[row * cols + col], inDatabase: grid.inDatabase },
      results,
      distribution: retrievalDistribution(results, opts.temperature ?? 1),
      exact: opts.exact ?? false,
      searchMs,
    };
  }
}
