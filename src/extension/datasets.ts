// The datasets Patch Lens knows: workspace folders plus folders added by
// command (multi-root aware), and where each one's database lives: the one
// patchlens.databases names (a Lance database at a URI or in a folder), else
// the default location.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { sha256 } from '../engine/sha256';
import * as vscode from 'vscode';
import { readSettings, resolveDatabase } from './settings';
import { isInside } from '../core/paths';
import { DATABASE_FOLDER, MANIFEST_FILE } from '../core/vocabulary';
import { isObjectStoreUri, shownUri } from '../core/databaseUri';
import { isLanceFolder } from '../engine/locations';
import type { DatabaseResolution } from './databaseChoice';

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
  /** Ignored workspace entries already reported (once a session each). */
  private readonly reportedIgnored = new Set<string>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log?: vscode.LogOutputChannel,
  ) {
    this.subs.push(
      this.changed,
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.changed.fire()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('patchlens.databaseLocation') || e.affectsConfiguration('patchlens.databases')) this.changed.fire();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.changed.fire()),
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
    if (extra.includes(root))
      await this.context.workspaceState.update(
        EXTRA_KEY,
        extra.filter((r) => r !== root),
      );
    else await this.context.workspaceState.update(HIDDEN_KEY, [...this.context.workspaceState.get<string[]>(HIDDEN_KEY, []), root]);
    this.changed.fire();
  }

  /** The dataset holding a file (the innermost one when datasets nest). */
  datasetFor(file: string): Dataset | undefined {
    return this.list()
      .filter((d) => isInside(d.root, file))
      .sort((a, b) => b.root.length - a.root.length)[0];
  }

  /** The database patchlens.databases names for a dataset (and a workspace entry ignored in Restricted Mode, reported once). */
  databaseSetting(root: string): DatabaseResolution {
    const r = resolveDatabase(root);
    if (r.ignored && !this.reportedIgnored.has(`${root}\0${r.ignored}`)) {
      this.reportedIgnored.add(`${root}\0${r.ignored}`);
      const using = r.choice ? `${shownUri(r.choice.location)} from your user settings` : 'the default database location';
      const line = `This workspace is not trusted, so its patchlens.databases entry for ${path.basename(root)} (${shownUri(r.ignored)}) is ignored and not connected to; using ${using}.`;
      this.log?.warn(line);
      void vscode.window
        .showWarningMessage(`Patch Lens: ${line} Trust the workspace or set the entry in user settings to use it.`, 'Manage Workspace Trust')
        .then((c) => {
          if (c) void vscode.commands.executeCommand('workbench.trust.manage');
        });
    }
    return r;
  }

  /** The dataset whose setting names a database location (an object-store URI or folder), if any. */
  rootOfDatabase(location: string): string | undefined {
    return this.list().find((d) => resolveDatabase(d.root).choice?.location === location)?.root;
  }

  /** Whether a dataset has a database, as far as can be told without the engine (an object-store URI: assumed). */
  hasDatabase(root: string): boolean {
    const db = this.dbDirFor(root);
    return isObjectStoreUri(db) || fs.existsSync(path.join(db, MANIFEST_FILE)) || isLanceFolder(db);
  }

  /** Where the database of a dataset lives: the one patchlens.databases names, else per the databaseLocation setting. */
  dbDirFor(root: string): string {
    const named = this.databaseSetting(root).choice;
    if (named) return named.location;
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
