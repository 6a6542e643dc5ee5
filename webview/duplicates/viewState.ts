// What the Duplicates view keeps across hiding and reloading (getState/
// setState): the dataset chosen and the search options. Restored state is
// checked field by field; anything odd falls back to the default.

import { DEFAULT_WINDOW } from '../../src/core/duplicates';
import { MAX_DUPLICATE_WINDOW } from '../../src/protocol';

export interface DuplicatesState {
  readonly root?: string;
  /** Window side w. */
  readonly window: number;
  /** Near distance, or -1 for exact windows only. */
  readonly near: number;
}

export function restoreDuplicatesState(raw: unknown): DuplicatesState {
  const o = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const w = o.window;
  const near = o.near;
  return {
    root: typeof o.root === 'string' && o.root.length < 4096 ? o.root : undefined,
    window: Number.isInteger(w) && (w as number) >= 1 && (w as number) <= MAX_DUPLICATE_WINDOW ? (w as number) : DEFAULT_WINDOW,
    near: typeof near === 'number' && Number.isFinite(near) && near >= -1 && near <= 1e6 ? near : -1,
  };
}
