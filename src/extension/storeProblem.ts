// A store's failure as VS Code says it: the engine's one line (lanceStore's
// storeError) without its command-line hint, and what kind of failure it is,
// so the side panel can offer the credentials command. Pure: no `vscode` import.

export interface StoreProblem {
  readonly kind: 'credentials' | 'unreachable';
  /** The failure, one line. */
  readonly line: string;
}

export function storeProblem(message: string): StoreProblem | undefined {
  const kind = /the store refused the credentials/.test(message) ? 'credentials' : /the store cannot be reached/.test(message) ? 'unreachable' : undefined;
  if (!kind) return undefined;
  // storeError appends the CLI's hint after ". Check"; VS Code offers its command instead
  const line = message.split('\n')[0].replace(/\. Check .*$/, '');
  return { kind, line };
}
