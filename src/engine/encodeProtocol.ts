// Messages between the indexing pipeline and its encode workers.

export interface EncodeWorkerData {
  readonly manifestPath: string;
  /** onnxruntime intra-op threads of this worker. */
  readonly threads: number;
  readonly maxPixels: number;
  /** Side of the per-cell pooled pixels returned for codebook prototypes. */
  readonly protoPatch: number;
}

export interface EncodeFile {
  readonly abs: string;
  readonly rel: string;
  /** The image's bytes, read by the pipeline (archive members); the worker reads `abs` otherwise. */
  readonly bytes?: Uint8Array;
  /** Why the bytes could not be read (reported as the image's failure). */
  readonly error?: string;
}

export type WorkerRequest = { type: 'encode'; id: number; files: EncodeFile[] };

export type WorkerImage =
  | {
      rel: string;
      ok: true;
      sha256: string;
      width: number;
      height: number;
      format: string;
      tokens: Int32Array;
      distances: Float32Array;
      latents: Float32Array;
      /** rows * cols cells of protoPatch x protoPatch RGB, 8-bit. */
      pools: Uint8Array;
    }
  | { rel: string; ok: false; error: string };

export type WorkerResponse =
  /** The model loaded and validated. */
  | { type: 'ready'; fingerprint: string; rows: number; cols: number }
  /** The model failed to load. */
  | { type: 'failed'; message: string }
  /** One batch done, in request order within the batch. */
  | { type: 'result'; id: number; images: WorkerImage[]; decodeMs: number; encodeMs: number };
