// Archive members as files: a read-only file system whose paths are the
// members' absolute paths through their archive (/data/shards/0.tar/a.jpg),
// served by the engine worker from the member index. The inspector and VS
// Code's own image preview open members through it.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { archiveKind } from '../core/datasetLayout';
import type { EngineClient } from '../engine/engineClient';

export const ARCHIVE_SCHEME = 'patchlens-archive';

/** Whether an absolute path goes through an archive file (…/0.tar/a.jpg). */
export function isArchiveMemberPath(file: string): boolean {
  for (let p = path.dirname(file); p !== path.dirname(p); p = path.dirname(p)) {
    if (archiveKind(path.basename(p)) && fs.statSync(p, { throwIfNoEntry: false })?.isFile()) return true;
  }
  return false;
}

/** The URI an image opens with: a file's own, or the archive file system's for a member. */
export function imageUri(file: string): vscode.Uri {
  return isArchiveMemberPath(file) ? vscode.Uri.from({ scheme: ARCHIVE_SCHEME, path: file.split(path.sep).join('/') }) : vscode.Uri.file(file);
}

export class ArchiveFileSystem implements vscode.FileSystemProvider {
  private readonly emitter = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.emitter.event;

  constructor(private readonly engine: EngineClient) {}

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined);
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const st = await this.engine.request('statArchivePath', { file: uri.fsPath });
    if (!st) throw vscode.FileSystemError.FileNotFound(uri);
    return {
      type: st.type === 'folder' ? vscode.FileType.Directory : vscode.FileType.File,
      ctime: st.mtimeMs,
      mtime: st.mtimeMs,
      size: st.size,
      permissions: vscode.FilePermission.Readonly,
    };
  }

  async readDirectory(uri: vscode.Uri): Promise<[string, vscode.FileType][]> {
    const entries = await this.engine.request('readArchiveDir', { file: uri.fsPath });
    return entries.map((e) => [e.name, e.type === 'folder' ? vscode.FileType.Directory : vscode.FileType.File]);
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    try {
      return await this.engine.request('readImage', { file: uri.fsPath });
    } catch (err) {
      throw vscode.FileSystemError.Unavailable(`${uri.fsPath}: ${(err as Error).message}`);
    }
  }

  createDirectory(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  writeFile(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  delete(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  rename(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  dispose(): void {
    this.emitter.dispose();
  }
}

export function registerArchiveFileSystem(engine: EngineClient): vscode.Disposable {
  const fsp = new ArchiveFileSystem(engine);
  return vscode.Disposable.from(fsp, vscode.workspace.registerFileSystemProvider(ARCHIVE_SCHEME, fsp, { isReadonly: true, isCaseSensitive: true }));
}
