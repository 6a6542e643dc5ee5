// The webview's Endpoint (src/endpoint.ts) over VS Code's webview API:
// posts with acquireVsCodeApi().postMessage, receives the window's `message`
// events, and sends `ready` once the handlers are registered. Everything the
// host sends is checked against the section's schema; rejected messages are
// reported (console.warn and onRejected), never handled.

import { Endpoint, RemoteError } from '../../src/endpoint';
import type { v } from '../../src/messageSchema';

/** What VS Code's acquireVsCodeApi() returns (callable once per webview). */
export interface VsCodeApi<S = unknown> {
  postMessage(message: unknown): void;
  getState(): S | undefined;
  setState(state: S): void;
}

declare global {
  function acquireVsCodeApi<S = unknown>(): VsCodeApi<S>;
}

/** A request the host answered with an `error` message, or one that timed out or was cancelled. */
export { RemoteError as HostError };

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
 * Replies: the answer message of each request type (e.g. InspectorReplies),
 * replyTypes the same as a table (e.g. INSPECTOR_REPLIES).
 */
export class HostConnection<
  ToHost extends { type: string },
  FromHost extends { type: string },
  Replies extends { [K in keyof Replies]: { type: string; inReplyTo: number } },
> extends Endpoint<ToHost, FromHost, Replies> {
  private readonly listener = (e: MessageEvent) => void this.receive(e.data);

  constructor(
    private readonly api: VsCodeApi<unknown>,
    schema: v.GenericSchema<unknown, FromHost>,
    replyTypes: { readonly [K in keyof Replies]: Replies[K]['type'] },
    opts: ConnectionOptions<FromHost> = {},
  ) {
    super({
      name: 'webview',
      schema,
      post: (m) => api.postMessage(m),
      replies: replyTypes as Readonly<Record<string, string>>,
      consistent: opts.consistent,
      timeoutMs: opts.timeoutMs,
      onRejected: (reason) => {
        console.warn(`[patchlens] rejected a message from the host: ${reason}`);
        opts.onRejected?.(reason);
      },
      onFailed: (type, e) => console.error(`[patchlens] handling ${type} failed: ${e.message}`),
    });
    window.addEventListener('message', this.listener);
  }

  /** Tells the host the webview listens (call after registering handlers). */
  ready(): void {
    this.api.postMessage({ type: 'ready' });
  }

  override dispose(): void {
    window.removeEventListener('message', this.listener);
    super.dispose();
  }
}
