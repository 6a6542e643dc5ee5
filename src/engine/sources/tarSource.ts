// WebDataset shards: .tar read by position (listing reads only headers and
// metadata members; a member is one positioned read), and .tar.gz / .tgz,
// which gzip makes a stream: listing decompresses it once, and a member is
// reached by decompressing up to it. Reads in ascending offset order (a
// build) share one pass; a read behind the stream starts it again.

import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import type { ArchiveKind } from '../../core/datasetLayout';
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
import { FileByteReader, StreamByteReader, walkTar, type ByteReader } from './tarWalk';

function gunzipReader(abs: string): ByteReader {
  const file = fs.createReadStream(abs, { highWaterMark: 1 << 20 });
  const gunzip = zlib.createGunzip({ chunkSize: 1 << 20 });
  file.on('error', (err) => gunzip.destroy(err));
  const stream = file.pipe(gunzip);
  return new StreamByteReader(stream, () => {
    file.destroy();
    gunzip.destroy();
  });
}

async function listTar(kind: ArchiveKind, abs: string, rel: string, opts: ListOptions): Promise<ArchiveListing> {
  const reader = kind === 'tar' ? await FileByteReader.open(abs) : gunzipReader(abs);
  const raw: RawMember[] = [];
  const text = new Map<string, string>();
  const problems: SourceProblem[] = [];
  let links = 0;
  try {
    let res;
    try {
      res = await walkTar(
        reader,
        (e) => {
          if (e.type === '0') raw.push({ name: e.name, offset: e.offset, size: e.size });
          else if (e.type === '1' || e.type === '2') links++;
          return e.type === '0' && isMetadataMember(e.name, e.size);
        },
        (e, data) => {
          text.set(e.name, data.toString('utf8'));
        },
      );
    } catch (err) {
      // zlib: a damaged or truncated gzip stream
      res = { error: `cannot decompress: ${(err as Error).message}` };
    }
    if (res.error) {
      if ('truncated' in res && res.truncated !== undefined) {
        const last = raw[raw.length - 1];
        if (last && last.name === res.truncated) raw.pop();
      }
      problems.push({ path: rel, error: `${res.error}; the members before it are indexed` });
    }
    if (links > 0) problems.push({ path: rel, error: `${links} link member${links === 1 ? '' : 's'} not followed` });
  } finally {
    await reader.close();
  }
  if (raw.length === 0 && problems.length > 0 && kind === 'tar' && !(await looksLikeTar(abs))) {
    return { members: [], problems: [{ path: rel, error: 'not a tar archive' }] };
  }
  return assembleListing(rel, raw, text, { maxMemberBytes: opts.maxMemberBytes, mode: 'samples' }, problems);
}

async function looksLikeTar(abs: string): Promise<boolean> {
  const fh = await fs.promises.open(abs, 'r');
  try {
    const b = Buffer.alloc(512);
    await fh.read(b, 0, 512, 0);
    return b.toString('ascii', 257, 262) === 'ustar' || b.every((x) => x === 0);
  } finally {
    await fh.close();
  }
}

class TarReader implements MemberReader {
  private queue: Promise<unknown> = Promise.resolve();
  constructor(private readonly fh: fs.promises.FileHandle) {}
  read(m: MemberEntry): Promise<Uint8Array> {
    const run = this.queue.then(async () => {
      const buf = Buffer.allocUnsafeSlow(m.size);
      let done = 0;
      while (done < m.size) {
        const { bytesRead } = await this.fh.read(buf, done, m.size - done, m.offset + done);
        if (bytesRead === 0) throw new SourceError(`the archive ends inside ${m.name} (changed since it was indexed?)`);
        done += bytesRead;
      }
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
  close(): Promise<void> {
    return this.fh.close();
  }
}

class TgzReader implements MemberReader {
  private stream?: ByteReader;
  private queue: Promise<unknown> = Promise.resolve();
  constructor(private readonly abs: string) {}
  read(m: MemberEntry): Promise<Uint8Array> {
    const run = this.queue.then(async () => {
      if (!this.stream || this.stream.position > m.offset) {
        await this.stream?.close();
        this.stream = gunzipReader(this.abs);
      }
      try {
        if (!(await this.stream.skip(m.offset - this.stream.position))) throw new SourceError(`the archive ends before ${m.name}`);
        const data = await this.stream.read(m.size);
        if (data.length < m.size) throw new SourceError(`the archive ends inside ${m.name}`);
        return new Uint8Array(data);
      } catch (err) {
        await this.stream.close();
        this.stream = undefined;
        throw err instanceof SourceError ? err : new SourceError(`cannot decompress ${m.name}: ${(err as Error).message}`);
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
  async close(): Promise<void> {
    await this.stream?.close();
  }
}

export const tarSource: ArchiveSource = {
  kind: 'tar',
  list: (abs, rel, opts) => listTar('tar', abs, rel, opts),
  open: async (abs) => new TarReader(await fs.promises.open(abs, 'r')),
};

export const tarGzSource: ArchiveSource = {
  kind: 'tar.gz',
  list: (abs, rel, opts) => listTar('tar.gz', abs, rel, opts),
  open: async (abs) => new TgzReader(abs),
};
