// A pool of encode workers fed batches of files; results are handed on in file
// order, whichever worker finishes first. Each worker keeps two batches in
// flight so decoding and encoding overlap.

import type { Worker } from 'node:worker_threads';
import * as os from 'node:os';
import type { EncodeFile, EncodeWorkerData, WorkerImage, WorkerResponse } from './encodeProtocol';
import { startWorker } from './startWorker';

/** The CPU cores this process may use. */
export function cpuCount(): number {
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}

/** Most encode workers chosen by default: one thread inserts into the index, and ~4 single-thread encoders already outpace it. */
export const MAX_DEFAULT_WORKERS = 4;

/**
 * Workers and onnxruntime threads per worker for a build. Default: one
 * single-thread worker per core (at most MAX_DEFAULT_WORKERS); on 2 idle cores
 * that indexes 1.4x faster than one worker (bench:pipeline), as onnxruntime
 * scales worse over threads than over sessions. Threads default to the cores
 * but one shared out among the workers: onnxruntime threads that compete with
 * the inserting thread spin and slow both down.
 */
export function encoderLayout(workers?: number, threads?: number, cpus = cpuCount()): { workers: number; threads: number } {
  const n = Math.max(1, Math.min(workers ?? MAX_DEFAULT_WORKERS, cpus));
  return { workers: n, threads: Math.max(1, threads ?? Math.floor((cpus - 1) / n)) };
}

export interface PoolOptions {
  readonly manifestPath: string;
  /** Encode workers (default: one per core, at most MAX_DEFAULT_WORKERS). */
  readonly workers?: number;
  /** onnxruntime intra-op threads per worker (default: the cores but one shared out among the workers, at least 1). */
  readonly threads?: number;
  readonly maxPixels: number;
  readonly protoPatch: number;
  /** The model as the caller described it: a worker that loads another (the files changed since, or a wrong grid) fails the start. */
  readonly expect?: { readonly fingerprint: string; readonly rows: number; readonly cols: number };
}

export interface BatchTiming {
  readonly decodeMs: number;
  readonly encodeMs: number;
}

export class EncoderPool {
  private constructor(private readonly workers: Worker[]) {}

  /** Starts the workers and waits until each has loaded the model. */
  static async start(opts: PoolOptions): Promise<EncoderPool> {
    const { workers: n, threads } = encoderLayout(opts.workers, opts.threads);
    const data: EncodeWorkerData = { manifestPath: opts.manifestPath, threads, maxPixels: opts.maxPixels, protoPatch: opts.protoPatch };
    const workers = Array.from({ length: n }, () => startWorker('encodeWorker', data));
    const cleanups: (() => void)[] = [];
    try {
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolve, reject) => {
              const onMsg = (m: WorkerResponse) => {
                if (m.type === 'ready') {
                  const e = opts.expect;
                  if (!e || (m.fingerprint === e.fingerprint && m.rows === e.rows && m.cols === e.cols)) resolve();
                  else
                    reject(
                      new Error(
                        `the model ${opts.manifestPath} changed while indexing: the encode worker loaded ${m.fingerprint} (${m.rows}x${m.cols}), expected ${e.fingerprint} (${e.rows}x${e.cols})`,
                      ),
                    );
                } else if (m.type === 'failed') reject(new Error(m.message));
              };
              const onExit = (code: number) => reject(new Error(`encode worker exited with code ${code} while loading the model`));
              w.on('message', onMsg);
              w.on('error', reject);
              w.on('exit', onExit);
              // Only our listeners: Worker keeps internal ones (they ref its port).
              cleanups.push(() => {
                w.off('message', onMsg);
                w.off('error', reject);
                w.off('exit', onExit);
              });
            }),
        ),
      );
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw err;
    } finally {
      for (const c of cleanups) c();
    }
    return new EncoderPool(workers);
  }

  get size(): number {
    return this.workers.length;
  }

  /**
   * Encodes all files in batches; onImage is called for every file (success or
   * failure) as results arrive. Resolves when all are done; rejects if a worker
   * dies or the signal aborts.
   */
  async encodeAll(
    files: readonly EncodeFile[],
    batchSize: number,
    onImage: (img: WorkerImage) => void,
    onBatch?: (t: BatchTiming) => void,
    signal?: AbortSignal,
    /** Fills in the bytes of a batch before it is sent (archive members); called in batch order, one at a time. */
    prepare?: (batch: readonly EncodeFile[]) => Promise<EncodeFile[]>,
  ): Promise<void> {
    const batches: EncodeFile[][] = [];
    for (let i = 0; i < files.length; i += batchSize) batches.push(files.slice(i, i + batchSize));
    let next = 0;
    // Batches finish in any order across workers; they are handed on in file order, so labels
    // (and with them the index) do not depend on the number of workers or their timing.
    const finished = new Map<number, WorkerResponse & { type: 'result' }>();
    let emit = 0;
    if (batches.length === 0) return;
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      let preparing: Promise<void> = Promise.resolve();
      const cleanups: (() => void)[] = [];
      const finish = (err?: unknown) => {
        if (failed) return;
        if (err) failed = true;
        for (const c of cleanups) c();
        if (err) reject(err);
        else resolve();
      };
      const onAbort = () => finish(signal?.reason ?? new Error('aborted'));
      if (signal) {
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        cleanups.push(() => signal.removeEventListener('abort', onAbort));
      }
      for (const w of this.workers) {
        const send = () => {
          if (next >= batches.length || failed) return;
          const id = next++;
          if (!prepare) return w.postMessage({ type: 'encode', id, files: batches[id] });
          // one batch prepared at a time, in order: a stream (a .tar.gz) is then read in one pass
          preparing = preparing
            .then(() => (failed ? undefined : prepare(batches[id])))
            .then((ready) => {
              if (ready && !failed) w.postMessage({ type: 'encode', id, files: ready });
            })
            .catch((err: unknown) => finish(err));
        };
        const onMessage = (m: WorkerResponse) => {
          if (m.type !== 'result' || failed) return;
          finished.set(m.id, m);
          try {
            for (let r = finished.get(emit); r; r = finished.get(emit)) {
              finished.delete(emit++);
              for (const img of r.images) onImage(img);
              onBatch?.({ decodeMs: r.decodeMs, encodeMs: r.encodeMs });
            }
          } catch (err) {
            return finish(err);
          }
          if (emit === batches.length) return finish();
          send();
        };
        const onError = (err: Error) => finish(new Error(`encode worker failed: ${err.message}`));
        const onExit = (code: number) => finish(new Error(`encode worker exited unexpectedly (code ${code})`));
        w.on('message', onMessage);
        w.on('error', onError);
        w.on('exit', onExit);
        cleanups.push(() => {
          w.off('message', onMessage);
          w.off('error', onError);
          w.off('exit', onExit);
        });
        send();
        send();
      }
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
