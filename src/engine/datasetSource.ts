// The one interface every dataset container implements (tar, tar.gz, zip,
// Parquet, HDF5 code shards): list its images once into a member index (name,
// where the bytes are, metadata), then read a member by that index entry.
// Folders of files are the catalog's own case (datasetCatalog.ts).

import type { ArchiveKind, ImageMetadata } from '../core/datasetLayout';

/** One image inside a container. */
export interface MemberEntry {
  /** The member's path inside the container (the id's tail): verbatim, or the row number. */
  readonly name: string;
  /** Uncompressed bytes of the image. */
  readonly size: number;
  /** Where the bytes start: in the (uncompressed) archive; the row for Parquet and HDF5. */
  readonly offset: number;
  /** zip: stored (compressed) bytes and the compression method (0 stored, 8 deflate). */
  readonly stored?: number;
  readonly method?: number;
  /** zip: the CRC-32 the archive records for the uncompressed bytes (damaged data is refused, not decoded). */
  readonly crc32?: number;
  /** Parquet: the row group holding the row. */
  readonly group?: number;
  readonly meta?: ImageMetadata;
}

/** A problem found while listing: the archive itself (`path` = the archive) or one member (`path` = its id). */
export interface SourceProblem {
  readonly path: string;
  readonly error: string;
}

export interface ArchiveListing {
  readonly members: MemberEntry[];
  readonly problems: SourceProblem[];
  /** Parquet: the file's columns (shown when no image column is found). */
  readonly columns?: string[];
  /** HDF5 code shards: rows and the token grid's cells and latent width found in the file. */
  readonly codes?: { rows: number; cells: number; dim: number };
}

export interface ListOptions {
  /** Members over this many bytes are refused (listed as problems). */
  readonly maxMemberBytes: number;
  /** Parquet: the image column, overriding the detection. */
  readonly imageColumn?: string;
}

/** Reads members of one open container; reads are served one at a time, in the order asked. */
export interface MemberReader {
  read(m: MemberEntry): Promise<Uint8Array>;
  close(): Promise<void>;
}

export interface ArchiveSource {
  readonly kind: ArchiveKind;
  /** Lists the container's images (`rel`: its path in the dataset, for problem paths). */
  list(abs: string, rel: string, opts: ListOptions): Promise<ArchiveListing>;
  open(abs: string, opts: ListOptions): Promise<MemberReader>;
}

export class SourceError extends Error {
  override name = 'SourceError';
}
