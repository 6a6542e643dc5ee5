// The ways into the Patch Inspector: the explorer's "Inspect Patches" (one
// image or a multi-selection), the title-bar button of VS Code's image
// preview, "Open With… > Patch Inspector", and the command palette (the
// active image, or pick one from the datasets).

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Services } from '../services';
import { INSPECTABLE_EXTENSIONS, isInspectable } from './datasetPaths';
import { DATABASE_FOLDER } from '../../core/vocabulary';
import { INSPECTOR_VIEW_TYPE, InspectorEditorProvider } from './inspectorEditorProvider';
import type { SharedCells } from './inspectorSession';

/** Above this many selected images, ask before opening a tab for each. */
const OPEN_WITHOUT_ASKING = 5;
const IMAGE_PREVIEW_VIEW_TYPE = 'imagePreview.previewEditor';

export function registerInspector(s: Services): vscode.Disposable[] {
  const provider = new InspectorEditorProvider(s);
  return [
    provider,
    vscode.window.registerCustomEditorProvider(INSPECTOR_VIEW_TYPE, provider, {
      supportsMultipleEditorsPerDocument: true,
      // View state lives in the webview's getState/setState; hidden inspectors are unloaded.
      webviewOptions: { retainContextWhenHidden: false },
    }),
    vscode.commands.registerCommand('patchlens.inspectPatches', (arg?: unknown, args?: unknown, show?: unknown) =>
      inspectPatches(s, provider, arg, args, show),
    ),
    // For other commands (Find Similar Patches): the active inspector's image and selected patch, or undefined.
    vscode.commands.registerCommand('patchlens.inspector.getSelection', () => provider.selection()),
    // For "Export Results…": the active inspector's last query as tables.
    vscode.commands.registerCommand('patchlens.inspector.exportTables', () => provider.exportTables()),
    // For the Duplicates view: (uri, { other, score, sharedCells, cells }, viewColumn).
    vscode.commands.registerCommand('patchlens.inspector.showShared', (uri: unknown, shared: unknown, column: unknown) => {
      if (!(uri instanceof vscode.Uri) || !isInspectable(uri.fsPath) || !isSharedCells(shared)) return;
      return provider.openShared(uri, shared, typeof column === 'number' ? column : vscode.ViewColumn.Active);
    }),
  ];
}

/** Shared cells passed by the Duplicates view. */
function isSharedCells(v: unknown): v is SharedCells {
  const s = v as Partial<SharedCells> | undefined;
  return !!s && typeof s.other === 'string' && typeof s.score === 'number' && Number.isInteger(s.sharedCells) && s.cells instanceof Int32Array;
}

/** A patch position passed by another part of Patch Lens: `{ row, col }`. */
function isPatch(v: unknown): v is { row: number; col: number } {
  const p = v as { row?: unknown; col?: unknown } | undefined;
  return !!p && !Array.isArray(p) && Number.isInteger(p.row) && Number.isInteger(p.col) && (p.row as number) >= 0 && (p.col as number) >= 0;
}

async function inspectPatches(s: Services, provider: InspectorEditorProvider, arg: unknown, args: unknown, show?: unknown): Promise<void> {
  // The side panel and the palette open one image at a patch: (uri, { row, col }).
  if (arg instanceof vscode.Uri && isPatch(args)) {
    if (!isInspectable(arg.fsPath)) return;
    const keep = (show as { preview?: unknown } | undefined)?.preview === false;
    return provider.openImage(arg, { row: args.row, col: args.col }, { preview: !keep });
  }
  // The explorer passes the clicked item and the whole selection; the image preview's title button passes its file.
  const selected = Array.isArray(args) && args.length > 0 ? args : arg instanceof vscode.Uri ? [arg] : [];
  let uris = selected.filter((u): u is vscode.Uri => u instanceof vscode.Uri && isInspectable(u.fsPath));
  if (selected.length > 0 && uris.length === 0) {
    void vscode.window.showInformationMessage(`Patch Lens inspects images (${INSPECTABLE_EXTENSIONS.join(', ')}); none is selected.`);
    return;
  }
  if (uris.length === 0) {
    const active = activeImage() ?? (await pickImage(s));
    if (!active) return;
    uris = [active];
  }
  if (uris.length > OPEN_WITHOUT_ASKING) {
    const all = `Open All ${uris.length}`;
    const first = `Open the First ${OPEN_WITHOUT_ASKING}`;
    const choice = await vscode.window.showWarningMessage(`Open ${uris.length} images in the Patch Inspector, one tab each?`, { modal: true }, all, first);
    if (!choice) return;
    if (choice === first) uris = uris.slice(0, OPEN_WITHOUT_ASKING);
  }
  for (const uri of uris) await provider.openImage(uri, undefined, uris.length > 1 ? { preview: false, preserveFocus: true } : {});
}

/** The image shown in the active editor (VS Code's image preview, or an inspector). */
function activeImage(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputCustom && (input.viewType === IMAGE_PREVIEW_VIEW_TYPE || input.viewType === INSPECTOR_VIEW_TYPE)) return input.uri;
  if (input instanceof vscode.TabInputText && isInspectable(input.uri.fsPath)) return input.uri;
  return undefined;
}

/** Asks for an image from the datasets' folders. */
async function pickImage(s: Services): Promise<vscode.Uri | undefined> {
  const exts = INSPECTABLE_EXTENSIONS.map((e) => e.slice(1));
  const glob = `**/*.{${[...exts, ...exts.map((e) => e.toUpperCase())].join(',')}}`;
  const items = (async () => {
    const out: (vscode.QuickPickItem & { uri: vscode.Uri })[] = [];
    for (const d of s.datasets.list()) {
      const found = await vscode.workspace.findFiles(
        new vscode.RelativePattern(vscode.Uri.file(d.root), glob),
        `**/{${DATABASE_FOLDER},node_modules,.git}/**`,
        5000,
      );
      for (const uri of found.sort((a, b) => a.fsPath.localeCompare(b.fsPath))) {
        const rel = path.relative(d.root, uri.fsPath);
        out.push({
          label: path.basename(uri.fsPath),
          description: path.dirname(rel) === '.' ? d.name : `${d.name}/${path.dirname(rel).split(path.sep).join('/')}`,
          iconPath: new vscode.ThemeIcon('file-media'),
          uri,
        });
      }
    }
    return out;
  })();
  const list = await items;
  if (list.length === 0) {
    void vscode.window.showInformationMessage(
      'Patch Lens: there are no images in the open dataset folders. Open a folder of images, or right-click an image file.',
    );
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(list, {
    title: 'Inspect Patches',
    placeHolder: 'Image to open in the Patch Inspector',
    matchOnDescription: true,
  });
  return picked?.uri;
}
