// The extension host's handle on the engine worker: typed requests with
// time-outs, errors carried back with their class name, build progress.

import type { Worker } from 'node:worker_threads';
import { startWorker } from './startWorker';
import type { BuildProgress } from './indexer';
import type { FindProgress } from '../core/duplicates';
import type { EngineMessage, EngineMethod, EngineRequests } from './engineProtocol';

export class EngineError extends Error {
  constructor(
    /** The error class in the worker (ManifestError, DatabaseError, NoDatabaseError, ...). */
    readonly kind: string,
    message: string,
  ) {
    super(message);
    this.name = kind;
  }
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
  onProgress?: (p: BuildProgress) => void;
  onSearchProgress?: (p: FindProgress) => void;
  onLog?: (line: string) => void;
  onSteps?: (done: number, total: number, phase?: string) => void;
}

export interface RequestOptions {
  /** Milliseconds before the request fails with a time-out (0: never). */
  readonly timeoutMs?: number;
  readonly onProgress?: (p: BuildProgress) => void;
  /** Progress of a duplicate search. */
  readonly onSearchProgress?: (p: FindProgress) => void;
  readonly onLog?: (line: string) => void;
  /** Steps of a rollout (or images of the rollout statistic, or of a fidelity report's phase) done. */
  readonly onSteps?: (done: number, total: number, phase?: string) => void;
  /** Called with the request id as soon as it is sent (to cancel builds and rollouts). */
  readonly onStart?: (id: number) => void;
}

/**
 * Runs before a request is sent: a promise to wait for (the request is sent
 * after it settles, so what it sends first arrives first), or undefined to
 * send at once.
 */
export type BeforeRequest = (method: EngineMethod, params: unknown) => Promise<void> | undefined;

export class EngineClient {
  private worker?: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private before?: BeforeRequest;

  /** Sets what runs before each request (the extension hands a database's storage options over first). */
  setBeforeRequest(before: BeforeRequest | undefined): void {
    this.before = before;
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    // LanceDB's native logger reads the process's real environment, which a worker thread's process.env
    // does not write: set here, or its retry warnings (naming the store and the access key id) reach stderr.
    process.env.LANCEDB_LOG ??= 'error';
    const w = startWorker('engineWorker', undefined);
    w.on('message', (m: EngineMessage) => this.onMessage(m));
    w.on('error', (err) => this.failAll(new EngineError('EngineCrashed', `the engine worker failed: ${err.message}`)));
    w.on('exit', (code) => {
      if (this.worker === w) this.worker = undefined;
      this.failAll(new EngineError('EngineCrashed', `the engine worker exited (code ${code})`));
    });
    this.worker = w;
    return w;
  }

  private onMessage(m: EngineMessage): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === 'progress') return p.onProgress?.(m.progress);
    if (m.type === 'log') return p.onLog?.(m.line);
    if (m.type === 'steps') return p.onSteps?.(m.done, m.total, m.phase);
    if (m.type === 'searchProgress') return p.onSearchProgress?.(m.progress);
    this.pending.delete(m.id);
    if (p.timer) clearTimeout(p.timer);
    if (m.type === 'response') p.resolve(m.result);
    else p.reject(new EngineError(m.name, m.message));
  }

  private failAll(err: Error): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      if (p.timer) clearTimeout(p.timer);
      p.reject(err);
    }
  }

  request<M extends EngineMethod>(method: M, params: EngineRequests[M]['params'], opts: RequestOptions = {}): Promise<EngineRequests[M]['result']> {
    const first = method === 'storageOptions' ? undefined : this.before?.(method, params);
    return first ? first.then(() => this.send(method, params, opts)) : this.send(method, params, opts);
  }

  private send<M extends EngineMethod>(method: M, params: EngineRequests[M]['params'], opts: RequestOptions): Promise<EngineRequests[M]['result']> {
    const w = this.ensure();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const p: Pending = {
        resolve: resolve as (v: unknown) => void,
        reject,
        onProgress: opts.onProgress,
        onSearchProgress: opts.onSearchProgress,
        onLog: opts.onLog,
        onSteps: opts.onSteps,
      };
      const timeoutMs = opts.timeoutMs ?? 60_000;
      if (timeoutMs > 0) {
        p.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new EngineError('Timeout', `${method} did not answer within ${Math.round(timeoutMs / 1000)} s`));
        }, timeoutMs);
      }
      this.pending.set(id, p);
      w.postMessage({ id, method, params });
      opts.onStart?.(id);
    });
  }

  async dispose(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.failAll(new EngineError('Disposed', 'the engine was shut down'));
    if (w) await w.terminate();
  }
}
