// Opening an image in the inspector (owned by the inspector: command
// `patchlens.inspectPatches(uri, { row, col })`), and asking it for its
// current selection (`patchlens.inspector.getSelection`, when it offers one).

import * as path from 'node:path';
import * as vscode from 'vscode';

export interface PatchPosition {
  readonly row: number;
  readonly col: number;
}

export interface InspectorSelection {
  readonly uri: vscode.Uri;
  readonly row: number;
  readonly col: number;
}

async function has(command: string): Promise<boolean> {
  return (await vscode.commands.getCommands(true)).includes(command);
}

/** Opens an image in the inspector with a patch selected. */
export async function openInInspector(uri: vscode.Uri, at?: PatchPosition): Promise<void> {
  if (await has('patchlens.inspectPatches')) {
    await vscode.commands.executeCommand('patchlens.inspectPatches', uri, at);
    return;
  }
  // The inspector is not part of this build: show the image itself.
  await vscode.commands.executeCommand('vscode.open', uri, { preview: true });
  void vscode.window.showInformationMessage(
    `Patch Lens: the inspector is not available in this build; opened ${path.basename(uri.fsPath)}${at ? ` (patch ${at.row},${at.col})` : ''}.`,
  );
}

/** The inspector's selected patch, if an inspector is open with one. */
export async function inspectorSelection(): Promise<InspectorSelection | undefined> {
  if (!(await has('patchlens.inspector.getSelection'))) return undefined;
  const sel = await vscode.commands.executeCommand<unknown>('patchlens.inspector.getSelection');
  if (!sel || typeof sel !== 'object') return undefined;
  const o = sel as { uri?: unknown; image?: unknown; row?: unknown; col?: unknown };
  const uri = o.uri instanceof vscode.Uri ? o.uri : typeof o.uri === 'string' ? vscode.Uri.parse(o.uri) : typeof o.image === 'string' ? vscode.Uri.file(o.image) : undefined;
  if (!uri || typeof o.row !== 'number' || typeof o.col !== 'number') return undefined;
  return { uri, row: o.row, col: o.col };
}
