// One side of a webview conversation, the same class on the extension host
// and in the webview (after vscode-hexeditor's MessageHandler): it checks
// every received message against its section's schema (src/protocol.ts),
// matches answers to requests by messageId / inReplyTo with time-outs, turns
// `error` answers into rejections, runs the handler registered for each
// other message, and answers every request it receives exactly once: with
// the handler's reply, or with an `error` when the request was rejected,
// the handler failed or no handler takes it. Pure code, no DOM, no vscode.

import { checkMessage, type v } from './messageSchema';

/** A request the other side answered with an `error` message, or one that timed out or was cancelled. */
export class RemoteError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
    this.name = kind;
  }
}

/** A received message that passed its schema but not a check of the side that got it (a path outside the dataset, a cell outside the grid). */
export class InvalidMessage extends Error {
  override name = 'InvalidMessage';
}

type Msg = { type: string };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** The error answer both directions carry. */
export interface ErrorAnswer {
  type: 'error';
  inReplyTo: number;
  kind: string;
  message: string;
}

export interface EndpointOptions<Out extends Msg, In extends Msg> {
  /** What this side names itself in reasons and logs ("Inspector (a.png)"). */
  readonly name: string;
  /** The schema of every message this side receives. */
  readonly schema: v.GenericSchema<unknown, In>;
  /** Sends a message to the other side. */
  readonly post: (message: Out | ErrorAnswer) => unknown;
  /** For each request this side sends, the type of its answer. */
  readonly replies?: Readonly<Record<string, string>>;
  /** Checks of a message beyond its schema (array lengths that must agree, paths): the reason to reject it. */
  readonly consistent?: (message: In) => string | undefined;
  /** Called with the reason for every rejected message and for every failed request handler. */
  readonly onRejected?: (reason: string) => void;
  readonly onFailed?: (type: string, error: Error) => void;
  /** Default request time-out in milliseconds. */
  readonly timeoutMs?: number;
}

interface Pending {
  readonly replyType: string;
  resolve(m: unknown): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** A request handler's answer: the reply, or undefined when the request was superseded (the other side was reset). */
type Handler<M, Out> = (message: M) => Out | undefined | Promise<Out | undefined>;
type RequestOf<U> = Extract<U, { messageId: number }>;

/**
 * Out / In: the message unions this side sends and receives.
 * Replies: the answer message of each request type this side sends.
 */
export class Endpoint<Out extends Msg, In extends Msg, Replies extends { [K in keyof Replies]: { type: string; inReplyTo: number } } = Record<never, never>> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly handlers = new Map<string, Handler<never, Out>>();
  private disposed = false;
  /** Bumped by reset(): answers to requests received before are dropped. */
  private epoch = 0;

  constructor(private readonly opts: EndpointOptions<Out, In>) {}

  /** Handles every message of one type that is not an answer (what the handler returns is ignored). */
  on<T extends Exclude<In, { messageId: number }>['type']>(type: T, handler: (message: Extract<In, { type: T }>) => unknown): this {
    this.handlers.set(type, handler as Handler<never, Out>);
    return this;
  }

  /** Answers every request of one type: the handler returns (or resolves to) the reply, or throws for an `error` answer. */
  handle<T extends RequestOf<In>['type']>(type: T, handler: Handler<Extract<In, { type: T }>, Out>): this {
    this.handlers.set(type, handler as Handler<never, Out>);
    return this;
  }

  post(message: Out): void {
    if (!this.disposed) this.opts.post(message);
  }

  /** Sends a request and resolves with its answer; rejects with RemoteError on an error answer, a time-out or cancel. */
  request<M extends DistributiveOmit<Extract<Out, { messageId: number }>, 'messageId'> & { type: keyof Replies }>(
    message: M,
    timeoutMs = this.opts.timeoutMs ?? 30_000,
  ): Promise<Replies[M['type']]> {
    const messageId = this.nextId++;
    const type = String(message.type);
    return new Promise<Replies[M['type']]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(messageId);
        reject(new RemoteError('Timeout', `${type} had no answer within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.pending.set(messageId, { replyType: this.opts.replies?.[type] ?? '', resolve: resolve as (m: unknown) => void, reject, timer });
      this.opts.post({ ...message, messageId } as unknown as Out);
    });
  }

  /** Rejects every request still waiting (e.g. the other side restarted). */
  cancelAll(reason: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new RemoteError('Cancelled', reason));
    }
  }

  /** Checks and dispatches one received message; returns it when it passed its checks. */
  receive(raw: unknown): In | undefined {
    if (this.disposed) return undefined;
    const checked = checkMessage(this.opts.schema, raw);
    if (!checked.ok) return this.reject(checked.reason, raw);
    const m = checked.message;
    const extra = this.opts.consistent?.(m);
    if (extra) return this.reject(extra, raw);
    const inReplyTo = (m as { inReplyTo?: unknown }).inReplyTo;
    if (typeof inReplyTo === 'number') {
      const p = this.pending.get(inReplyTo);
      if (!p) return this.reject(`${m.type} answers request ${inReplyTo}, which is not waiting (timed out or never sent)`, raw);
      if (m.type !== 'error' && m.type !== p.replyType) return this.reject(`${m.type} answers request ${inReplyTo}, which expects ${p.replyType}`, raw);
      this.pending.delete(inReplyTo);
      clearTimeout(p.timer);
      if (m.type === 'error') {
        const e = m as unknown as ErrorAnswer;
        p.reject(new RemoteError(e.kind, e.message));
      } else {
        p.resolve(m);
      }
      return m;
    }
    const handler = this.handlers.get(m.type) as Handler<In, Out> | undefined;
    if (!handler) return this.reject(`no handler for ${m.type}`, raw);
    const messageId = (m as { messageId?: unknown }).messageId;
    if (typeof messageId !== 'number') {
      try {
        handler(m);
      } catch (err) {
        this.fail(m.type, err);
      }
      return m;
    }
    void this.answer(m.type, messageId, () => handler(m));
    return m;
  }

  private async answer(type: string, messageId: number, run: () => ReturnType<Handler<In, Out>>): Promise<void> {
    const epoch = this.epoch;
    try {
      const reply = await run();
      if (reply && epoch === this.epoch) this.post(reply);
    } catch (err) {
      const e = this.fail(type, err);
      if (epoch === this.epoch) this.post({ type: 'error', inReplyTo: messageId, kind: e.name || 'Error', message: e.message } as unknown as Out);
    }
  }

  private fail(type: string, err: unknown): Error {
    const e = err instanceof Error ? err : new Error(String(err));
    if (e instanceof InvalidMessage) this.opts.onRejected?.(e.message);
    else this.opts.onFailed?.(type, e);
    return e;
  }

  /** Reports a rejected message; a rejected request is answered with an error at once, so the other side never waits for it. */
  private reject(reason: string, raw: unknown): undefined {
    this.opts.onRejected?.(reason);
    const id = raw && typeof raw === 'object' ? (raw as { messageId?: unknown }).messageId : undefined;
    if (typeof id === 'number' && Number.isSafeInteger(id) && id > 0)
      this.post({ type: 'error', inReplyTo: id, kind: 'InvalidMessage', message: reason } as unknown as Out);
    return undefined;
  }

  /** The other side starts over (a new `init`): requests it sent before get no answer, it no longer waits for them. */
  reset(): void {
    this.epoch++;
  }

  dispose(): void {
    this.cancelAll('disposed');
    this.disposed = true;
  }
}
