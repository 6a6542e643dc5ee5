// Validation of the messages the Codebook webview sends: anything that is not
// exactly one of the CodebookToHost shapes is dropped. Pure: no `vscode` import.

import type { CodebookToHost } from '../../protocol';

const MAX_PATH = 4096;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

function isText(v: unknown, max = MAX_PATH): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= max && !v.includes('\0');
}

/**
 * A dataset-relative image path as the engine writes them: '/'-separated, no
 * empty, '.' or '..' segments, not absolute, no backslashes or drive letters.
 */
export function isSafeRelativePath(p: unknown): p is string {
  if (!isText(p)) return false;
  if (p.startsWith('/') || p.includes('\\') || /^[A-Za-z]:/.test(p)) return false;
  return p.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

/** The message if it is a well-formed CodebookToHost, else undefined. */
export function parseCodebookMessage(raw: unknown): CodebookToHost | undefined {
  if (!isObject(raw) || typeof raw.type !== 'string') return undefined;
  switch (raw.type) {
    case 'codebook/ready':
      if (raw.root !== undefined && !isText(raw.root)) return undefined;
      return { type: raw.type, root: raw.root as string | undefined };
    case 'codebook/selectDataset':
    case 'codebook/build':
      return isText(raw.root) ? { type: raw.type, root: raw.root } : undefined;
    case 'codebook/refresh':
      return { type: raw.type };
    case 'codebook/tokenUses':
      if (!isInt(raw.messageId, 0, Number.MAX_SAFE_INTEGER) || !isText(raw.root) || !isInt(raw.token, 0, 2 ** 31 - 1)) return undefined;
      return { type: raw.type, messageId: raw.messageId, root: raw.root, token: raw.token };
    case 'codebook/openPatch':
      if (!isText(raw.root) || !isSafeRelativePath(raw.image) || !isInt(raw.row, 0, 65535) || !isInt(raw.col, 0, 65535)) return undefined;
      return { type: raw.type, root: raw.root, image: raw.image, row: raw.row, col: raw.col };
    default:
      return undefined;
  }
}
