// How a dataset root is laid out beyond plain image files: which files are
// archives (read as folders), how an image inside one is named, WebDataset's
// sample rules, and which member names are refused. Pure, so the extension
// host, the CLI and the engine name things alike.

import { isSupportedImage, SUPPORTED_EXTENSIONS } from './imageTypes';

/** Container kinds a dataset root may hold besides image files. */
export const ARCHIVE_KINDS = ['tar', 'tar.gz', 'zip', 'parquet', 'hdf5'] as const;
export type ArchiveKind = (typeof ARCHIVE_KINDS)[number];

/** File name endings of each kind, lower case. */
export const ARCHIVE_EXTENSIONS: Readonly<Record<ArchiveKind, readonly string[]>> = {
  tar: ['.tar'],
  'tar.gz': ['.tar.gz', '.tgz'],
  zip: ['.zip'],
  parquet: ['.parquet'],
  hdf5: ['.h5', '.hdf5'],
};

/** A glob matching every archive file (`**\/*.{tar,tar.gz,...}`), for file watchers. */
export function archiveGlob(prefix = '**/*'): string {
  return `${prefix}.{${Object.values(ARCHIVE_EXTENSIONS)
    .flat()
    .map((e) => e.slice(1))
    .join(',')}}`;
}

/** Kinds whose entries are token grids (no pixels): built without running the encoder. */
export const CODE_KINDS: readonly ArchiveKind[] = ['hdf5'];

export function archiveKind(fileName: string): ArchiveKind | undefined {
  const lower = fileName.toLowerCase();
  // '.tar.gz' before '.tar' is not needed ('.tar' never ends '.tar.gz'), but longest first is the rule.
  let best: { kind: ArchiveKind; len: number } | undefined;
  for (const kind of ARCHIVE_KINDS) {
    for (const ext of ARCHIVE_EXTENSIONS[kind])
      if (lower.endsWith(ext) && lower.length > ext.length && (!best || ext.length > best.len)) best = { kind, len: ext.length };
  }
  return best?.kind;
}

/** Largest member read from an archive by default (a zip bomb or a huge member is refused before inflating it). */
export const DEFAULT_MAX_MEMBER_BYTES = 256 * 1024 * 1024;

/** Metadata members beside an image (WebDataset): extension -> the field they fill. */
export const METADATA_EXTENSIONS: Readonly<Record<string, 'caption' | 'json' | 'category'>> = { txt: 'caption', json: 'json', cls: 'category' };

/** Largest metadata member or text value kept (characters). */
export const MAX_METADATA_CHARS = 8192;

/** Field names that hold a caption, by preference (img2dataset, HF datasets, MJHQ-30K). */
export const CAPTION_FIELDS = ['caption', 'text', 'prompt', 'txt', 'sentence'] as const;

/** The file that joins metadata to images by name (MJHQ-30K): `{ "<image name>": { category, prompt, ... } }`. */
export const JOINED_METADATA_FILE = 'meta_data.json';

/** Metadata of one image: short text fields. */
export type ImageMetadata = Record<string, string>;

/** The caption among metadata fields, if any. */
export function captionOf(meta: ImageMetadata | undefined): string | undefined {
  if (!meta) return undefined;
  for (const f of CAPTION_FIELDS) if (typeof meta[f] === 'string' && meta[f].length > 0) return meta[f];
  return undefined;
}

/** Flattens a JSON object's top-level primitive fields to strings (nested values as JSON). */
export function metadataFromJson(value: unknown): ImageMetadata {
  const out: ImageMetadata = {};
  if (!value || typeof value !== 'object' || Array.isArray(value)) return out;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === null || v === undefined) continue;
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    out[k] = s.length > MAX_METADATA_CHARS ? s.slice(0, MAX_METADATA_CHARS) + '…' : s;
  }
  return out;
}

/** Splits a member path into WebDataset's sample key (up to the first dot of the basename) and extension. */
export function sampleKey(member: string): { key: string; ext: string } {
  const slash = member.lastIndexOf('/');
  const base = member.slice(slash + 1);
  const dot = base.indexOf('.');
  if (dot < 0) return { key: member, ext: '' };
  return { key: member.slice(0, slash + 1 + dot), ext: base.slice(dot + 1).toLowerCase() };
}

/** Image extensions in WebDataset's order of preference when a sample has more than one image member. */
const IMAGE_PREFERENCE = SUPPORTED_EXTENSIONS.map((e) => e.slice(1));

/** Rank of a sample member as the sample's image (lower is preferred), or undefined when it is no image. */
export function imageRank(ext: string): number | undefined {
  const plain = IMAGE_PREFERENCE.indexOf(ext);
  if (plain >= 0) return plain;
  // 'seg.png' and the like: images too, after every plain one
  return isSupportedImage(`x.${ext}`) ? IMAGE_PREFERENCE.length + IMAGE_PREFERENCE.indexOf(ext.slice(ext.lastIndexOf('.') + 1)) : undefined;
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Why a member name is refused, or undefined when it is fine. Names that would
 * leave the archive if extracted, absolute ones and ones with control
 * characters are reported and not indexed: an id is never resolved as a path,
 * but it is shown, linked and opened elsewhere.
 */
export function memberNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'member has an empty name';
  if (CONTROL.test(name)) return 'member name has control characters';
  if (name.startsWith('/') || /^[A-Za-z]:[\\/]/.test(name) || name.startsWith('\\')) return 'member name is an absolute path';
  if (name.split(/[\\/]/).some((s) => s === '..')) return "member name leaves the archive ('..')";
  return undefined;
}

/** A member name as used in ids: './' prefixes and doubled slashes dropped (tar writes './a.jpg'). */
export function normalMemberName(name: string): string {
  return name.replace(/^(\.\/)+/, '').replace(/\/{2,}/g, '/');
}

/** The id of an image inside an archive. */
export function memberId(archiveRel: string, member: string): string {
  return `${archiveRel}/${member}`;
}

/**
 * The archive part of an id, when one of its leading segments names an archive
 * (the first such segment: archives are not nested). Undefined for a plain file's id.
 */
export function splitArchiveId(id: string): { archive: string; kind: ArchiveKind; member: string } | undefined {
  const segs = id.split('/');
  for (let i = 0; i < segs.length - 1; i++) {
    const kind = archiveKind(segs[i]);
    if (kind) return { archive: segs.slice(0, i + 1).join('/'), kind, member: segs.slice(i + 1).join('/') };
  }
  return undefined;
}
