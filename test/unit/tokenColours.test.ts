import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { tokenColour, tokenRgb } from '../../src/core/tokenColours';

/** The textbook HSL to RGB conversion (chroma and the hue sector), to check the one the token maps use. */
function hslToRgb(h: number, s: number, l: number): number[] {
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const x = c * (1 - Math.abs(((h / 60) % 2) - 1));
  const m = l - c / 2;
  const sector = Math.floor(h / 60) % 6;
  const [r, g, b] = [
    [c, x, 0],
    [x, c, 0],
    [0, c, x],
    [0, x, c],
    [x, 0, c],
    [c, 0, x],
  ][sector];
  return [r, g, b].map((v) => Math.round((v + m) * 255));
}

test('the token maps the engine paints use the colour the webviews draw each token in', () => {
  assert.deepEqual(tokenRgb(0), [218, 47, 47]); // hsl(0 70% 52%)
  for (let t = 0; t < 16384; t += 37) {
    const [, h, s, l] = /^hsl\(([\d.]+) (\d+)% (\d+)%\)$/.exec(tokenColour(t))!.map(Number);
    const want = hslToRgb(h, s / 100, l / 100);
    const got = tokenRgb(t);
    assert.ok(
      got.every((v, i) => Math.abs(v - want[i]) <= 1),
      `token ${t}: ${tokenColour(t)} -> ${got} vs ${want}`,
    );
  }
});
