// Paths the inspector accepts from its webview: dataset-relative,
// '/'-separated, and inside the dataset folder once resolved. Anything else
// (absolute paths, '..' escapes, NUL bytes) is refused before it reaches the
// file system or the engine.

import * as path from 'node:path';
import { isInside } from '../../core/paths';

export { isInside };

/** A file's path relative to a dataset root, '/'-separated; undefined when it lies outside. */
export function toDatasetPath(root: string, file: string): string | undefined {
  if (!isInside(root, file)) return undefined;
  return path.relative(root, file).split(path.sep).join('/');
}

/** The absolute path of a dataset-relative path, or the reason it is refused. */
export function resolveDatasetPath(root: string, rel: string): { ok: true; file: string } | { ok: false; reason: string } {
  if (rel.length === 0) return { ok: false, reason: 'the path is empty' };
  if (rel.includes('\0')) return { ok: false, reason: 'the path contains a NUL byte' };
  if (path.isAbsolute(rel) || path.win32.isAbsolute(rel)) return { ok: false, reason: `${JSON.stringify(rel.slice(0, 200))} is absolute; dataset paths are relative` };
  const file = path.resolve(root, ...rel.split('/'));
  if (!isInside(root, file) || file === path.resolve(root)) return { ok: false, reason: `${JSON.stringify(rel.slice(0, 200))} is outside the dataset folder ${root}` };
  return { ok: true, file };
}

/** Image types a webview (Chromium) decodes itself, by extension; others (TIFF) are converted by the engine. */
const BROWSER_MIME: Record<string, 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp' | 'image/bmp' | 'image/avif'> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.bmp': 'image/bmp',
  '.avif': 'image/avif',
};

export function browserMime(file: string): (typeof BROWSER_MIME)[string] | undefined {
  return BROWSER_MIME[path.extname(file).toLowerCase()];
}

/** Image extensions the inspector opens (the explorer menu's and the custom editor's). */
export const INSPECTABLE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.bmp'] as const;

export function isInspectable(file: string): boolean {
  return (INSPECTABLE_EXTENSIONS as readonly string[]).includes(path.extname(file).toLowerCase());
}
