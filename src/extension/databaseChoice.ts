// Which database a dataset uses, and the workspace trust rule for restricted
// settings. patchlens.databases maps dataset folders to a database: a Lance
// database's URI (s3://, gs://, az://) or a local folder. In an untrusted
// workspace the values its own settings give a restricted setting
// (patchlens.model, patchlens.databases) are ignored, and said to be: a
// workspace must not make Patch Lens load its model or connect to its store.
// Pure: no `vscode` import.

import * as path from 'node:path';
import { isObjectStoreUri } from '../core/databaseUri';

/** A setting's values by level, as VS Code's `inspect` gives them. */
export interface SettingLevels<T> {
  readonly globalValue?: T;
  readonly workspaceValue?: T;
  readonly workspaceFolderValue?: T;
}

/** A restricted setting's values by who set them; `ignored`: the workspace's, in an untrusted workspace. */
export interface TrustedLevels<T> {
  readonly user?: T;
  readonly workspace?: T;
  readonly ignored?: T;
}

/**
 * Splits a restricted setting's levels by trust. `inFiles` reads the
 * workspace's settings files (VS Code leaves a restricted setting's workspace
 * values out of the configuration API in an untrusted workspace); `combine`
 * joins the workspace and folder values (default: the folder's wins).
 */
export function trustedLevels<T>(
  levels: SettingLevels<T> | undefined,
  trusted: boolean,
  inFiles: () => T | undefined,
  combine: (outer?: T, inner?: T) => T | undefined = (outer, inner) => inner ?? outer,
): TrustedLevels<T> {
  const user = levels?.globalValue;
  const workspace = combine(levels?.workspaceValue, levels?.workspaceFolderValue) ?? (trusted ? undefined : inFiles());
  if (workspace === undefined) return { user };
  return trusted ? { user, workspace } : { user, ignored: workspace };
}

/** Joins two levels of an object setting, the inner one's keys winning. */
export function mergeObjects(outer?: Record<string, unknown>, inner?: Record<string, unknown>): Record<string, unknown> | undefined {
  const o = isRecord(outer) ? outer : undefined;
  const i = isRecord(inner) ? inner : undefined;
  return o || i ? { ...o, ...i } : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface DatabaseChoice {
  /** An object-store URI (no trailing slash), or an absolute folder. */
  readonly location: string;
  readonly origin: 'user' | 'workspace';
}

export interface DatabaseResolution {
  /** The database the settings name for the dataset; none: the default location (patchlens.databaseLocation). */
  readonly choice?: DatabaseChoice;
  /** The workspace's entry for the dataset, ignored because the workspace is untrusted. */
  readonly ignored?: string;
}

/** A location as written in the setting: URIs as given, folders against `base`. */
export function databaseLocation(value: string, base: string): string {
  const v = value.trim();
  return isObjectStoreUri(v) ? v.replace(/\/+$/, '') : path.resolve(base, v);
}

/** The entry of a patchlens.databases map for a dataset folder (keys: folders, relative ones against `base`). */
function entryFor(map: Record<string, unknown> | undefined, root: string, base: string): string | undefined {
  if (!isRecord(map)) return undefined;
  const want = normal(path.resolve(root));
  let found: string | undefined;
  for (const [key, value] of Object.entries(map)) {
    if (typeof value !== 'string' || !value.trim() || !key.trim()) continue;
    if (normal(path.resolve(base, key.trim())) === want) found = value;
  }
  return found;
}

function normal(p: string): string {
  return p.replace(/\\/g, '/').replace(/\/+$/, '') || '/';
}

/** The database of the dataset at `root`: the workspace's entry (trusted), else the user's. */
export function databaseFor(root: string, levels: TrustedLevels<Record<string, unknown>>, base: string): DatabaseResolution {
  const workspace = entryFor(levels.workspace, root, base);
  const user = entryFor(levels.user, root, base);
  const ignoredValue = entryFor(levels.ignored, root, base);
  const ignored = ignoredValue !== undefined && ignoredValue !== user ? ignoredValue.trim() : undefined;
  const choice: DatabaseChoice | undefined =
    workspace !== undefined
      ? { location: databaseLocation(workspace, base), origin: 'workspace' }
      : user !== undefined
        ? { location: databaseLocation(user, base), origin: 'user' }
        : undefined;
  return { ...(choice ? { choice } : {}), ...(ignored ? { ignored } : {}) };
}
