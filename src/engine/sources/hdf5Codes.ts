// AR-RAG's code shards (img2code_L.py): one HDF5 file per shard with
// `indices` [N, G*G] (tokens) and `vectors` [N, G*G, d] (latents before
// quantisation). No pixels: a database is built from them without the
// encoder. Read through h5wasm (libhdf5 in WebAssembly), rows in slices, so a
// shard is never read whole.

import { SourceError } from '../datasetSource';

type H5 = typeof import('h5wasm/node', { with: { 'resolution-mode': 'import' } }).default;
let lib: Promise<H5> | undefined;
function load(): Promise<H5> {
  return (lib ??= (async () => {
    const m = await import('h5wasm/node');
    const h5 = (m.default ?? m) as H5;
    await h5.ready;
    return h5;
  })());
}

export interface CodeShardInfo {
  readonly rows: number;
  /** G*G: cells of a token grid. */
  readonly cells: number;
  /** d: latent width. */
  readonly dim: number;
}

type H5File = InstanceType<H5['File']>;
type H5Dataset = InstanceType<H5['Dataset']>;

export class CodeShard {
  private constructor(
    private readonly file: H5File,
    private readonly indices: H5Dataset,
    private readonly vectors: H5Dataset,
    readonly info: CodeShardInfo,
  ) {}

  static async open(abs: string): Promise<CodeShard> {
    const h5 = await load();
    let file: H5File;
    try {
      file = new h5.File(abs, 'r');
    } catch (err) {
      throw new SourceError(`not a readable HDF5 file: ${(err as Error).message}`);
    }
    try {
      const keys = file.keys();
      const get = (name: string) => {
        const d = file.get(name);
        if (!(d instanceof h5.Dataset))
          throw new SourceError(
            `is not an AR-RAG code shard: it has no dataset ${JSON.stringify(name)} (it has ${keys.map((k) => JSON.stringify(k)).join(', ') || 'nothing'})`,
          );
        return d;
      };
      const indices = get('indices');
      const vectors = get('vectors');
      const si = indices.shape ?? [];
      const sv = vectors.shape ?? [];
      if (si.length !== 2) throw new SourceError(`has indices of shape [${si.join(', ')}], expected [N, G*G]`);
      if (sv.length !== 3 || sv[0] !== si[0] || sv[1] !== si[1])
        throw new SourceError(`has vectors of shape [${sv.join(', ')}], expected [${si[0]}, ${si[1]}, d] to match indices [${si.join(', ')}]`);
      return new CodeShard(file, indices, vectors, { rows: si[0], cells: si[1], dim: sv[2] });
    } catch (err) {
      file.close();
      throw err;
    }
  }

  /** Rows start .. start+count-1: tokens (count x cells) and latents (count x cells x d). */
  read(start: number, count: number): { tokens: Int32Array; latents: Float32Array } {
    const end = Math.min(this.info.rows, start + count);
    const t = this.indices.slice([[start, end]]) as ArrayLike<number | bigint>;
    const v = this.vectors.slice([[start, end]]) as ArrayLike<number>;
    const tokens = new Int32Array(t.length);
    for (let i = 0; i < t.length; i++) tokens[i] = Number(t[i]);
    const latents = v instanceof Float32Array ? v : Float32Array.from(v);
    return { tokens, latents };
  }

  close(): void {
    this.file.close();
  }
}
