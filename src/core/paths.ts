// Path containment, for dataset roots: pure, shared by the engine and the extension host.

import * as path from 'node:path';

/** Whether `child` is `parent` or lies under it (lexically; symlinks are the caller's business). */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/**
 * Why `rel` is not a dataset-relative path as the engine writes them, or
 * undefined when it is one: '/'-separated, not empty, not absolute, no
 * backslashes, drive letters or NULs, and no empty, '.' or '..' segments.
 * The one check for paths that come from a webview or any other untrusted side.
 */
export function datasetPathProblem(rel: unknown): string | undefined {
  if (typeof rel !== 'string') return 'the path is not a string';
  if (rel.length === 0) return 'the path is empty';
  if (rel.length > 4096) return 'the path is longer than 4096 characters';
  if (rel.includes('\0')) return 'the path contains a NUL byte';
  const shown = JSON.stringify(rel.slice(0, 200));
  if (rel.startsWith('/') || /^[A-Za-z]:/.test(rel) || path.win32.isAbsolute(rel)) return `${shown} is absolute; dataset paths are relative`;
  if (rel.includes('\\')) return `${shown} contains a backslash; dataset paths are '/'-separated`;
  if (!rel.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..')) return `${shown} has an empty, '.' or '..' segment`;
  return undefined;
}
