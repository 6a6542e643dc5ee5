// An encoder-only thread for bench:pipeline: loads its own Tokenizer (as an
// encode worker of the indexing pool does) and, when told to start, takes
// batches of the pre-decoded pixels from a shared counter until none is left.
// Running the encoder-only side in threads too is what makes a multi-worker
// configuration's two figures comparable (onnxruntime sessions in one thread
// do not run concurrently).

import { parentPort, workerData } from 'node:worker_threads';
import { Tokenizer } from '../../src/engine/tokenizer';

export interface EncodeOnlyWorkerData {
  readonly model: string;
  readonly threads: number;
  readonly batch: number;
  /** count images of imageBytes RGB bytes each, back to back. */
  readonly pixels: SharedArrayBuffer;
  readonly imageBytes: number;
  readonly count: number;
  /** Int32Array(1): the next image to take, shared by the threads. */
  readonly next: SharedArrayBuffer;
}

export type EncodeOnlyRequest = { type: 'run' };
export type EncodeOnlyResponse = { type: 'ready' } | { type: 'done'; images: number } | { type: 'failed'; message: string };

const data = workerData as EncodeOnlyWorkerData;
const port = parentPort!;
const all = new Uint8Array(data.pixels);
const next = new Int32Array(data.next);
const slice = (from: number, to: number): Uint8Array[] =>
  Array.from({ length: to - from }, (_, j) => all.slice((from + j) * data.imageBytes, (from + j + 1) * data.imageBytes));

void (async () => {
  try {
    const tok = await Tokenizer.load(data.model, { threads: data.threads });
    await tok.encode(slice(0, Math.min(data.batch, data.count))); // warm-up
    port.on('message', (m: EncodeOnlyRequest) => {
      if (m.type !== 'run') return;
      void (async () => {
        let images = 0;
        for (;;) {
          const i = Atomics.add(next, 0, data.batch);
          if (i >= data.count) break;
          const batch = slice(i, Math.min(i + data.batch, data.count));
          await tok.encode(batch);
          images += batch.length;
        }
        await tok.release();
        port.postMessage({ type: 'done', images } satisfies EncodeOnlyResponse);
      })().catch((e: unknown) => port.postMessage({ type: 'failed', message: String(e) } satisfies EncodeOnlyResponse));
    });
    port.postMessage({ type: 'ready' } satisfies EncodeOnlyResponse);
  } catch (e) {
    port.postMessage({ type: 'failed', message: String(e) } satisfies EncodeOnlyResponse);
  }
})();
