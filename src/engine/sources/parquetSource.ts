// Parquet (Hugging Face datasets, AR-RAG's img2code_L.py input) through
// hyparquet: the image column is a struct {bytes, path} or a binary column,
// found from the schema or named by the user; string and number columns are
// metadata. Rows are read a row group at a time (one group's images held).

import { memberNameProblem, normalMemberName, MAX_METADATA_CHARS, type ImageMetadata } from '../../core/datasetLayout';
import { formatBytes } from '../../core/format';
import {
  SourceError,
  type ArchiveListing,
  type ArchiveSource,
  type ListOptions,
  type MemberEntry,
  type MemberReader,
  type SourceProblem,
} from '../datasetSource';

type Hyparquet = typeof import('hyparquet', { with: { 'resolution-mode': 'import' } });
type SchemaTree = ReturnType<Hyparquet['parquetSchema']>;
type FileMetaData = Awaited<ReturnType<Hyparquet['parquetMetadataAsync']>>;

let libs: Promise<{ hp: Hyparquet; compressors: Record<string, unknown> }> | undefined;
function load() {
  return (libs ??= (async () => {
    const hp = await import('hyparquet');
    const { compressors } = await import('hyparquet-compressors');
    return { hp, compressors: compressors as Record<string, unknown> };
  })());
}

interface ImageColumn {
  readonly name: string;
  readonly form: 'struct' | 'binary';
}

function isStringLeaf(n: SchemaTree): boolean {
  const e = n.element;
  return (
    n.children.length === 0 &&
    e.type === 'BYTE_ARRAY' &&
    (e.converted_type === 'UTF8' ||
      (e.logical_type as { type?: string } | undefined)?.type === 'STRING' ||
      e.converted_type === 'JSON' ||
      e.converted_type === 'ENUM')
  );
}

function isBinaryLeaf(n: SchemaTree): boolean {
  return n.children.length === 0 && n.element.type === 'BYTE_ARRAY' && !isStringLeaf(n);
}

function findImageColumn(schema: SchemaTree, override: string | undefined): ImageColumn | string {
  const top = schema.children;
  const names = top.map((c) => c.element.name);
  const asImage = (c: SchemaTree): ImageColumn | undefined => {
    if (c.children.length > 0) {
      const bytes = c.children.find((k) => k.element.name === 'bytes');
      return bytes && isBinaryLeaf(bytes) ? { name: c.element.name, form: 'struct' } : undefined;
    }
    return isBinaryLeaf(c) ? { name: c.element.name, form: 'binary' } : undefined;
  };
  if (override) {
    const c = top.find((k) => k.element.name === override);
    if (!c) return `has no column ${JSON.stringify(override)} (columns: ${names.join(', ')})`;
    return asImage(c) ?? `column ${JSON.stringify(override)} is neither a {bytes, path} struct nor binary (columns: ${names.join(', ')})`;
  }
  const structs = top.map(asImage).filter((x): x is ImageColumn => x?.form === 'struct');
  const preferred = structs.find((s) => s.name === 'image') ?? structs[0] ?? top.map(asImage).find((x) => x !== undefined);
  return (
    preferred ??
    `has no image column (a {bytes, path} struct or a binary column; columns: ${names.join(', ') || 'none'}); name one with --image-column or the patchlens.imageColumn setting`
  );
}

function metadataColumns(schema: SchemaTree, image: string): string[] {
  return schema.children
    .filter(
      (c) =>
        c.element.name !== image &&
        c.children.length === 0 &&
        (isStringLeaf(c) || ['INT32', 'INT64', 'FLOAT', 'DOUBLE', 'BOOLEAN'].includes(String(c.element.type))),
    )
    .map((c) => c.element.name);
}

function asBytes(v: unknown): Uint8Array | undefined {
  if (v instanceof Uint8Array) return v;
  return undefined;
}

async function openFile(
  abs: string,
): Promise<{ hp: Hyparquet; compressors: Record<string, unknown>; file: Awaited<ReturnType<Hyparquet['asyncBufferFromFile']>>; md: FileMetaData }> {
  const { hp, compressors } = await load();
  let file;
  let md;
  try {
    file = await hp.asyncBufferFromFile(abs);
    md = await hp.parquetMetadataAsync(file);
  } catch (err) {
    throw new SourceError(`not a readable Parquet file: ${(err as Error).message}`);
  }
  return { hp, compressors, file, md };
}

