// The datasets Patch Lens knows: workspace folders plus folders added by
// command (multi-root aware), and where each one's database lives.

import * as path from 'node:path';
import { sha256 } from '../engine/sha256';
import * as vscode from 'vscode';
import { readSettings } from './settings';
import { isInside } from '../core/paths';
import { DATABASE_FOLDER } from '../core/vocabulary';

const EXTRA_KEY = 'patchlens.extraDatasets';
const HIDDEN_KEY = 'patchlens.hiddenDatasets';

export interface Dataset {
  /** Absolute folder path. */
  readonly root: string;
  readonly name: string;
  /** Added by command rather than being a workspace folder. */
  readonly added: boolean;
}

export class DatasetRegistry implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly subs: vscode.Disposable[] = [];

  constructor(private readonly context: vscode.ExtensionContext) {
    this.subs.push(
      this.changed,
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.changed.fire()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('patchlens.databaseLocation')) this.changed.fire();
      }),
    );
  }

  list(): Dataset[] {
    const hidden = new Set(this.context.workspaceState.get<string[]>(HIDDEN_KEY, []));
    const out: Dataset[] = [];
    for (const f of vscode.workspace.workspaceFolders ?? []) {
      if (f.uri.scheme === 'file' && !hidden.has(f.uri.fsPath)) out.push({ root: f.uri.fsPath, name: f.name, added: false });
    }
    for (const root of this.context.workspaceState.get<string[]>(EXTRA_KEY, [])) {
      if (!out.some((d) => d.root === root)) out.push({ root, name: path.basename(root), added: true });
    }
    return out;
  }

  async add(root: string): Promise<Dataset> {
    const abs = path.resolve(root);
    const hidden = this.context.workspaceState.get<string[]>(HIDDEN_KEY, []).filter((h) => h !== abs);
    await this.context.workspaceState.update(HIDDEN_KEY, hidden);
    const extra = this.context.workspaceState.get<string[]>(EXTRA_KEY, []);
    if (!extra.includes(abs) && !(vscode.workspace.workspaceFolders ?? []).some((f) => f.uri.fsPath === abs)) {
      await this.context.workspaceState.update(EXTRA_KEY, [...extra, abs]);
    }
    this.changed.fire();
    return this.list().find((d) => d.root === abs)!;
  }

  /** Removes a dataset from the list (its files and database stay on disk). */
  async remove(root: string): Promise<void> {
    const extra = this.context.workspaceState.get<string[]>(EXTRA_KEY, []);
    if (extra.includes(root)) await this.context.workspaceState.update(EXTRA_KEY, extra.filter((r) => r !== root));
    else await this.context.workspaceState.update(HIDDEN_KEY, [...this.context.workspaceState.get<string[]>(HIDDEN_KEY, []), root]);
    this.changed.fire();
  }

  /** The dataset holding a file (the innermost one when datasets nest). */
  datasetFor(file: string): Dataset | undefined {
    return this.list()
      .filter((d) => isInside(d.root, file))
      .sort((a, b) => b.root.length - a.root.length)[0];
  }

  /** Where the database of a dataset lives, per the databaseLocation setting. */
  dbDirFor(root: string): string {
    // The extension's own folder (the sample dataset) is never written to: it is replaced on update.
    if (readSettings(vscode.Uri.file(root)).databaseLocation === 'storage' || isInside(this.context.extensionUri.fsPath, root)) {
      const id = sha256(root).slice(0, 16);
      return path.join(this.context.globalStorageUri.fsPath, 'databases', `${path.basename(root).replace(/[^\w.-]+/g, '_')}-${id}`);
    }
    return path.join(root, DATABASE_FOLDER);
  }

  /** Folders a webview may load images from: every dataset root. */
  resourceRoots(): vscode.Uri[] {
    return this.list().map((d) => vscode.Uri.file(d.root));
  }

  fire(): void {
    this.changed.fire();
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}
