// Select Model: the bundled models (media/models/*/manifest.json) and
// "Browse…" for a manifest of one's own; the choice is validated and written
// where it takes effect (see modelChoice.ts).

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseModelManifest } from '../../core/modelManifest';
import { BUNDLED_MODEL } from '../../engine/locations';
import { listBundledModels, settingTarget, settingValue, type BundledModel } from './modelChoice';
import type { Services } from '../services';
import { resolveModel } from '../settings';

type Item = vscode.QuickPickItem & { bundled?: BundledModel; browse?: boolean };

export function registerSelectModel(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand('patchlens.selectModel', async () => {
    const modelsDir = vscode.Uri.joinPath(s.context.extensionUri, 'media', 'models').fsPath;
    const scope = s.datasets.list()[0] ? vscode.Uri.file(s.datasets.list()[0].root) : undefined;
    const current = resolveModel(scope);
    const bundled = listBundledModels(modelsDir);
    const same = (a: string, b: string) => path.resolve(a) === path.resolve(b);
    const items: Item[] = bundled.map((b) => ({
      // The check mark goes in the label: an icon in a description reads as a blank between two separators.
      label: `${same(b.manifestPath, current.manifestPath) ? '$(check)' : '$(package)'} ${b.name}`,
      description: [
        b.id === BUNDLED_MODEL ? 'bundled, default' : 'bundled',
        b.input ? `${b.input.width}×${b.input.height} input` : '',
        same(b.manifestPath, current.manifestPath) ? 'in use' : '',
      ]
        .filter(Boolean)
        .join(' · '),
      detail: b.description,
      bundled: b,
    }));
    if (!bundled.some((b) => same(b.manifestPath, current.manifestPath))) {
      items.unshift({
        label: `$(check) ${path.basename(path.dirname(current.manifestPath))}`,
        description: `in use (${current.origin} settings)`,
        detail: current.manifestPath,
      });
    }
    if (bundled.length === 0) items.push({ label: 'No bundled model in this build', description: modelsDir, kind: vscode.QuickPickItemKind.Separator });
    items.push({ label: '$(folder-opened) Browse…', description: 'a manifest.json of your own ONNX export', browse: true });
    const picked = await vscode.window.showQuickPick(items, {
      title: 'Select Model',
      placeHolder: current.ignoredWorkspaceModel
        ? `Restricted Mode: the workspace's model (${current.ignoredWorkspaceModel}) is ignored`
        : 'Tokenizer model for new builds',
    });
    if (!picked || (!picked.bundled && !picked.browse)) return;
    let manifestPath: string;
    if (picked.browse) {
      const uris = await vscode.window.showOpenDialog({
        canSelectFiles: true,
        canSelectFolders: false,
        canSelectMany: false,
        filters: { 'Model manifest': ['json'] },
        openLabel: 'Use Model',
        title: 'Model manifest (manifest.json)',
      });
      if (!uris?.[0]) return;
      manifestPath = uris[0].fsPath;
      try {
        parseModelManifest(JSON.parse(await fs.promises.readFile(manifestPath, 'utf8')), manifestPath, path);
      } catch (e) {
        void vscode.window.showErrorMessage(`Patch Lens: ${path.basename(manifestPath)} is not a usable model manifest: ${(e as Error).message}`);
        return;
      }
    } else {
      manifestPath = picked.bundled!.manifestPath;
    }
    const config = vscode.workspace.getConfiguration('patchlens', scope);
    const info = config.inspect<string>('model');
    const target = settingTarget(info, vscode.workspace.isTrusted, (vscode.workspace.workspaceFolders?.length ?? 0) > 0);
    const cfgTarget =
      target === 'global'
        ? vscode.ConfigurationTarget.Global
        : target === 'workspace'
          ? vscode.ConfigurationTarget.Workspace
          : vscode.ConfigurationTarget.WorkspaceFolder;
    const nothingElseSet = ![info?.globalValue, info?.workspaceValue, info?.workspaceFolderValue].some((v) => v);
    const value =
      picked.bundled?.id === BUNDLED_MODEL && nothingElseSet
        ? undefined
        : settingValue({ bundledId: picked.bundled?.id, manifestPath }, target, vscode.workspace.workspaceFolders?.[0]?.uri.fsPath);
    if (value === config.get<string>('model') || (value === undefined && nothingElseSet)) {
      void vscode.window.showInformationMessage(`Patch Lens: ${path.basename(path.dirname(manifestPath))} is already the model in use.`);
      return;
    }
    await config.update('model', value, cfgTarget);
    const where = target === 'global' ? 'user settings' : target === 'workspace' ? 'workspace settings' : 'folder settings';
    s.log.info(`Model set to ${value ?? '(default)'} in ${where}`);
    if (!vscode.workspace.isTrusted && vscode.workspace.workspaceFolders?.length) {
      void vscode.window.showInformationMessage(`Patch Lens: model saved in your user settings, since this workspace is in Restricted Mode.`);
    }
  });
}
