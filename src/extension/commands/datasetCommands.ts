// Commands on datasets and their images, from the Datasets view and the
// palette: Add Dataset Folder…, Refresh, Inspect Patches, Re-index, Reveal in
// Explorer, Remove, Clear Database, Open Sample Dataset.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { shownUri } from '../../core/databaseUri';
import { targetOf, type DatasetsNode } from '../sidePanel/datasetsView';
import { formatBytes, formatCount } from '../../core/format';
import type { QueryDeps } from './queryCommands';
import { openInInspector } from './inspect';
import { pickDataset } from '../buildCommands';
import { EngineError } from '../../engine/engineClient';
import { MANIFEST_FILE } from '../../core/vocabulary';
import { imageUri } from '../archiveFileSystem';

export function registerDatasetCommands(d: QueryDeps): vscode.Disposable[] {
  const { s, state } = d;
  const rootOf = (arg: unknown) => {
    const t = targetOf(arg);
    return t.root ?? (t.file ? (s.datasets.datasetFor(t.file)?.root ?? t.file) : undefined);
  };
  return [
    vscode.commands.registerCommand('patchlens.addDataset', async (arg?: unknown) => {
      let root = arg instanceof vscode.Uri ? arg.fsPath : undefined;
      if (!root) {
        const uris = await vscode.window.showOpenDialog({
          canSelectFolders: true,
          canSelectFiles: false,
          canSelectMany: false,
          openLabel: 'Add Dataset',
          title: 'Folder of images',
        });
        root = uris?.[0]?.fsPath;
      }
      if (!root) return;
      const ds = await s.datasets.add(root);
      void d.datasetsView.revealDataset(ds.root).then(undefined, () => undefined);
    }),
    vscode.commands.registerCommand('patchlens.refreshDatasets', () => state.invalidate()),
    vscode.commands.registerCommand('patchlens.sidePanel.inspect', async (arg?: unknown) => {
      const t = targetOf(arg);
      if (t.file) await openInInspector(imageUri(t.file));
    }),
    vscode.commands.registerCommand('patchlens.reindex', async (arg?: unknown) => {
      const root = rootOf(arg) ?? (await pickDataset(s, 'Re-index'));
      if (!root) return;
      const node = arg as DatasetsNode | undefined;
      if (node && typeof node === 'object' && 'kind' in node && node.kind === 'image' && node.entry.status === 'failed') {
        // The indexer retries a failed image only when the file changes.
        const c = await vscode.window.showInformationMessage(
          `Patch Lens: ${path.basename(node.entry.rel)} failed to index (${node.entry.error ?? 'unknown error'}). It is retried when the file changes; a rebuild retries every image.`,
          'Rebuild Database',
          'Update Anyway',
        );
        if (c === 'Rebuild Database') return s.builds.build(root, { rebuild: true });
        if (c !== 'Update Anyway') return;
      }
      return s.builds.build(root, {});
    }),
    vscode.commands.registerCommand('patchlens.revealInExplorer', async (arg?: unknown) => {
      const t = targetOf(arg);
      const target = t.file ?? t.root;
      if (!target) return;
      const uri = vscode.Uri.file(target);
      if (vscode.workspace.getWorkspaceFolder(uri)) await vscode.commands.executeCommand('revealInExplorer', uri);
      else if (!vscode.env.remoteName) await vscode.commands.executeCommand('revealFileInOS', uri);
      else {
        const c = await vscode.window.showInformationMessage(`Patch Lens: ${target} is not in the workspace, so the Explorer cannot show it.`, 'Copy Path');
        if (c) await vscode.env.clipboard.writeText(target);
      }
    }),
    vscode.commands.registerCommand('patchlens.removeDataset', async (arg?: unknown) => {
      const root = rootOf(arg) ?? (await pickDataset(s, 'Remove from Patch Lens', false));
      if (!root) return;
      if (s.builds.isBuilding(root)) {
        void vscode.window.showWarningMessage(`Patch Lens: ${path.basename(root)} is being indexed; cancel the build first.`);
        return;
      }
      await s.datasets.remove(root);
      const ws = (vscode.workspace.workspaceFolders ?? []).some((f) => f.uri.fsPath === root);
      void vscode.window.showInformationMessage(
        `Patch Lens: ${path.basename(root)} removed from the side panel; its images${s.datasets.hasDatabase(root) ? ' and patch database' : ''} stay ${s.datasets.databaseSetting(root).choice ? 'where they are' : 'on disk'}.${ws ? ' Add it back with Add Dataset Folder…' : ''}`,
      );
    }),
    vscode.commands.registerCommand('patchlens.clearDatabase', async (arg?: unknown) => {
      const root = rootOf(arg) ?? (await pickDataset(s, 'Clear Database', false));
      if (!root) return;
      const name = path.basename(root);
      if (s.builds.isBuilding(root)) {
        void vscode.window.showWarningMessage(`Patch Lens: ${name} is being indexed; cancel the build before clearing its database.`);
        return;
      }
      const dbDir = s.datasets.dbDirFor(root);
      const named = s.datasets.databaseSetting(root).choice;
      if (named) {
        void vscode.window.showInformationMessage(
          `Patch Lens: the database of ${name} is the one patchlens.databases names (${shownUri(named.location)}); Patch Lens does not delete it. Remove the entry to use a database of its own.`,
        );
        return;
      }
      const info = await state.info(root).catch(() => undefined);
      if (info?.summary?.backend === 'lance') {
        void vscode.window.showInformationMessage(`Patch Lens: the database of ${name} is a Lance database (${dbDir}); delete its folder to clear it.`);
        return;
      }
      if (!fs.existsSync(path.join(dbDir, MANIFEST_FILE)) && !info?.summary) {
        void vscode.window.showInformationMessage(`Patch Lens: ${name} has no patch database.`);
        return;
      }
      const size = info?.summary ? ` (${formatCount(info.summary.images)} images, ${formatBytes(info.summary.diskBytes)})` : '';
      const ok = await vscode.window.showWarningMessage(
        `Delete the patch database of ${name}${size}?`,
        { modal: true, detail: `${dbDir}\nThe images are not touched; build again to recreate it.` },
        'Delete Database',
      );
      if (ok !== 'Delete Database') return;
      try {
        // In the engine, under the database's lock: a build (the CLI's too) is never cut short.
        const bytes = await s.engine.request('clearDatabase', { dbDir });
        s.log.info(`Cleared the database ${dbDir} (${formatBytes(bytes)})`);
        void vscode.window.showInformationMessage(`Patch Lens: deleted the patch database of ${name}.`);
      } catch (e) {
        if (e instanceof EngineError && e.kind === 'DatabaseLockedError')
          void vscode.window.showWarningMessage(`Patch Lens: the database of ${name} is in use (${e.message}); try again when it finishes.`);
        else void vscode.window.showErrorMessage(`Patch Lens: could not delete ${dbDir}: ${(e as Error).message}`);
      }
      state.invalidate(root);
    }),
    vscode.commands.registerCommand('patchlens.openSampleDataset', async () => {
      const sample = vscode.Uri.joinPath(s.context.extensionUri, 'media', 'sample').fsPath;
      if (!fs.existsSync(sample)) {
        void vscode.window.showErrorMessage(`Patch Lens: this build has no sample dataset (${sample} is missing).`);
        return;
      }
      const ds = await s.datasets.add(sample);
      await vscode.commands.executeCommand('patchlens.datasets.focus');
      void d.datasetsView.revealDataset(ds.root).then(undefined, () => undefined);
      const info = await state.info(ds.root).catch(() => undefined);
      if (!info?.summary) await s.builds.build(ds.root, {});
    }),
  ];
}
