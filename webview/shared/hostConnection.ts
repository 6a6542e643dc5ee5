// The webview's side of a src/protocol.ts section: posts messages to the
// extension host, sends `ready` once listening, matches answers to requests
// (messageId / inReplyTo) with time-outs, turns `error` answers into
// rejections, and checks every incoming message against the section's schema
// (rejected ones are reported, never handled).

import { checkMessage, type MessageSchemas } from '../../src/messageSchema';

/** What VS Code's acquireVsCodeApi() returns (callable once per webview). */
export interface VsCodeApi<S = unknown> {
  postMessage(message: unknown): void;
  getState(): S | undefined;
  setState(state: S): void;
}

declare global {
  function acquireVsCodeApi<S = unknown>(): VsCodeApi<S>;
}

/** A request the host answered with an `error` message, or one that timed out. */
export class HostError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
    this.name = kind;
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface Pending {
  readonly replyType: string;
  resolve(m: unknown): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export interface ConnectionOptions<FromHost> {
  /** Extra checks of a message that passed its schema (e.g. array lengths that must agree); returns the reason to reject. */
  readonly consistent?: (m: FromHost) => string | undefined;
  /** Called with the reason for every rejected message (after console.warn). */
  readonly onRejected?: (reason: string) => void;
  /** Default request time-out in milliseconds. */
  readonly timeoutMs?: number;
}

/**
 * ToHost / FromHost: the two message unions of a protocol section.
 * Replies: the answer message of each request type (e.g. InspectorReplies).
 */
export class HostConnection<
  ToHost extends { type: string },
  FromHost extends { type: string },
  Replies extends { [K in keyof Replies]: { type: string; inReplyTo: number } },
> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly handlers = new Map<string, (m: never) => void>();
  private readonly listener = (e: MessageEvent) => this.receive(e.data);

  constructor(
    private readonly api: VsCodeApi<unknown>,
    private readonly schemas: MessageSchemas<FromHost>,
    private readonly replyTypes: { readonly [K in keyof Replies]: Replies[K]['type'] },
    private readonly opts: ConnectionOptions<FromHost> = {},
  ) {
    window.addEventListener('message', this.listener);
  }

  /** Handles every message of one type that is not an answer to a request. */
  on<T extends FromHost['type']>(type: T, handler: (m: Extract<FromHost, { type: T }>) => void): void {
    this.handlers.set(type, handler as (m: never) => void);
  }

  post(message: ToHost): void {
    this.api.postMessage(message);
  }

  /** Sends a request and resolves with its answer; rejects with HostError on an error answer or time-out. */
  request<M extends DistributiveOmit<Extract<ToHost, { messageId: number }>, 'messageId'> & { type: keyof Replies }>(
    message: M,
    timeoutMs = this.opts.timeoutMs ?? 30_000,
  ): Promise<Replies[M['type']]> {
    const messageId = this.nextId++;
    const type = message.type;
    return new Promise<Replies[M['type']]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(messageId);
        reject(new HostError('Timeout', `${String(type)} had no answer within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.pending.set(messageId, { replyType: this.replyTypes[type], resolve: resolve as (m: unknown) => void, reject, timer });
      this.api.postMessage({ ...message, messageId });
    });
  }

  /** Rejects every request still waiting (e.g. the host restarted the view). */
  cancelAll(reason: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new HostError('Cancelled', reason));
    }
  }

  /** Checks and dispatches one message (public for tests that feed messages directly). */
  receive(data: unknown): void {
    const checked = checkMessage(this.schemas, data);
    if (!checked.ok) return this.reject(checked.reason);
    const m = checked.message;
    const extra = this.opts.consistent?.(m);
    if (extra) return this.reject(extra);
    const inReplyTo = (m as { inReplyTo?: unknown }).inReplyTo;
    if (typeof inReplyTo === 'number') {
      const p = this.pending.get(inReplyTo);
      if (!p) return this.reject(`${m.type} answers request ${inReplyTo}, which is not waiting (timed out or never sent)`);
      if (m.type !== 'error' && m.type !== p.replyType) return this.reject(`${m.type} answers request ${inReplyTo}, which expects ${p.replyType}`);
      this.pending.delete(inReplyTo);
      clearTimeout(p.timer);
      if (m.type === 'error') {
        const e = m as unknown as { kind: string; message: string };
        p.reject(new HostError(e.kind, e.message));
      } else {
        p.resolve(m);
      }
      return;
    }
    const handler = this.handlers.get(m.type);
    if (!handler) return this.reject(`no handler for ${m.type}`);
    (handler as (m: FromHost) => void)(m);
  }

  private reject(reason: string): void {
    console.warn(`[patchlens] rejected a message from the host: ${reason}`);
    this.opts.onRejected?.(reason);
  }

  /** Tells the host the webview listens (call after registering handlers). */
  ready(): void {
    this.api.postMessage({ type: 'ready' });
  }

  dispose(): void {
    window.removeEventListener('message', this.listener);
    this.cancelAll('disposed');
  }
}
