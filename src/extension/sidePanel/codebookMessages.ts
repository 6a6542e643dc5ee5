// Validation of the messages the Codebook webview sends: the protocol's schema
// (src/protocol.ts) and, for paths, that they stay inside their dataset.
// Anything else is dropped with a reason for the log. Pure: no `vscode` import.

import { codebookToHostSchema, type CodebookToHost } from '../../protocol';
import { checkMessage } from '../../messageSchema';
import { datasetPathProblem } from '../../core/paths';

/** A dataset-relative image path as the engine writes them (the one check: datasetPathProblem). */
export function isSafeRelativePath(p: unknown): p is string {
  return datasetPathProblem(p) === undefined;
}

/** The message if it is a well-formed CodebookToHost, else the reason it is not. */
export function parseCodebookMessage(raw: unknown): { ok: true; message: CodebookToHost } | { ok: false; reason: string } {
  const checked = checkMessage(codebookToHostSchema, raw);
  if (!checked.ok) return checked;
  const m = checked.message;
  if ((m.type === 'openPatch') && !isSafeRelativePath(m.image)) return { ok: false, reason: 'openPatch.image must be a path inside the dataset' };
  if ('root' in m && m.root.length === 0) return { ok: false, reason: `${m.type}.root is empty` };
  return checked;
}
