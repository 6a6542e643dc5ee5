// A colour per token id, the one colour system for a token across the
// webviews: the inspector's token map, DAiD bars, usage and retrieved lists,
// and the Codebook view's rows beside each code's prototype (which shows what
// the token looks like: the mean of its patches; this colour only tells
// tokens apart). The colour itself is src/core/tokenColours.ts's, which the
// engine also paints AR-RAG code rows' token maps with.

export { tokenColour } from '../../src/core/tokenColours';

/** The tooltip of a token's colour swatch, wherever one is drawn. */
export function tokenColourTitle(token: number): string {
  return `Token ${token}'s colour in the token map (the Codebook view shows its prototype, the mean of its patches, beside it)`;
}
