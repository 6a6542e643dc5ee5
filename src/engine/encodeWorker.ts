// Worker thread: reads, decodes and encodes images, so neither the CLI's nor
// the extension host's thread does pixel or model work. Decoding of the next
// batch (sharp's thread pool) overlaps the encoder run of the current one.

import { parentPort, workerData } from 'node:worker_threads';
import * as fs from 'node:fs';
import { sha256 as sha256Of } from './sha256';
import { Tokenizer } from './tokenizer';
import { decodeForModel } from './imageDecoder';
import { cellPools } from '../core/prototypes';
import type { EncodeWorkerData, WorkerImage, WorkerRequest, WorkerResponse } from './encodeProtocol';

const data = workerData as EncodeWorkerData;
const port = parentPort!;
const post = (msg: WorkerResponse, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

async function main(): Promise<void> {
  let tok: Tokenizer;
  try {
    tok = await Tokenizer.load(data.manifestPath, { threads: data.threads });
  } catch (err) {
    post({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
    return;
  }
  post({ type: 'ready', fingerprint: tok.info.fingerprint, rows: tok.info.rows, cols: tok.info.cols });
  const { rows, cols } = tok.info;
  const input = tok.info.manifest.input;
  let encoding: Promise<unknown> = Promise.resolve();

  port.on('message', async (msg: WorkerRequest) => {
    if (msg.type !== 'encode') return;
    const t0 = performance.now();
    // Read and decode every file of the batch concurrently; failures become per-file errors.
    const decoded = await Promise.all(
      msg.files.map(async (f) => {
        try {
          if (f.error !== undefined) throw new Error(f.error);
          const bytes = f.bytes ?? (await fs.promises.readFile(f.abs));
          const sha256 = sha256Of(bytes);
          const img = await decodeForModel(bytes, input, data.maxPixels);
          return { f, sha256, img };
        } catch (err) {
          return { f, error: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
    const t1 = performance.now();
    const ok = decoded.filter((d) => d.img !== undefined);
    // One encoder run at a time; the next batch decodes meanwhile.
    // A failure of the batch (e.g. NaN latents from one image) is retried image by image, so it costs only the culprit.
    const encodeOne = (rgb: Uint8Array) =>
      tok.encode([rgb]).then(
        ([e]) => e,
        (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
      );
    const run = encoding.then(() =>
      tok.encode(ok.map((d) => d.img!.rgb)).catch(async (err: unknown) => {
        if (ok.length < 2) throw err;
        const each: (Awaited<ReturnType<typeof tok.encode>>[number] | Error)[] = [];
        for (const d of ok) each.push(await encodeOne(d.img!.rgb));
        return each;
      }),
    );
    encoding = run.catch(() => undefined);
    let encoded: Awaited<typeof run>;
    let t2 = t1;
    let t3 = t1;
    try {
      t2 = performance.now();
      encoded = await run;
      t3 = performance.now();
    } catch (err) {
      const message = `encoder failed: ${err instanceof Error ? err.message : String(err)}`;
      post({ type: 'result', id: msg.id, images: msg.files.map((f) => ({ rel: f.rel, ok: false, error: message })), decodeMs: t1 - t0, encodeMs: 0 });
      return;
    }
    const images: WorkerImage[] = [];
    const transfer: ArrayBuffer[] = [];
    let j = 0;
    for (const d of decoded) {
      if (!d.img) {
        images.push({ rel: d.f.rel, ok: false, error: d.error! });
        continue;
      }
      const e = encoded[j++];
      if (e instanceof Error) {
        images.push({ rel: d.f.rel, ok: false, error: `encoder failed: ${e.message}` });
        continue;
      }
      const pools = cellPools(d.img.rgb, input.width, input.height, rows, cols, data.protoPatch);
      images.push({
        rel: d.f.rel,
        ok: true,
        sha256: d.sha256!,
        width: d.img.width,
        height: d.img.height,
        format: d.img.format,
        tokens: e.tokens,
        distances: e.distances,
        latents: e.latents,
        pools,
      });
      transfer.push(e.tokens.buffer as ArrayBuffer, e.distances.buffer as ArrayBuffer, e.latents.buffer as ArrayBuffer, pools.buffer as ArrayBuffer);
    }
    // Time spent waiting for the previous batch's encode is neither decode nor encode.
    post({ type: 'result', id: msg.id, images, decodeMs: t1 - t0, encodeMs: t3 - t2 }, transfer);
  });
}

void main();
