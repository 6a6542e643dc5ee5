// Where a cell of the inspector's patch grid is on the page, for tests that
// click or hover it: from the grid's data attributes (image size, view box,
// rows, cols) and its box. One copy for the webview harness (the inspector is
// the page) and the code-server tests (the inspector is in a frame).

import type { FrameLocator, Page } from 'playwright-core';

/** Page coordinates of the centre of cell (row, col) of the patch grid in `doc` once the grid is drawn. */
export async function cellPoint(doc: Page | FrameLocator, row: number, col: number): Promise<{ x: number; y: number }> {
  const grid = doc.locator('[data-testid="patch-grid"][data-rows]');
  await grid.waitFor();
  const box = (await grid.boundingBox())!;
  const d = await grid.evaluate((e) => ({ ...(e as SVGElement).dataset }));
  const s = box.width / Number(d.imageWidth);
  return {
    x: box.x + (Number(d.viewX) + ((col + 0.5) * Number(d.viewWidth)) / Number(d.cols)) * s,
    y: box.y + (Number(d.viewY) + ((row + 0.5) * Number(d.viewHeight)) / Number(d.rows)) * s,
  };
}

/** Clicks the centre of cell (row, col) of the patch grid in `doc` (the page itself or an inspector's frame). */
export async function clickCell(page: Page, doc: Page | FrameLocator, row: number, col: number): Promise<void> {
  const p = await cellPoint(doc, row, col);
  await page.mouse.click(p.x, p.y);
}
