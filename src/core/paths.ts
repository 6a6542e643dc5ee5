// Path containment, for dataset roots: pure, shared by the engine and the extension host.

import * as path from 'node:path';

/** Whether `child` is `parent` or lies under it (lexically; symlinks are the caller's business). */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
