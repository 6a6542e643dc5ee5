// Codebook prototypes: the mean pixels of the patches assigned to each code,
// accumulated while indexing from each cell pooled to patch x patch.

/** Pools each grid cell of an RGB image to p x p (block means), row-major cells. */
export function cellPools(rgb: Readonly<Uint8Array>, width: number, height: number, rows: number, cols: number, p: number): Uint8Array {
  const out = new Uint8Array(rows * cols * p * p * 3);
  const cw = width / cols;
  const ch = height / rows;
  let o = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      for (let py = 0; py < p; py++) {
        const y0 = Math.floor(r * ch + (py * ch) / p);
        const y1 = Math.max(y0 + 1, Math.floor(r * ch + ((py + 1) * ch) / p));
        for (let px = 0; px < p; px++) {
          const x0 = Math.floor(c * cw + (px * cw) / p);
          const x1 = Math.max(x0 + 1, Math.floor(c * cw + ((px + 1) * cw) / p));
          let s0 = 0,
            s1 = 0,
            s2 = 0;
          for (let y = y0; y < y1; y++) {
            for (let x = x0; x < x1; x++) {
              const i = (y * width + x) * 3;
              s0 += rgb[i];
              s1 += rgb[i + 1];
              s2 += rgb[i + 2];
            }
          }
          const n = (y1 - y0) * (x1 - x0);
          out[o++] = Math.round(s0 / n);
          out[o++] = Math.round(s1 / n);
          out[o++] = Math.round(s2 / n);
        }
      }
    }
  }
  return out;
}

/** Adds an image's pooled cells to the sums of their tokens. */
export function accumulatePrototypes(tokens: ArrayLike<number>, pools: Readonly<Uint8Array>, p: number, sums: Float32Array, counts: Uint32Array): void {
  const n = p * p * 3;
  for (let cell = 0; cell < tokens.length; cell++) {
    const t = tokens[cell];
    const so = t * n;
    const po = cell * n;
    for (let k = 0; k < n; k++) sums[so + k] += pools[po + k];
    counts[t]++;
  }
}

/** The mean patch of a code as 8-bit RGB (p x p), or undefined for a code never seen. */
export function prototypeOf(token: number, p: number, sums: Readonly<Float32Array>, counts: Readonly<Uint32Array>): Uint8Array | undefined {
  const c = counts[token];
  if (!c) return undefined;
  const n = p * p * 3;
  const out = new Uint8Array(n);
  for (let k = 0; k < n; k++) out[k] = Math.round(sums[token * n + k] / c);
  return out;
}

/** Side of the prototype patches for a model: at most 8, at most the cell size. */
export function prototypePatch(inputWidth: number, cols: number): number {
  return Math.max(1, Math.min(8, Math.floor(inputWidth / cols)));
}
