// Files a build skipped, in the Problems panel: one warning per file, with the
// reason, replaced whenever a dataset's failures are known again (after a
// build here, or when the side panel reads a database the CLI built).

import * as path from 'node:path';
import * as vscode from 'vscode';

export interface SkippedFile {
  /** Relative to the dataset root, '/'-separated. */
  readonly path: string;
  readonly error: string;
}

export class SkippedFiles implements vscode.Disposable {
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('patchlens');
  /** The URIs shown per dataset root, so a dataset's set can be replaced alone. */
  private readonly shown = new Map<string, vscode.Uri[]>();

  /** Replaces the problems shown for one dataset. */
  set(root: string, files: readonly SkippedFile[]): void {
    for (const uri of this.shown.get(root) ?? []) this.diagnostics.delete(uri);
    const uris: vscode.Uri[] = [];
    for (const f of files) {
      const uri = vscode.Uri.file(path.join(root, ...f.path.split('/')));
      const d = new vscode.Diagnostic(new vscode.Range(0, 0, 0, 0), `Not indexed by Patch Lens: ${f.error}`, vscode.DiagnosticSeverity.Warning);
      d.source = 'Patch Lens';
      this.diagnostics.set(uri, [d]);
      uris.push(uri);
    }
    this.shown.set(root, uris);
  }

  /** Files a notification can name: the first few, then a count. */
  static describe(files: readonly SkippedFile[], max = 3): string {
    const names = files.slice(0, max).map((f) => f.path);
    const more = files.length > max ? ` and ${files.length - max} more` : '';
    return `${files.length === 1 ? '1 file' : `${files.length} files`} skipped (${names.join(', ')}${more})`;
  }

  dispose(): void {
    this.diagnostics.dispose();
  }
}

/** Opens the Problems panel, where the skipped files are listed. */
export function showProblems(): Thenable<unknown> {
  return vscode.commands.executeCommand('workbench.actions.view.problems');
}
