// From the raw members of an archive to its image listing: refused names,
// duplicates, samples (WebDataset: one image per key, its .txt/.json/.cls
// siblings as metadata), the member byte limit. Shared by tar, tar.gz and zip.

import {
  MAX_METADATA_CHARS,
  METADATA_EXTENSIONS,
  imageRank,
  memberId,
  memberNameProblem,
  metadataFromJson,
  normalMemberName,
  sampleKey,
  type ImageMetadata,
} from '../../core/datasetLayout';
import { formatBytes } from '../../core/format';
import type { ArchiveListing, MemberEntry, SourceProblem } from '../datasetSource';

export interface RawMember {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly stored?: number;
  readonly method?: number;
  readonly crc32?: number;
}

/** Whether a member's content is wanted as metadata (so a stream can keep it as it passes). */
export function isMetadataMember(name: string, size: number): boolean {
  const { ext } = sampleKey(normalMemberName(name));
  return ext in METADATA_EXTENSIONS && size <= MAX_METADATA_CHARS * 4;
}

/**
 * `mode` 'samples' applies WebDataset's rule (the preferred image of each key);
 * 'all' indexes every image member (zip: MJHQ-30K keeps a folder per category).
 */
export function assembleListing(
  rel: string,
  raw: readonly RawMember[],
  metadataText: ReadonlyMap<string, string>,
  opts: { maxMemberBytes: number; mode: 'samples' | 'all' },
  problems: SourceProblem[],
): ArchiveListing {
  const seen = new Set<string>();
  const images: { m: RawMember; name: string; key: string; rank: number }[] = [];
  // JSON fields first, then .txt / .cls over them: a caption file wins over a JSON caption field
  const jsonMeta = new Map<string, ImageMetadata>();
  const fileMeta = new Map<string, ImageMetadata>();
  for (const m of raw) {
    const name = normalMemberName(m.name);
    if (name.endsWith('/')) continue;
    const id = memberId(rel, m.name);
    const bad = memberNameProblem(name);
    if (bad) {
      problems.push({ path: id, error: `${bad}; not indexed` });
      continue;
    }
    if (seen.has(name)) {
      problems.push({ path: id, error: 'duplicate member name in the archive; the first one is indexed' });
      continue;
    }
    seen.add(name);
    const { key, ext } = sampleKey(name);
    const field = METADATA_EXTENSIONS[ext];
    if (field) {
      const text = metadataText.get(m.name);
      if (text === undefined) continue;
      if (field === 'json') {
        try {
          jsonMeta.set(key, metadataFromJson(JSON.parse(text)));
        } catch {
          problems.push({ path: id, error: 'metadata member is not valid JSON; ignored' });
        }
      } else {
        fileMeta.set(key, { ...fileMeta.get(key), [field]: text.trim().slice(0, MAX_METADATA_CHARS) });
      }
      continue;
    }
    const rank = imageRank(ext);
    if (rank === undefined) {
      problems.push({ path: id, error: `not an image or metadata member (.${ext || '?'}); skipped` });
      continue;
    }
    if (m.size > opts.maxMemberBytes) {
      problems.push({ path: id, error: `member is ${formatBytes(m.size)}, over the member limit of ${formatBytes(opts.maxMemberBytes)}; not read` });
      continue;
    }
    images.push({ m, name, key, rank });
  }
  let chosen = images;
  if (opts.mode === 'samples') {
    const best = new Map<string, (typeof images)[number]>();
    for (const img of images) {
      const b = best.get(img.key);
      if (!b || img.rank < b.rank) best.set(img.key, img);
    }
    chosen = [];
    for (const img of images) {
      const b = best.get(img.key)!;
      if (b === img) chosen.push(img);
      else problems.push({ path: memberId(rel, img.name), error: `sample ${JSON.stringify(img.key)} has another image member (${b.name} is indexed)` });
    }
  }
  const members: MemberEntry[] = chosen.map(({ m, name, key }) => {
    const meta = jsonMeta.has(key) || fileMeta.has(key) ? { ...jsonMeta.get(key), ...fileMeta.get(key) } : undefined;
    return {
      name,
      offset: m.offset,
      size: m.size,
      ...(m.stored !== undefined ? { stored: m.stored, method: m.method } : {}),
      ...(m.crc32 !== undefined ? { crc32: m.crc32 } : {}),
      ...(meta ? { meta } : {}),
    };
  });
  members.sort((a, b) => a.offset - b.offset);
  return { members, problems };
}
