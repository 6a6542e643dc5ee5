// Codebook statistics over token grids: usage, perplexity, dead codes.

export interface CodebookStats {
  readonly codebookSize: number;
  readonly images: number;
  readonly tokens: number;
  /** Codes used at least once. */
  readonly usedCodes: number;
  readonly usageFraction: number;
  /** exp(entropy) of the token distribution, in codes. */
  readonly perplexity: number;
  readonly deadCodes: number;
  /** Mean number of distinct tokens in an image. */
  readonly meanDistinctTokensPerImage: number;
  /** The most used codes, most used first. */
  readonly topCodes: readonly { token: number; count: number }[];
}

/** Adds one image's tokens to `counts` and returns how many distinct tokens it has. */
export function accumulateUsage(tokens: ArrayLike<number>, counts: Float64Array | Uint32Array, seen?: Uint8Array): number {
  const mark = seen ?? new Uint8Array(counts.length);
  let distinct = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    counts[t]++;
    if (!mark[t]) {
      mark[t] = 1;
      distinct++;
    }
  }
  for (let i = 0; i < tokens.length; i++) mark[tokens[i]] = 0;
  return distinct;
}

export function perplexity(counts: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  if (total === 0) return 0;
  let h = 0;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] > 0) {
      const p = counts[i] / total;
      h -= p * Math.log(p);
    }
  }
  return Math.exp(h);
}

export function codebookStats(grids: Iterable<ArrayLike<number>>, codebookSize: number, top = 20): { stats: CodebookStats; counts: Uint32Array } {
  const counts = new Uint32Array(codebookSize);
  const seen = new Uint8Array(codebookSize);
  let images = 0;
  let tokens = 0;
  let distinctSum = 0;
  for (const g of grids) {
    images++;
    tokens += g.length;
    distinctSum += accumulateUsage(g, counts, seen);
  }
  let used = 0;
  for (let i = 0; i < codebookSize; i++) if (counts[i] > 0) used++;
  const order = Array.from({ length: codebookSize }, (_, i) => i)
    .filter((i) => counts[i] > 0)
    .sort((a, b) => counts[b] - counts[a] || a - b)
    .slice(0, top);
  return {
    counts,
    stats: {
      codebookSize,
      images,
      tokens,
      usedCodes: used,
      usageFraction: codebookSize ? used / codebookSize : 0,
      perplexity: perplexity(counts),
      deadCodes: codebookSize - used,
      meanDistinctTokensPerImage: images ? distinctSum / images : 0,
      topCodes: order.map((token) => ({ token, count: counts[token] })),
    },
  };
}
