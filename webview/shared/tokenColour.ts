// A colour per token id, the one colour system for a token across the
// webviews: the inspector's token map, DAiD bars, usage and retrieved lists,
// and the Codebook view's rows beside each code's prototype (which shows what
// the token looks like: the mean of its patches; this colour only tells
// tokens apart). Hues spread by the golden ratio so nearby ids differ, two
// lightness levels so that ids 1024 apart still do. Deterministic, so a token
// keeps its colour across images, views and sessions.

const GOLDEN = 0.618033988749895;

export function tokenColour(token: number): string {
  const hue = ((token * GOLDEN) % 1) * 360;
  const light = (token >> 5) % 2 === 0 ? 52 : 66;
  const sat = (token >> 6) % 2 === 0 ? 70 : 52;
  return `hsl(${hue.toFixed(1)} ${sat}% ${light}%)`;
}

/** The tooltip of a token's colour swatch, wherever one is drawn. */
export function tokenColourTitle(token: number): string {
  return `Token ${token}'s colour in the token map (the Codebook view shows its prototype, the mean of its patches, beside it)`;
}
