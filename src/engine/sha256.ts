// SHA-256 as hex, the one hash of the project: file and record identities in
// the manifest, the manifest's own checksum, model fingerprints, cache names.

import * as fs from 'node:fs';
import { createHash } from 'node:crypto';

/** SHA-256 of the parts, in order, as one stream (strings as UTF-8). */
export function sha256(...parts: readonly (string | Uint8Array)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

const CHUNK = 4 << 20;

/** SHA-256 of a file, read in 4 MB steps (a large segment is never held whole). */
export function sha256File(file: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let n: number;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

const yieldToOthers = () => new Promise<void>((r) => setImmediate(r));

/**
 * SHA-256 of bytes in memory or of a file, in 4 MB steps that let other work
 * (queries) run in between; stops early when the signal aborts.
 */
export async function sha256Gently(source: Uint8Array | string, signal?: AbortSignal): Promise<string | undefined> {
  const h = createHash('sha256');
  if (typeof source !== 'string') {
    for (let o = 0; o < source.byteLength; o += CHUNK) {
      if (signal?.aborted) return undefined;
      h.update(source.subarray(o, Math.min(source.byteLength, o + CHUNK)));
      await yieldToOthers();
    }
    return h.digest('hex');
  }
  const fh = await fs.promises.open(source, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      if (signal?.aborted) return undefined;
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
      await yieldToOthers();
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}
