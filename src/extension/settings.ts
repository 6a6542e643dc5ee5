// Patch Lens settings, read in one place. In an untrusted workspace the model
// manifest and the databases named by workspace settings are ignored (user
// settings or the defaults only; see databaseChoice.ts).

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseJsonc } from './jsonc';
import {
  BORDERS,
  DATABASE_BACKENDS,
  DATABASE_LOCATIONS,
  DEFAULT_K,
  DEFAULT_KEYS,
  KEY_SHAPES,
  KEY_SOURCES,
  MAX_HOPS,
  MAX_K,
  MIN_HOPS,
  type DatabaseBackend,
  type DatabaseLocation,
  type KeyParams,
  type KeySource,
} from '../core/vocabulary';
import type { HnswParams } from '../engine/patchIndex';
import { bundledModelPath } from '../engine/locations';
import { DEFAULT_MAX_MEMBER_BYTES } from '../core/datasetLayout';
import { databaseFor, mergeObjects, trustedLevels, type DatabaseResolution } from './databaseChoice';

export interface ModelChoice {
  /** Absolute manifest path. */
  readonly manifestPath: string;
  /** Where it came from, for the UI. */
  readonly origin: 'bundled' | 'user' | 'workspace';
  /** Set when a workspace setting was ignored because the workspace is untrusted. */
  readonly ignoredWorkspaceModel?: string;
}

export interface PatchLensSettings {
  readonly keys: KeyParams;
  readonly queryKeys: KeySource;
  readonly topK: number;
  readonly temperature: number;
  readonly excludeSelf: boolean;
  readonly databaseLocation: DatabaseLocation;
  /** The backend of a database built where none is yet (an s3:// URI is always Lance). */
  readonly backend: DatabaseBackend;
  readonly include: string[];
  readonly exclude: string[];
  readonly maxImagePixels: number;
  /** Largest archive member read, bytes. */
  readonly maxMemberBytes: number;
  /** Parquet image column; empty: detected from the schema. */
  readonly imageColumn: string;
  readonly hnsw: HnswParams;
  /** Encode workers; 0: the engine's choice (one per core, at most 4). */
  readonly workers: number;
  readonly autoUpdate: boolean;
}

/** Settings whose change makes existing databases stale. */
export const REBUILD_SETTINGS = [
  'patchlens.model',
  'patchlens.hops',
  'patchlens.shape',
  'patchlens.border',
  'patchlens.keySource',
  'patchlens.hnsw.m',
  'patchlens.hnsw.efConstruction',
];

function clampInt(v: unknown, min: number, max: number, dflt: number): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : dflt;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], dflt: T): T {
  return allowed.includes(v as T) ? (v as T) : dflt;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string' && s.length > 0) : [];
}

export function readSettings(scope?: vscode.Uri): PatchLensSettings {
  const c = vscode.workspace.getConfiguration('patchlens', scope);
  const t = c.get<number>('temperature');
  return {
    keys: {
      shape: oneOf(c.get('shape'), KEY_SHAPES, DEFAULT_KEYS.shape),
      hops: clampInt(c.get('hops'), MIN_HOPS, MAX_HOPS, DEFAULT_KEYS.hops),
      border: oneOf(c.get('border'), BORDERS, DEFAULT_KEYS.border),
      source: oneOf(c.get('keySource'), KEY_SOURCES, DEFAULT_KEYS.source),
    },
    queryKeys: oneOf(c.get('queryKeySource'), KEY_SOURCES, DEFAULT_KEYS.source),
    topK: clampInt(c.get('topK'), 1, MAX_K, DEFAULT_K),
    temperature: typeof t === 'number' && t > 0 && Number.isFinite(t) ? t : 1,
    excludeSelf: c.get<boolean>('excludeSelf') ?? true,
    databaseLocation: oneOf(c.get('databaseLocation'), DATABASE_LOCATIONS, DATABASE_LOCATIONS[0]),
    backend: oneOf(c.get('backend'), DATABASE_BACKENDS, DATABASE_BACKENDS[0]),
    include: strings(c.get('include')),
    exclude: strings(c.get('exclude')),
    maxImagePixels: clampInt(c.get('maxImagePixels'), 1, 2 ** 40, 100_000_000),
    maxMemberBytes: clampInt(c.get('maxMemberBytes'), 1, 2 ** 40, DEFAULT_MAX_MEMBER_BYTES),
    imageColumn: typeof c.get('imageColumn') === 'string' ? (c.get<string>('imageColumn') ?? '').trim() : '',
    hnsw: {
      m: clampInt(c.get('hnsw.m'), 2, 200, 16),
      efConstruction: clampInt(c.get('hnsw.efConstruction'), 1, 10_000, 100),
      ef: clampInt(c.get('hnsw.ef'), 1, 10_000, 64),
    },
    workers: clampInt(c.get('workers'), 0, 64, 0),
    autoUpdate: c.get<boolean>('autoUpdate') ?? true,
  };
}

