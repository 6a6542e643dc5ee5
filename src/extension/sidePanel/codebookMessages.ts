// The host's Endpoint for the Codebook webview: the protocol's schema
// (src/protocol.ts) and, for paths, that they stay inside their dataset.
// Anything else is dropped with a reason for the log, and a rejected request
// is answered with an `error` at once. Pure: no `vscode` import.

import { Endpoint } from '../../endpoint';
import { checkMessage } from '../../messageSchema';
import { datasetPathProblem } from '../../core/paths';
import { codebookToHostSchema, type CodebookToHost, type HostToCodebook } from '../../protocol';

/** A dataset-relative image path as the engine writes them (the one check: datasetPathProblem). */
export function isSafeRelativePath(p: unknown): p is string {
  return datasetPathProblem(p) === undefined;
}

/** Checks beyond the schema: image paths inside the dataset, roots not empty. */
function codebookMessageProblem(m: CodebookToHost): string | undefined {
  if (m.type === 'openPatch' && !isSafeRelativePath(m.image)) return 'openPatch.image must be a path inside the dataset';
  if ('root' in m && m.root.length === 0) return `${m.type}.root is empty`;
  return undefined;
}

/** The message if it is a well-formed CodebookToHost, else the reason it is not. */
export function parseCodebookMessage(raw: unknown): { ok: true; message: CodebookToHost } | { ok: false; reason: string } {
  const checked = checkMessage(codebookToHostSchema, raw);
  if (!checked.ok) return checked;
  const problem = codebookMessageProblem(checked.message);
  return problem ? { ok: false, reason: problem } : checked;
}

/** The codebook view's host endpoint; register its handlers with on() and handle(). */
export function codebookEndpoint(
  post: (m: HostToCodebook) => unknown,
  log: { warn(m: string): void; error(m: string): void },
): Endpoint<HostToCodebook, CodebookToHost> {
  return new Endpoint<HostToCodebook, CodebookToHost>({
    name: 'Codebook view',
    schema: codebookToHostSchema,
    post,
    consistent: codebookMessageProblem,
    onRejected: (reason) => log.warn(`Codebook view: rejected a message: ${reason}`),
    onFailed: (type, e) => log.error(`Codebook view: ${type} failed: ${e.message}`),
  });
}
