// Choosing a model: the bundled models, and where and how the patchlens.model
// setting is written so that it takes effect. Pure apart from reading the
// bundled manifests; no `vscode` import.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseModelManifest } from '../../core/modelManifest';
import { isInside } from '../../core/paths';

export interface BundledModel {
  /** Folder name under media/models (what `bundled:<name>` names). */
  readonly id: string;
  readonly manifestPath: string;
  readonly name: string;
  readonly description?: string;
  readonly input?: { width: number; height: number };
}

/** The models shipped under `modelsDir` whose manifest parses. */
export function listBundledModels(modelsDir: string): BundledModel[] {
  let dirs: string[];
  try {
    dirs = fs
      .readdirSync(modelsDir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
  const out: BundledModel[] = [];
  for (const id of dirs) {
    const manifestPath = path.join(modelsDir, id, 'manifest.json');
    try {
      const m = parseModelManifest(JSON.parse(fs.readFileSync(manifestPath, 'utf8')), manifestPath, path);
      out.push({ id, manifestPath, name: m.name, description: m.description, input: { width: m.input.width, height: m.input.height } });
    } catch {
      continue;
    }
  }
  return out;
}

export type SettingTarget = 'global' | 'workspace' | 'workspaceFolder';

/**
 * Where to write the model setting so that it takes effect: never in an
 * untrusted workspace's settings (they are ignored there), else where the value
 * in effect lives now (so nothing shadows the new one), else the workspace.
 */
export function settingTarget(
  info: { globalValue?: unknown; workspaceValue?: unknown; workspaceFolderValue?: unknown } | undefined,
  trusted: boolean,
  hasWorkspace: boolean,
): SettingTarget {
  if (!hasWorkspace || !trusted) return 'global';
  if (info?.workspaceFolderValue) return 'workspaceFolder';
  if (info?.workspaceValue) return 'workspace';
  if (info?.globalValue) return 'global';
  return 'workspace';
}

/** The setting value for a manifest: `bundled:<id>`, a workspace-relative path, or an absolute one. */
export function settingValue(choice: { bundledId?: string; manifestPath?: string }, target: SettingTarget, workspaceRoot?: string): string {
  if (choice.bundledId) return `bundled:${choice.bundledId}`;
  const p = choice.manifestPath!;
  if (target !== 'global' && workspaceRoot) {
    const rel = path.relative(workspaceRoot, p);
    if (rel && isInside(workspaceRoot, p)) return rel.split(path.sep).join('/');
  }
  return p;
}
