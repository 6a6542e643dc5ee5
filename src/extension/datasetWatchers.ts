// File watchers kept per dataset: the side panel's (statuses stay current) and
// the build manager's (auto-update) both follow the list of datasets, each
// reacting to a burst of changes once it has settled.

import * as path from 'node:path';
import * as vscode from 'vscode';

/** Whether uri lies in a hidden file or folder under root (the database folder, dotfiles): not the dataset's. */
export function hiddenUnder(root: string, uri: vscode.Uri): boolean {
  return path
    .relative(root, uri.fsPath)
    .split(path.sep)
    .some((part) => part.startsWith('.'));
}

/** A watcher of `glob` under `folder` that calls `on` for every create, change and delete. */
export function watchFiles(folder: string, glob: string, on: (uri: vscode.Uri) => void): vscode.Disposable {
  const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(folder), glob));
  return vscode.Disposable.from(w, w.onDidCreate(on), w.onDidChange(on), w.onDidDelete(on));
}

/** Watchers by key, created and disposed as the wanted keys change, with one settle timer per dataset root. */
export class DatasetWatchers<T> implements vscode.Disposable {
  private readonly live = new Map<string, vscode.Disposable>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    /** Milliseconds a root stays quiet before `settled` runs for it. */
    private readonly settleMs: number,
    private readonly settled: (root: string) => void,
  ) {}

  /** Disposes the watchers whose key is no longer wanted and makes the missing ones. */
  sync(wanted: ReadonlyMap<string, T>, make: (value: T, key: string) => vscode.Disposable): void {
    for (const [key, w] of this.live) {
      if (wanted.has(key)) continue;
      w.dispose();
      this.live.delete(key);
    }
    for (const [key, value] of wanted) if (!this.live.has(key)) this.live.set(key, make(value, key));
  }

  /** (Re)starts root's settle timer. */
  poke(root: string): void {
    clearTimeout(this.timers.get(root));
    this.timers.set(
      root,
      setTimeout(() => {
        this.timers.delete(root);
        this.settled(root);
      }, this.settleMs),
    );
  }

  dispose(): void {
    for (const w of this.live.values()) w.dispose();
    for (const t of this.timers.values()) clearTimeout(t);
    this.live.clear();
    this.timers.clear();
  }
}
