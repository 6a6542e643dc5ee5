// Vector quantisation: nearest codebook row by squared L2, as LlamaGen does
// (after L2-normalising latents and codebook when the model says so).

/** L2-normalises each `dim`-row of `data` in place (eps as torch's F.normalize). */
export function l2NormalizeRows(data: Float32Array, dim: number): Float32Array {
  for (let o = 0; o < data.length; o += dim) {
    let s = 0;
    for (let k = 0; k < dim; k++) s += data[o + k] * data[o + k];
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let k = 0; k < dim; k++) data[o + k] *= inv;
  }
  return data;
}

/** Squared norms of the codebook rows, computed once per model. */
export function rowSquaredNorms(codebook: Readonly<Float32Array>, dim: number): Float64Array {
  const k = codebook.length / dim;
  const out = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += codebook[c * dim + j] * codebook[c * dim + j];
    out[c] = s;
  }
  return out;
}

/**
 * For each `dim`-vector of `latents`, the index of the nearest codebook row and
 * its squared L2 distance. ||z - c||^2 = ||z||^2 + ||c||^2 - 2 z.c, minimised over c.
 */
export function nearestCodes(
  latents: Readonly<Float32Array>,
  codebook: Readonly<Float32Array>,
  codeNorms: Readonly<Float64Array>,
  dim: number,
  outTokens: Int32Array,
  outDistances: Float32Array,
): void {
  const n = latents.length / dim;
  const k = codeNorms.length;
  if (dim === 8) return nearestCodes8(latents, codebook, codeNorms, n, k, outTokens, outDistances);
  const z = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    let zz = 0;
    for (let j = 0; j < dim; j++) {
      z[j] = latents[i * dim + j];
      zz += z[j] * z[j];
    }
    let best = 0;
    let bestScore = Infinity;
    for (let c = 0, o = 0; c < k; c++, o += dim) {
      let dot = 0;
      for (let j = 0; j < dim; j++) dot += z[j] * codebook[o + j];
      const score = codeNorms[c] - 2 * dot;
      if (score < bestScore) {
        bestScore = score;
        best = c;
      }
    }
    outTokens[i] = best;
    outDistances[i] = Math.max(0, zz + bestScore);
  }
}

/**
 * d = 8 (LlamaGen, Janus-Pro, the bundled model), unrolled: the latent lives in
 * locals and the inner loop has no bounds of its own. Same sums in the same
 * order as the general loop, so the same tokens. Quantisation is about a third
 * of the encoder's CPU time at K = 4096 without it.
 */
function nearestCodes8(
  latents: Readonly<Float32Array>,
  cb: Readonly<Float32Array>,
  norms: Readonly<Float64Array>,
  n: number,
  k: number,
  outTokens: Int32Array,
  outDistances: Float32Array,
): void {
  for (let i = 0; i < n; i++) {
    const b = i * 8;
    const z0 = latents[b],
      z1 = latents[b + 1],
      z2 = latents[b + 2],
      z3 = latents[b + 3];
    const z4 = latents[b + 4],
      z5 = latents[b + 5],
      z6 = latents[b + 6],
      z7 = latents[b + 7];
    const zz = z0 * z0 + z1 * z1 + z2 * z2 + z3 * z3 + z4 * z4 + z5 * z5 + z6 * z6 + z7 * z7;
    let best = 0;
    let bestScore = Infinity;
    for (let c = 0, o = 0; c < k; c++, o += 8) {
      const dot = z0 * cb[o] + z1 * cb[o + 1] + z2 * cb[o + 2] + z3 * cb[o + 3] + z4 * cb[o + 4] + z5 * cb[o + 5] + z6 * cb[o + 6] + z7 * cb[o + 7];
      const score = norms[c] - 2 * dot;
      if (score < bestScore) {
        bestScore = score;
        best = c;
      }
    }
    outTokens[i] = best;
    outDistances[i] = Math.max(0, zz + bestScore);
  }
}

/** Squared L2 distance between two vectors. */
export function squaredL2(a: ArrayLike<number>, aOff: number, b: ArrayLike<number>, bOff: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) {
    const d = a[aOff + j] - b[bOff + j];
    s += d * d;
  }
  return s;
}
