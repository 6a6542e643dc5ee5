// A long engine request (predictability, rollout copying, fidelity) under a
// cancellable notification: its step events become the progress message, and
// Cancel asks the engine worker to stop it (the request then rejects with the
// engine's cancelled error, which the caller names).

import * as vscode from 'vscode';
import type { EngineClient } from '../../engine/engineClient';
import type { EngineMethod, EngineRequests } from '../../engine/engineProtocol';

/** What a step event reads as in the notification, e.g. "120 of 2,000 patches". */
export type StepText = (done: number, total: number, phase?: string) => string;

export function engineTask<M extends EngineMethod>(
  engine: EngineClient,
  title: string,
  method: M,
  params: EngineRequests[M]['params'],
  steps: StepText,
): Thenable<EngineRequests[M]['result']> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
    let id: number | undefined;
    let shown = '';
    let last = 0;
    token.onCancellationRequested(() => id !== undefined && void engine.request('cancel', { buildId: id }));
    return engine.request(method, params, {
      timeoutMs: 0,
      onStart: (i) => (id = i),
      onSteps: (done, total, phase) => {
        const message = steps(done, total, phase);
        // the bar moves with a phase's share done; a new phase starts it again
        const share = total > 0 ? done / total : 0;
        const increment = share >= last ? (share - last) * 100 : undefined;
        last = share;
        if (message !== shown || increment) progress.report({ message, ...(increment ? { increment } : {}) });
        shown = message;
      },
    });
  });
}
