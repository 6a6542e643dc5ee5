// Opening an image in the inspector (owned by the inspector: command
// `patchlens.inspectPatches(uri, { row, col })`), and asking it for its
// current selection (`patchlens.inspector.getSelection`); both are registered
// in the same activate().

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

/** Opens an image in the inspector with a patch selected. */
export async function openInInspector(uri: vscode.Uri, at?: PatchPosition, keep = false): Promise<void> {
  // a jump reuses the preview tab; `keep` (a double click) opens a kept one
  await vscode.commands.executeCommand('patchlens.inspectPatches', uri, at, { preview: !keep });
}

/** The inspector's selected patch, if an inspector is open with one. */
export async function inspectorSelection(): Promise<InspectorSelection | undefined> {
  return vscode.commands.executeCommand<InspectorSelection | undefined>('patchlens.inspector.getSelection');
}
