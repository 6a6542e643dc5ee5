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

/** Squared L2 distance between two vectors. */
export function squaredL2(a: ArrayLike<number>, aOff: number, b: ArrayLike<number>, bOff: number, dim: number): number {
  let s = 0;
  for (let j = 0; j < dim; j++) {
    const d = a[aOff + j] - b[bOff + j];
    s += d * d;
  }
  return s;
}
