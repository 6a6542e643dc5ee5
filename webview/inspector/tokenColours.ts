// A colour per token id for the token map, the DAiD bars and the usage list:
// hues spread by the golden ratio so nearby ids differ, two lightness levels
// so that ids 1024 apart still do. Deterministic, so a token keeps its colour
// across images and sessions.

const GOLDEN = 0.618033988749895;

export function tokenColour(token: number): string {
  const hue = ((token * GOLDEN) % 1) * 360;
  const light = (token >> 5) % 2 === 0 ? 52 : 66;
  const sat = (token >> 6) % 2 === 0 ? 70 : 52;
  return `hsl(${hue.toFixed(1)} ${sat}% ${light}%)`;
}