/**
 * The value of a setting that the workspace's own settings files give. In an
 * untrusted workspace VS Code leaves restricted settings out of the
 * configuration API altogether, so the files are read to say what is ignored.
 */
export function workspaceFileSetting(key: string, scope?: vscode.Uri): unknown {
  const read = (file: string): Record<string, unknown> | undefined => {
    try {
      const j = parseJsonc(fs.readFileSync(file, 'utf8'));
      return j && typeof j === 'object' && !Array.isArray(j) ? (j as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  };
  const folder = scope ? vscode.workspace.getWorkspaceFolder(scope) : undefined;
  const folders = folder ? [folder] : (vscode.workspace.workspaceFolders ?? []);
  for (const f of folders) {
    if (f.uri.scheme !== 'file') continue;
    const v = read(path.join(f.uri.fsPath, '.vscode', 'settings.json'))?.[key];
    if (v !== undefined && v !== '') return v;
  }
  const ws = vscode.workspace.workspaceFile;
  if (ws?.scheme === 'file') {
    const settings = read(ws.fsPath)?.settings as Record<string, unknown> | undefined;
    const v = settings?.[key];
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}

/** What relative paths in settings are resolved against: the first workspace folder. */
function settingsBase(): string {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
}

/** The model to use, honouring workspace trust. */
export function resolveModel(scope?: vscode.Uri): ModelChoice {
  const info = vscode.workspace.getConfiguration('patchlens', scope).inspect<string>('model');
  const fromFiles = () => {
    const v = workspaceFileSetting('patchlens.model', scope);
    return typeof v === 'string' ? v : undefined;
  };
  const nonEmpty = (v?: string) => (v ? v : undefined);
  const {
    user: userValue,
    workspace,
    ignored,
  } = trustedLevels(info, vscode.workspace.isTrusted, fromFiles, (outer, inner) => nonEmpty(inner) ?? nonEmpty(outer));
  const base = settingsBase();
  const abs = (p: string) => {
    const bundled = /^bundled:([\w.-]+)$/.exec(p);
    if (bundled) return bundledModelPath(bundled[1]);
    return path.isAbsolute(p) ? p : path.resolve(base, p);
  };
  if (workspace) return { manifestPath: abs(workspace), origin: 'workspace' };
  if (ignored) {
    if (userValue) return { manifestPath: abs(userValue), origin: 'user', ignoredWorkspaceModel: ignored };
    return { manifestPath: bundledModelPath(), origin: 'bundled', ignoredWorkspaceModel: ignored };
  }
  if (userValue) return { manifestPath: abs(userValue), origin: 'user' };
  return { manifestPath: bundledModelPath(), origin: 'bundled' };
}

/** The database patchlens.databases names for a dataset folder, honouring workspace trust. */
export function resolveDatabase(root: string): DatabaseResolution {
  const scope = vscode.Uri.file(root);
  const info = vscode.workspace.getConfiguration('patchlens', scope).inspect<Record<string, unknown>>('databases');
  const fromFiles = () => mergeObjects(workspaceFileSetting('patchlens.databases', scope) as Record<string, unknown> | undefined);
  return databaseFor(root, trustedLevels(info, vscode.workspace.isTrusted, fromFiles, mergeObjects), settingsBase());
}