async function listParquet(abs: string, rel: string, opts: ListOptions): Promise<ArchiveListing> {
  const problems: SourceProblem[] = [];
  let opened;
  try {
    opened = await openFile(abs);
  } catch (err) {
    return { members: [], problems: [{ path: rel, error: (err as Error).message }] };
  }
  const { hp, compressors, file, md } = opened;
  const schema = hp.parquetSchema(md);
  const columns = schema.children.map((c) => c.element.name);
  const col = findImageColumn(schema, opts.imageColumn);
  if (typeof col === 'string') return { members: [], problems: [{ path: rel, error: `the Parquet file ${col}` }], columns };
  const metaCols = metadataColumns(schema, col.name);
  const members: MemberEntry[] = [];
  const names = new Set<string>();
  let rowStart = 0;
  for (let g = 0; g < md.row_groups.length; g++) {
    const n = Number(md.row_groups[g].num_rows);
    let rows: Record<string, unknown>[];
    try {
      rows = (await hp.parquetReadObjects({
        file,
        columns: [col.name, ...metaCols],
        rowStart,
        rowEnd: rowStart + n,
        compressors: compressors as never,
        utf8: false,
      })) as Record<string, unknown>[];
    } catch (err) {
      problems.push({
        path: rel,
        error: `row group ${g} (rows ${rowStart}-${rowStart + n - 1}) cannot be read: ${(err as Error).message}; the other rows are indexed`,
      });
      rowStart += n;
      continue;
    }
    rows.forEach((r, k) => {
      const row = rowStart + k;
      const cell = r[col.name] as { bytes?: unknown; path?: unknown } | Uint8Array | null | undefined;
      const bytes = col.form === 'struct' ? asBytes((cell as { bytes?: unknown } | null)?.bytes) : asBytes(cell);
      const p = col.form === 'struct' ? (cell as { path?: unknown } | null)?.path : undefined;
      let name = String(row);
      if (typeof p === 'string' && p.length > 0) {
        const norm = normalMemberName(p);
        const bad = memberNameProblem(norm);
        if (bad) problems.push({ path: `${rel}/${row}`, error: `image.path ${JSON.stringify(p)}: ${bad}; the row number is its name` });
        else if (names.has(norm))
          problems.push({ path: `${rel}/${row}`, error: `image.path ${JSON.stringify(p)} repeats an earlier row's; the row number is its name` });
        else name = norm;
      }
      if (!bytes || bytes.length === 0) {
        problems.push({ path: `${rel}/${name}`, error: `row ${row} has no image bytes` });
        return;
      }
      if (bytes.length > opts.maxMemberBytes) {
        problems.push({
          path: `${rel}/${name}`,
          error: `row ${row}'s image is ${formatBytes(bytes.length)}, over the member limit of ${formatBytes(opts.maxMemberBytes)}`,
        });
        return;
      }
      if (names.has(name)) {
        problems.push({ path: `${rel}/${name}`, error: `row ${row}: the name is taken by another row's image.path; not indexed` });
        return;
      }
      names.add(name);
      const meta: ImageMetadata = {};
      for (const c of metaCols) {
        const v = r[c];
        if (v === null || v === undefined) continue;
        const s = typeof v === 'string' ? v : typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : String(v);
        meta[c] = s.slice(0, MAX_METADATA_CHARS);
      }
      members.push({ name, offset: row, group: g, size: bytes.length, ...(Object.keys(meta).length ? { meta } : {}) });
    });
    rowStart += n;
  }
  return { members, problems, columns };
}

class ParquetReader implements MemberReader {
  private group?: { g: number; start: number; images: (Uint8Array | undefined)[] };
  private queue: Promise<unknown> = Promise.resolve();
  private starts: number[] = [];
  constructor(
    private readonly opened: Awaited<ReturnType<typeof openFile>>,
    private readonly col: ImageColumn,
  ) {
    let s = 0;
    for (const g of opened.md.row_groups) {
      this.starts.push(s);
      s += Number(g.num_rows);
    }
  }
  read(m: MemberEntry): Promise<Uint8Array> {
    const run = this.queue.then(async () => {
      const g = m.group ?? 0;
      if (this.group?.g !== g) {
        const { hp, file, compressors, md } = this.opened;
        const start = this.starts[g];
        if (start === undefined) throw new SourceError(`row group ${g} is not in the file (changed since it was indexed?)`);
        const rows = (await hp.parquetReadObjects({
          file,
          columns: [this.col.name],
          rowStart: start,
          rowEnd: start + Number(md.row_groups[g].num_rows),
          compressors: compressors as never,
          utf8: false,
        })) as Record<string, unknown>[];
        this.group = {
          g,
          start,
          images: rows.map((r) => (this.col.form === 'struct' ? asBytes((r[this.col.name] as { bytes?: unknown } | null)?.bytes) : asBytes(r[this.col.name]))),
        };
      }
      const bytes = this.group.images[m.offset - this.group.start];
      if (!bytes) throw new SourceError(`row ${m.offset} has no image bytes`);
      return bytes;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
  async close(): Promise<void> {
    this.group = undefined;
  }
}

export const parquetSource: ArchiveSource = {
  kind: 'parquet',
  list: listParquet,
  open: async (abs, opts) => {
    const opened = await openFile(abs);
    const col = findImageColumn(opened.hp.parquetSchema(opened.md), opts.imageColumn);
    if (typeof col === 'string') throw new SourceError(`the Parquet file ${col}`);
    return new ParquetReader(opened, col);
  },
};
