// A colour per token id for the token map, the DAiD bars and the usage list:
// hues spread by the golden ratio so nearby ids differ, two lightness levels
// so that ids 1024 apart still do. Deterministic, so a token keeps its colour
// across images and sessions, in the webviews (CSS) and in the token maps the
// engine paints for AR-RAG code rows (RGB).

const GOLDEN = 0.618033988749895;

/** Hue (degrees), saturation and lightness (percent) of a token's colour. */
function tokenHsl(token: number): [number, number, number] {
  const hue = Number((((token * GOLDEN) % 1) * 360).toFixed(1));
  const light = (token >> 5) % 2 === 0 ? 52 : 66;
  const sat = (token >> 6) % 2 === 0 ? 70 : 52;
  return [hue, sat, light];
}

export function tokenColour(token: number): string {
  const [h, s, l] = tokenHsl(token);
  return `hsl(${h.toFixed(1)} ${s}% ${l}%)`;
}

/** The same colour as 8-bit sRGB (CSS Color 4's hsl-to-rgb). */
export function tokenRgb(token: number): [number, number, number] {
  const [h, s, l] = tokenHsl(token);
  const sat = s / 100;
  const light = l / 100;
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    const a = sat * Math.min(light, 1 - light);
    return Math.round(255 * (light - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}
