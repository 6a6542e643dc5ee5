// .zip (MJHQ-30K): the central directory through yauzl, each member's data
// offset from its local header, so a member is one positioned read (and an
// inflate, bounded by the member byte limit: a zip bomb stops there). A zip
// whose central directory is damaged or cut off is read from its local
// headers, in order, up to the first that does not parse. A member's bytes
// are checked against the CRC-32 the archive records (zlib.crc32, Node >=
// 20.15 and every VS Code the extension supports), so damaged data is refused
// with its reason instead of reaching the image decoder.

import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { promisify } from 'node:util';
import yauzl from 'yauzl';
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
import { assembleListing, isMetadataMember, type RawMember } from './assembleListing';

const LOCAL_SIG = 0x04034b50;
const inflateRaw = promisify(zlib.inflateRaw);
/** Node's CRC-32 (the zip polynomial); absent before Node 20.15, where members go unchecked as yauzl's own reads would. */
const crc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

function decodeName(raw: Buffer, flags: number): string {
  if (flags & 0x800) return raw.toString('utf8');
  const utf8 = raw.toString('utf8');
  return utf8.includes('\ufffd') ? raw.toString('latin1') : utf8;
}

interface ZipRaw extends RawMember {
  readonly stored: number;
  readonly method: number;
  readonly encrypted: boolean;
  readonly crc32: number;
}

function centralDirectory(
  abs: string,
): Promise<{ name: string; localOffset: number; stored: number; size: number; method: number; flags: number; crc32: number }[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(abs, { lazyEntries: true, decodeStrings: false, autoClose: true, validateEntrySizes: false }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('cannot open'));
      const out: { name: string; localOffset: number; stored: number; size: number; method: number; flags: number; crc32: number }[] = [];
      zip.on('entry', (e: yauzl.Entry) => {
        const raw = (e as unknown as { fileNameRaw?: Buffer }).fileNameRaw ?? (e.fileName as unknown as Buffer);
        out.push({
          name: decodeName(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)), e.generalPurposeBitFlag),
          localOffset: e.relativeOffsetOfLocalHeader,
          stored: e.compressedSize,
          size: e.uncompressedSize,
          method: e.compressionMethod,
          flags: e.generalPurposeBitFlag,
          crc32: e.crc32,
        });
        zip.readEntry();
      });
      zip.on('end', () => resolve(out));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

/** Members from the local headers, for a zip without a readable central directory. */
async function localHeaders(fh: fs.promises.FileHandle, size: number, problems: SourceProblem[], rel: string): Promise<ZipRaw[]> {
  const out: ZipRaw[] = [];
  const h = Buffer.alloc(30);
  let pos = 0;
  while (pos + 30 <= size) {
    await fh.read(h, 0, 30, pos);
    if (h.readUInt32LE(0) !== LOCAL_SIG) break;
    const flags = h.readUInt16LE(6);
    const method = h.readUInt16LE(8);
    const stored = h.readUInt32LE(18);
    const crc = h.readUInt32LE(14);
    const usize = h.readUInt32LE(22);
    const nameLen = h.readUInt16LE(26);
    const extraLen = h.readUInt16LE(28);
    const nameBuf = Buffer.alloc(nameLen);
    await fh.read(nameBuf, 0, nameLen, pos + 30);
    const name = decodeName(nameBuf, flags);
    const offset = pos + 30 + nameLen + extraLen;
    if (flags & 0x8) {
      problems.push({ path: `${rel}/${name}`, error: 'member sizes are only in the damaged central directory; the rest of the archive is not readable' });
      break;
    }
    if (offset + stored > size) {
      problems.push({ path: `${rel}/${name}`, error: 'the archive ends inside this member (truncated)' });
      break;
    }
    out.push({ name, offset, size: usize, stored, method, encrypted: (flags & 1) !== 0, crc32: crc });
    pos = offset + stored;
  }
  return out;
}

