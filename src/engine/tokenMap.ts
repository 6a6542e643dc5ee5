// The picture of an AR-RAG code row (tokens without pixels): its token map, a
// grid with each cell painted in its token's colour (the colour the inspector
// uses for tokens everywhere), as a PNG the inspector, the crops of retrieved
// patches and VS Code's own preview can show.

import sharp from 'sharp';
import { tokenRgb } from '../core/tokenColours';

/** Pixels per cell when nothing says what size the map is drawn at (VQ-16: 24 cells, 384 px). */
export const TOKEN_MAP_CELL_PX = 16;

/** The token grid's rows and columns for a row of `cells` tokens (AR-RAG's grids are square). */
export function tokenGridShape(cells: number): { rows: number; cols: number } {
  const g = Math.round(Math.sqrt(cells));
  return g * g === cells ? { rows: g, cols: g } : { rows: 1, cols: cells };
}

/** A PNG of `width` x `height` pixels (default TOKEN_MAP_CELL_PX a cell), cell (r, c) painted with the colour of tokens[r * cols + c]. */
export async function tokenMapPng(tokens: ArrayLike<number>, size?: { width: number; height: number }): Promise<Buffer> {
  const { rows, cols } = tokenGridShape(tokens.length);
  const width = Math.max(1, Math.round(size?.width ?? cols * TOKEN_MAP_CELL_PX));
  const height = Math.max(1, Math.round(size?.height ?? rows * TOKEN_MAP_CELL_PX));
  const rgb = new Uint8Array(width * height * 3);
  const colours = new Map<number, [number, number, number]>();
  for (let y = 0; y < height; y++) {
    const r = Math.min(rows - 1, Math.floor((y * rows) / height));
    for (let x = 0; x < width; x++) {
      const t = tokens[r * cols + Math.min(cols - 1, Math.floor((x * cols) / width))];
      let c = colours.get(t);
      if (!c) colours.set(t, (c = tokenRgb(t)));
      rgb.set(c, (y * width + x) * 3);
    }
  }
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}
