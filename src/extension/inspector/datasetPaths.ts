// Paths the inspector accepts from its webview: dataset-relative,
// '/'-separated, and inside the dataset folder once resolved. Anything else
// (absolute paths, '..' escapes, NUL bytes) is refused before it reaches the
// file system or the engine.

import * as path from 'node:path';
import { datasetPathProblem, isInside } from '../../core/paths';
import { SUPPORTED_EXTENSIONS, browserMime } from '../../core/imageTypes';
import { CODE_KINDS, archiveKind } from '../../core/datasetLayout';

export { browserMime, isInside };

/** A file's path relative to a dataset root, '/'-separated; undefined when it lies outside. */
export function toDatasetPath(root: string, file: string): string | undefined {
  if (!isInside(root, file)) return undefined;
  return path.relative(root, file).split(path.sep).join('/');
}

/** The absolute path of a dataset-relative path, or the reason it is refused. */
export function resolveDatasetPath(root: string, rel: string): { ok: true; file: string } | { ok: false; reason: string } {
  const problem = datasetPathProblem(rel);
  if (problem) return { ok: false, reason: problem };
  const file = path.resolve(root, ...rel.split('/'));
  if (!isInside(root, file) || file === path.resolve(root))
    return { ok: false, reason: `${JSON.stringify(rel.slice(0, 200))} is outside the dataset folder ${root}` };
  return { ok: true, file };
}

/** Image extensions the inspector opens: every type the engine reads (the explorer menu's and the custom editor's, see package.json). */
export const INSPECTABLE_EXTENSIONS = SUPPORTED_EXTENSIONS;

/** An image file or member by its extension, or a row of an AR-RAG code shard (…/0.h5/12: shown as its token map). */
export function isInspectable(file: string): boolean {
  if ((INSPECTABLE_EXTENSIONS as readonly string[]).includes(path.extname(file).toLowerCase())) return true;
  const shard = archiveKind(path.basename(path.dirname(file)));
  return shard !== undefined && CODE_KINDS.includes(shard) && /^\d+$/.test(path.basename(file));
}
