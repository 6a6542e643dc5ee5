// DAiD (Distribution-Augmentation in Decoding, AR-RAG): turn retrieved
// neighbours into a distribution over token ids and merge it with a model's.

export interface RetrievedToken {
  readonly token: number;
  /** Squared L2 distance of the nearest hit with this token. */
  readonly distance: number;
}

export interface TokenProbability {
  readonly token: number;
  readonly p: number;
  readonly distance: number;
}

/**
 * Keeps each token's nearest hit and returns p_ret(v) = softmax(-d_v / T) over
 * those tokens, sorted by probability (ties: nearer, then lower id).
 */
export function retrievalDistribution(hits: readonly RetrievedToken[], temperature = 1): TokenProbability[] {
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw new RangeError(`temperature must be a positive number, got ${temperature}`);
  const nearest = new Map<number, number>();
  for (const h of hits) {
    const d = nearest.get(h.token);
    if (d === undefined || h.distance < d) nearest.set(h.token, h.distance);
  }
  if (nearest.size === 0) return [];
  let dMin = Infinity;
  for (const d of nearest.values()) dMin = Math.min(dMin, d);
  // shift by the smallest distance for numerical stability
  let z = 0;
  const out: { token: number; p: number; distance: number }[] = [];
  for (const [token, distance] of nearest) {
    const w = Math.exp(-(distance - dMin) / temperature);
    z += w;
    out.push({ token, p: w, distance });
  }
  for (const o of out) o.p /= z;
  out.sort((a, b) => b.p - a.p || a.distance - b.distance || a.token - b.token);
  return out;
}

/** Softmax of logits into probabilities (float64 accumulation). */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const out = new Float64Array(logits.length);
  let z = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp(logits[i] - max);
    z += out[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= z;
  return out;
}

/** Checks that `p` is a probability vector (non-negative, sums to 1 within tolerance). */
export function isProbabilityVector(p: ArrayLike<number>, tolerance = 1e-3): boolean {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    if (!(p[i] >= 0) || !Number.isFinite(p[i])) return false;
    s += p[i];
  }
  return Math.abs(s - 1) <= tolerance;
}

/** p = (1 - lambda) p_model + lambda p_ret, over the model's vocabulary. */
export function mergeDistributions(pModel: ArrayLike<number>, pRet: readonly TokenProbability[], lambda: number): Float64Array {
  if (!(lambda >= 0 && lambda <= 1)) throw new RangeError(`lambda must be in [0, 1], got ${lambda}`);
  const out = new Float64Array(pModel.length);
  for (let i = 0; i < pModel.length; i++) out[i] = (1 - lambda) * pModel[i];
  for (const t of pRet) {
    if (t.token < 0 || t.token >= out.length) throw new RangeError(`retrieved token ${t.token} is outside the model distribution (size ${out.length})`);
    out[t.token] += lambda * t.p;
  }
  return out;
}

/** Indices of the n largest values, largest first. */
export function topK(p: ArrayLike<number>, n: number): number[] {
  const idx = Array.from({ length: p.length }, (_, i) => i);
  idx.sort((a, b) => p[b] - p[a] || a - b);
  return idx.slice(0, n);
}
