// A walk over a tar archive's 512-byte headers (ustar, GNU long names, pax
// paths), giving each regular member's name, data offset and size. Over a
// file it seeks past member data, so indexing a 10 GB shard reads only its
// headers; over a gzip stream it reads through. A bad checksum or a short
// read stops the walk with what was found so far and the reason.

import * as fs from 'node:fs';

const BLOCK = 512;

/** Sequential bytes: a file read by position, or a decompressed stream. */
export interface ByteReader {
  /** Bytes consumed so far. */
  readonly position: number;
  /** Total bytes, when known up front (a file). */
  readonly size?: number;
  /** Up to n bytes (fewer only at the end). */
  read(n: number): Promise<Buffer>;
  /** Skips n bytes; false when the input ends first. */
  skip(n: number): Promise<boolean>;
  close(): Promise<void>;
}

export class FileByteReader implements ByteReader {
  position = 0;
  private constructor(
    private readonly fh: fs.promises.FileHandle,
    readonly size: number,
  ) {}
  static async open(file: string, start = 0): Promise<FileByteReader> {
    const fh = await fs.promises.open(file, 'r');
    const r = new FileByteReader(fh, (await fh.stat()).size);
    r.position = start;
    return r;
  }
  async read(n: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(Math.max(0, Math.min(n, this.size - this.position)));
    let done = 0;
    while (done < buf.length) {
      const { bytesRead } = await this.fh.read(buf, done, buf.length - done, this.position + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    this.position += done;
    return done === buf.length ? buf : buf.subarray(0, done);
  }
  async skip(n: number): Promise<boolean> {
    this.position += n;
    return this.position <= this.size;
  }
  close(): Promise<void> {
    return this.fh.close();
  }
}

/** Bytes from an async stream of chunks (e.g. a gunzip of a .tar.gz). */
export class StreamByteReader implements ByteReader {
  position = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly it: AsyncIterator<Buffer>;
  private ended = false;
  constructor(
    stream: AsyncIterable<Buffer>,
    private readonly onClose: () => void = () => {},
  ) {
    this.it = stream[Symbol.asyncIterator]();
  }
  private async fill(n: number): Promise<void> {
    while (this.pendingBytes < n && !this.ended) {
      const r = await this.it.next();
      if (r.done) this.ended = true;
      else {
        this.pending.push(r.value);
        this.pendingBytes += r.value.length;
      }
    }
  }
  async read(n: number): Promise<Buffer> {
    await this.fill(n);
    const all = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    const out = all.subarray(0, Math.min(n, all.length));
    const rest = all.subarray(out.length);
    this.pending = rest.length ? [rest] : [];
    this.pendingBytes = rest.length;
    this.position += out.length;
    return out;
  }
  async skip(n: number): Promise<boolean> {
    let left = n;
    while (left > 0) {
      if (this.pendingBytes === 0) {
        await this.fill(1);
        if (this.pendingBytes === 0) return false;
      }
      const head = this.pending[0];
      if (head.length <= left) {
        this.pending.shift();
        this.pendingBytes -= head.length;
        left -= head.length;
        this.position += head.length;
      } else {
        this.pending[0] = head.subarray(left);
        this.pendingBytes -= left;
        this.position += left;
        left = 0;
      }
    }
    return true;
  }
  async close(): Promise<void> {
    this.ended = true;
    await this.it.return?.();
    this.onClose();
  }
}

export interface TarEntry {
  /** The member's path as stored (pax / GNU long name applied). */
  readonly name: string;
  /** '0' regular file, '5' folder, '1'/'2' links, ... */
  readonly type: string;
  /** Offset of the member's data from the start of the (uncompressed) archive. */
  readonly offset: number;
  readonly size: number;
}

export interface TarWalkResult {
  /** Why the walk stopped early (a damaged or truncated archive), or undefined at a clean end. */
  readonly error?: string;
  /** The member the archive ends inside (visited, but not readable). */
  readonly truncated?: string;
}

function cstring(buf: Buffer, start: number, len: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end < 0 || end > start + len ? start + len : end);
}

function octal(buf: Buffer, start: number, len: number): number {
  if (buf[start] & 0x80) {
    // GNU base-256 for sizes of 8 GiB and more
    let v = 0;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + buf[i];
    return v;
  }
  const s = cstring(buf, start, len).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

function checksumOk(h: Buffer): boolean {
  const stored = octal(h, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 32 : h[i];
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

function paxPath(data: Buffer): string | undefined {
  let path: string | undefined;
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(data.toString('ascii', i, sp), 10);
    if (!(len > 0)) break;
    const rec = data.toString('utf8', sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    if (rec.slice(0, eq) === 'path') path = rec.slice(eq + 1);
    i += len;
  }
  return path;
}

/**
 * Walks every member; `visit` says whether it wants the member's data (given
 * to `onData` before the walk goes on) or not (skipped: a seek on a file).
 */
export async function walkTar(
  r: ByteReader,
  visit: (e: TarEntry) => boolean,
  onData: (e: TarEntry, data: Buffer) => void | Promise<void> = () => {},
): Promise<TarWalkResult> {
  let longName: string | undefined;
  let zeros = 0;
  for (;;) {
    const at = r.position;
    const h = await r.read(BLOCK);
    if (h.length === 0) return zeros > 0 || at === 0 ? {} : { error: `the archive ends without its end-of-archive blocks at byte ${at} (truncated?)` };
    if (h.length < BLOCK) return { error: `truncated tar header at byte ${at}` };
    if (h.every((b) => b === 0)) {
      if (++zeros === 2) return {};
      continue;
    }
    zeros = 0;
    if (!checksumOk(h)) return { error: `corrupt tar header at byte ${at} (checksum mismatch)` };
    const size = octal(h, 124, 12);
    const type = String.fromCharCode(h[156] || 0x30);
    const ustar = h.toString('ascii', 257, 262) === 'ustar';
    const prefix = ustar ? cstring(h, 345, 155) : '';
    const stored = cstring(h, 0, 100);
    const offset = r.position;
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L' || type === 'x' || type === 'g' || type === 'K') {
      if (size > 1 << 20) return { error: `tar extension header of ${size} bytes at byte ${at}` };
      const data = await r.read(padded);
      if (data.length < padded) return { error: `truncated tar header at byte ${at}` };
      if (type === 'L') longName = cstring(data, 0, size);
      else if (type === 'x') longName = paxPath(data.subarray(0, size)) ?? longName;
      continue;
    }
    const name = longName ?? (prefix ? `${prefix}/${stored}` : stored);
    longName = undefined;
    const e: TarEntry = { name, type: type === '\0' || type === '7' ? '0' : type, offset, size };
    const truncated = { error: `the archive ends inside member ${JSON.stringify(name)} (truncated)`, truncated: name };
    if (r.size !== undefined && offset + size > r.size) return truncated;
    if (size > 0 && visit(e)) {
      const data = await r.read(size);
      if (data.length < size) return truncated;
      await onData(e, data);
      if (!(await r.skip(padded - size))) return {};
    } else {
      if (size === 0) visit(e);
      if (!(await r.skip(padded))) return truncated;
    }
  }
}