async function listZip(abs: string, rel: string, opts: ListOptions): Promise<ArchiveListing> {
  const problems: SourceProblem[] = [];
  const fh = await fs.promises.open(abs, 'r');
  try {
    const size = (await fh.stat()).size;
    let raw: ZipRaw[];
    try {
      const cd = await centralDirectory(abs);
      raw = [];
      const h = Buffer.alloc(30);
      for (const e of cd) {
        const { bytesRead } = await fh.read(h, 0, 30, e.localOffset);
        if (bytesRead < 30 || h.readUInt32LE(0) !== LOCAL_SIG) {
          problems.push({ path: `${rel}/${e.name}`, error: 'member has no local header where the central directory says (damaged archive)' });
          continue;
        }
        const offset = e.localOffset + 30 + h.readUInt16LE(26) + h.readUInt16LE(28);
        if (offset + e.stored > size) {
          problems.push({ path: `${rel}/${e.name}`, error: 'member data lies past the end of the archive (truncated)' });
          continue;
        }
        raw.push({ name: e.name, offset, size: e.size, stored: e.stored, method: e.method, encrypted: (e.flags & 1) !== 0, crc32: e.crc32 });
      }
    } catch (err) {
      raw = await localHeaders(fh, size, problems, rel);
      const why = (err as Error).message;
      if (raw.length === 0) return { members: [], problems: [{ path: rel, error: `not a readable zip archive: ${why}` }, ...problems] };
      problems.unshift({ path: rel, error: `damaged zip (${why}); ${raw.length} members read from their local headers` });
    }
    const usable: ZipRaw[] = [];
    for (const r of raw) {
      if (r.name.endsWith('/')) continue;
      if (r.encrypted) problems.push({ path: `${rel}/${r.name}`, error: 'member is encrypted; skipped' });
      else if (r.method !== 0 && r.method !== 8)
        problems.push({ path: `${rel}/${r.name}`, error: `member uses compression method ${r.method} (only stored and deflate are read); skipped` });
      else usable.push(r);
    }
    const text = new Map<string, string>();
    for (const r of usable) {
      if (!isMetadataMember(r.name, r.size) || r.stored > 1 << 20) continue;
      try {
        text.set(r.name, Buffer.from(await readZipMember(fh, r, opts.maxMemberBytes)).toString('utf8'));
      } catch (err) {
        problems.push({ path: `${rel}/${r.name}`, error: (err as Error).message });
      }
    }
    return assembleListing(rel, usable, text, { maxMemberBytes: opts.maxMemberBytes, mode: 'all' }, problems);
  } finally {
    await fh.close();
  }
}

async function readZipMember(
  fh: fs.promises.FileHandle,
  m: { name: string; offset: number; size: number; stored?: number; method?: number; crc32?: number },
  maxBytes: number,
): Promise<Uint8Array> {
  return checked(m, await inflatedMember(fh, m, maxBytes));
}

function checked(m: { name: string; crc32?: number }, bytes: Uint8Array): Uint8Array {
  if (m.crc32 === undefined || !crc32) return bytes;
  const got = crc32(bytes) >>> 0;
  if (got !== m.crc32 >>> 0)
    throw new SourceError(`${m.name} is damaged: its bytes do not match the archive's CRC-32 (${hex(m.crc32)}, read ${hex(got)}); not read`);
  return bytes;
}

const hex = (n: number) => (n >>> 0).toString(16).padStart(8, '0');

async function inflatedMember(
  fh: fs.promises.FileHandle,
  m: { name: string; offset: number; size: number; stored?: number; method?: number },
  maxBytes: number,
): Promise<Uint8Array> {
  const stored = m.stored ?? m.size;
  if (m.size > maxBytes) throw new SourceError(`${m.name} is ${formatBytes(m.size)}, over the member limit of ${formatBytes(maxBytes)}`);
  const buf = Buffer.allocUnsafeSlow(stored);
  let done = 0;
  while (done < stored) {
    const { bytesRead } = await fh.read(buf, done, stored - done, m.offset + done);
    if (bytesRead === 0) throw new SourceError(`the archive ends inside ${m.name}`);
    done += bytesRead;
  }
  if (m.method === 0 || m.method === undefined) return new Uint8Array(buf.buffer, 0, stored);
  let out: Buffer;
  try {
    // the declared size is not trusted: inflating stops at the limit whatever the header says
    out = await inflateRaw(buf, { maxOutputLength: Math.max(1, Math.min(maxBytes, m.size + 1)) });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw new SourceError(`${m.name} inflates to more than its declared ${m.size} bytes (zip bomb?); not read`);
    throw new SourceError(`cannot inflate ${m.name}: ${(err as Error).message}`);
  }
  if (out.length !== m.size) throw new SourceError(`${m.name} inflates to ${out.length} bytes, the archive says ${m.size} (damaged)`);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

class ZipReader implements MemberReader {
  constructor(
    private readonly fh: fs.promises.FileHandle,
    private readonly maxBytes: number,
  ) {}
  read(m: MemberEntry): Promise<Uint8Array> {
    return readZipMember(this.fh, m, this.maxBytes);
  }
  close(): Promise<void> {
    return this.fh.close();
  }
}

export const zipSource: ArchiveSource = {
  kind: 'zip',
  list: listZip,
  open: async (abs, opts) => new ZipReader(await fs.promises.open(abs, 'r'), opts.maxMemberBytes),
};
