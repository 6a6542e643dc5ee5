// What the inspector keeps across hiding and reloading (VS Code's
// getState/setState, not retainContextWhenHidden): zoom and pan, the selected
// and queried patches, the modes. Restored state is checked like a message:
// an older or damaged state falls back to the defaults field by field.

import { checkObject, f, type FieldSpec } from '../../src/messageSchema';
import { MAX_GRID_SIDE } from '../../src/protocol';
import { KEY_SHAPES, MAX_HOPS, MIN_HOPS, type NeighbourhoodShape } from '../../src/core/vocabulary';

export interface Cell {
  readonly row: number;
  readonly col: number;
}

export interface ViewState {
  /** Path of the image this state belongs to (a state for another image is dropped). */
  readonly image: string;
  /** Zoom factor (image pixels to CSS pixels); null: fit to the view. */
  readonly zoom: number | null;
  /** Image point at the centre of the view. */
  readonly centerX: number;
  readonly centerY: number;
  readonly selection: Cell | null;
  /** The patch whose retrieved list is shown. */
  readonly queried: Cell | null;
  readonly showGrid: boolean;
  /** 'tokens': each cell coloured by its token id. */
  readonly overlay: 'image' | 'tokens';
  readonly reconstruction: boolean;
  /** Neighbourhood drawn around the selection; null: the database's. */
  readonly hops: number | null;
  readonly shape: NeighbourhoodShape | null;
  /** null: the patchlens.excludeSelf setting. */
  readonly excludeSelf: boolean | null;
  /** Cells with this token are outlined. */
  readonly highlightToken: number | null;
}

export const DEFAULT_VIEW_STATE: ViewState = {
  image: '',
  zoom: null,
  centerX: 0,
  centerY: 0,
  selection: null,
  queried: null,
  showGrid: true,
  overlay: 'image',
  reconstruction: false,
  hops: null,
  shape: null,
  excludeSelf: null,
  highlightToken: null,
};

const cell = f.object({ row: f.int(0, MAX_GRID_SIDE - 1), col: f.int(0, MAX_GRID_SIDE - 1) });
const FIELDS: Record<keyof ViewState, FieldSpec> = {
  image: f.string(4096),
  zoom: f.number(1e-4, 1e4),
  centerX: f.number(-1e7, 1e7),
  centerY: f.number(-1e7, 1e7),
  selection: cell,
  queried: cell,
  showGrid: f.boolean(),
  overlay: f.enum('image', 'tokens'),
  reconstruction: f.boolean(),
  hops: f.int(MIN_HOPS, MAX_HOPS),
  shape: f.enum(...KEY_SHAPES),
  excludeSelf: f.boolean(),
  highlightToken: f.int(0, 1 << 24),
};

/** The saved state with every invalid field replaced by its default (null is valid where the default is null). */
export function restoreViewState(saved: unknown): ViewState {
  if (saved === null || typeof saved !== 'object' || Array.isArray(saved)) return DEFAULT_VIEW_STATE;
  const out: Record<string, unknown> = { ...DEFAULT_VIEW_STATE };
  for (const key of Object.keys(FIELDS) as (keyof ViewState)[]) {
    const v = (saved as Record<string, unknown>)[key];
    if (v === undefined) continue;
    if (v === null && DEFAULT_VIEW_STATE[key] === null) {
      out[key] = null;
      continue;
    }
    if (checkObject({ [key]: FIELDS[key] }, { [key]: v }) === undefined) out[key] = v;
  }
  return out as unknown as ViewState;
}
