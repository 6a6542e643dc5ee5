// Clicking a cell of the inspector's patch grid from a test: page coordinates
// from the grid's data attributes (image size, view box, rows, cols) and box.

import type { FrameLocator, Page } from 'playwright-core';

/** Clicks the centre of cell (row, col) of the patch grid in an inspector's document. */
export async function clickCell(page: Page, frame: FrameLocator, row: number, col: number): Promise<void> {
  const grid = frame.locator('[data-testid="patch-grid"]');
  const box = (await grid.boundingBox())!;
  const d = await grid.evaluate((e) => ({ ...(e as SVGElement).dataset }));
  const s = box.width / Number(d.imageWidth);
  const x = box.x + (Number(d.viewX) + ((col + 0.5) * Number(d.viewWidth)) / Number(d.cols)) * s;
  const y = box.y + (Number(d.viewY) + ((row + 0.5) * Number(d.viewHeight)) / Number(d.rows)) * s;
  await page.mouse.click(x, y);
}
