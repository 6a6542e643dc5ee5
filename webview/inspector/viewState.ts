// What the inspector keeps across hiding and reloading (VS Code's
// getState/setState, not retainContextWhenHidden): zoom and pan, the selected
// and queried patches, the modes. Restored state is checked like a message:
// an older or damaged state falls back to the defaults field by field.

import { int, num, passes, str, v } from '../../src/messageSchema';
import { INSPECTOR_OVERLAYS, MAX_GRID_SIDE } from '../../src/protocol';
import { KEY_SHAPES, MAX_HOPS, MIN_HOPS } from '../../src/core/vocabulary';

export interface Cell {
  readonly row: number;
  readonly col: number;
}

const cell = v.strictObject({ row: int(0, MAX_GRID_SIDE - 1), col: int(0, MAX_GRID_SIDE - 1) });

/** Each field's schema; null is valid where the default is null. */
const FIELDS = {
  /** Path of the image this state belongs to (a state for another image is dropped). */
  image: str(4096),
  /** Zoom factor (image pixels to CSS pixels); null: fit to the view. */
  zoom: v.nullable(num(1e-4, 1e4)),
  /** Image point at the centre of the view. */
  centerX: num(-1e7, 1e7),
  centerY: num(-1e7, 1e7),
  selection: v.nullable(cell),
  /** The patch whose retrieved list is shown. */
  queried: v.nullable(cell),
  showGrid: v.boolean(),
  /** 'tokens': each cell coloured by its token id. */
  overlay: v.picklist(INSPECTOR_OVERLAYS),
  reconstruction: v.boolean(),
  /** Neighbourhood drawn around the selection; null: the database's. */
  hops: v.nullable(int(MIN_HOPS, MAX_HOPS)),
  shape: v.nullable(v.picklist(KEY_SHAPES)),
  /** null: the patchlens.excludeSelf setting. */
  excludeSelf: v.nullable(v.boolean()),
  /** Cells with this token are outlined. */
  highlightToken: v.nullable(int(0, 1 << 24)),
};

export type ViewState = Readonly<v.InferOutput<v.ObjectSchema<typeof FIELDS, undefined>>>;

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

/** The saved state with every invalid field replaced by its default. */
export function restoreViewState(saved: unknown): ViewState {
  if (saved === null || typeof saved !== 'object' || Array.isArray(saved)) return DEFAULT_VIEW_STATE;
  const out: Record<string, unknown> = { ...DEFAULT_VIEW_STATE };
  for (const key of Object.keys(FIELDS) as (keyof ViewState)[]) {
    const value = (saved as Record<string, unknown>)[key];
    if (value !== undefined && passes(FIELDS[key], value)) out[key] = value;
  }
  return out as ViewState;
}
