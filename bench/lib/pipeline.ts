// End-to-end indexing (buildDatabase, what `patchlens index` runs) on a folder
// of images against the encoder alone on the same images, decoded beforehand:
// the pipeline's share of the encoder bound, where its time goes (decode,
// encode, keys, insert, write), and the CPU time each spends per image.
//
// The machine is shared, so everything is measured side by side in one
// process, in interleaved rounds, and reported as medians and ratios. CPU time
// (all threads of this process) is reported too: it is much less sensitive to
// other load than wall time, and (encoder CPU / pipeline CPU) bounds the ratio
// a CPU-saturated machine can reach.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { scanDataset, type DatasetFile } from '../../src/engine/datasetScanner';
import { decodeForModel } from '../../src/engine/imageDecoder';
import { cpuCount, encoderLayout } from '../../src/engine/encoderPool';
import { buildDatabase } from '../../src/engine/indexer';
import { PatchDatabase } from '../../src/engine/database';
import { HnswPatchIndex } from '../../src/engine/patchIndex';
import { imageKeys } from '../../src/core/neighbourhood';
import { ROOT, cpuMs, mkCache, median, now, settle, sig, startBenchWorker, table } from './common';
import { loadModelInfo } from './realKeys';
import type { EncodeOnlyRequest, EncodeOnlyResponse, EncodeOnlyWorkerData } from './encodeOnlyWorker';

export interface PipelineConfig {
  /** Encode workers (EncoderPool). */
  readonly workers: number;
  /** onnxruntime threads per worker; undefined: the pool's default (encoderLayout). */
  readonly threads?: number;
  readonly batch: number;
}

export interface PipelineBenchOptions {
  readonly model: string;
  readonly images: string;
  /** Interleaved rounds of (encoder only, index) per configuration; medians are reported. */
  readonly rounds: number;
  /** The dataset listed this many times (hard links under .cache), for longer runs on a small folder. */
  readonly repeat: number;
  /** Configurations to measure; the first is the engine's default. */
  readonly configs: readonly PipelineConfig[];
  readonly log?: (line: string) => void;
}

export interface PipelineSplit {
  /** Per image, summed over workers (decode runs concurrently with encode). */
  decodeMs: number;
  encodeMs: number;
  /** Main thread, per image. */
  keysMs: number;
  insertMs: number;
  /** Records, prototypes, and the final index/manifest write, per image. */
  writeMs: number;
}

export interface PipelineConfigResult {
  config: { workers: number; threadsPerWorker: number; batch: number; label: string };
  /** Tokenizer.encode on pre-decoded pixels, same workers/threads/batch, images/s per round. */
  encoderOnlyImagesPerSec: number[];
  /** buildDatabase from first image sent to last image indexed, images/s per round. */
  pipelineImagesPerSec: number[];
  /** buildDatabase as a whole (model load, scan, final write included), images/s per round. */
  commandImagesPerSec: number[];
  /** CPU time of all threads per image, ms (median of rounds). */
  encoderOnlyCpuMsPerImage: number;
  pipelineCpuMsPerImage: number;
  median: { encoderOnly: number; pipeline: number; command: number; ratio: number; commandRatio: number; cpuRatio: number };
  /** Wall ms per image by stage (median of rounds). */
  split: PipelineSplit;
}

export interface PipelineBenchResult {
  images: number;
  entries: number;
  model: string;
  modelName: string;
  grid: string;
  cores: number;
  rounds: number;
  /** Decoding alone (sharp, batch-concurrent as in a worker), images/s and CPU ms per image. */
  decodeOnlyImagesPerSec: number;
  decodeOnlyCpuMsPerImage: number;
  configs: PipelineConfigResult[];
  /** The HNSW inserts alone (the built database's keys into a new index, its parameters, main thread), CPU ms per image, median of rounds. */
  insertOnlyCpuMsPerImage: number;
  /**
   * The CPU budget of the default configuration: a CPU-saturated machine indexes at most
   * encoder CPU / (encoder CPU + decode CPU + insert CPU) of the encoder alone's rate (keys,
   * records, messages and the final write not even counted).
   */
  cpuBound: { encoderCpuMsPerImage: number; decodeCpuMsPerImage: number; insertCpuMsPerImage: number; ratio: number };
  /** The best encoder-only rate over all configurations: the encoder bound of this machine. */
  bestEncoderOnly: { imagesPerSec: number; config: string };
  /** The best pipeline rate over all configurations, and its ratio to the encoder bound. */
  bestPipeline: { imagesPerSec: number; config: string; ratioToBestEncoderOnly: number };
}

function hardLinkCopies(files: readonly DatasetFile[], root: string, repeat: number): string {
  const dir = mkCache('pipeline-data', `${path.basename(root)}-x${repeat}`);
  for (let r = 0; r < repeat; r++) {
    for (const f of files) {
      const dst = path.join(dir, `r${r}`, f.rel);
      if (fs.existsSync(dst)) continue;
      fs.mkdirSync(path.dirname(dst), { recursive: true });
      try {
        fs.linkSync(f.abs, dst);
      } catch {
        fs.copyFileSync(f.abs, dst);
      }
    }
  }
  return dir;
}

/**
 * Tokenizer.encode alone on the pre-decoded pixels, in `workers` threads that
 * share the batches: images/s and process CPU ms per image.
 */
async function encoderOnly(
  model: string,
  workers: number,
  threads: number,
  batch: number,
  pixels: readonly Uint8Array[],
): Promise<{ enc: number; encCpu: number }> {
  const imageBytes = pixels[0].length;
  if (pixels.some((p) => p.length !== imageBytes)) throw new Error('decoded images differ in size');
  const shared = new Uint8Array(new SharedArrayBuffer(imageBytes * pixels.length));
  pixels.forEach((p, i) => shared.set(p, i * imageBytes));
  const next = new SharedArrayBuffer(4);
  const data: EncodeOnlyWorkerData = { model, threads, batch, pixels: shared.buffer as SharedArrayBuffer, imageBytes, count: pixels.length, next };
  const threadsList = Array.from({ length: workers }, () => startBenchWorker('encodeOnlyWorker', data));
  const wait = (w: (typeof threadsList)[number], type: 'ready' | 'done') =>
    new Promise<void>((resolve, reject) => {
      const on = (m: EncodeOnlyResponse) => {
        if (m.type === 'failed') reject(new Error(`encoder-only thread: ${m.message}`));
        else if (m.type === type) resolve();
        else return;
        w.off('message', on);
      };
      w.on('message', on);
      w.once('error', reject);
    });
  try {
    await Promise.all(threadsList.map((w) => wait(w, 'ready')));
    await settle();
    const t0 = now();
    const c0 = process.cpuUsage();
    const done = Promise.all(threadsList.map((w) => wait(w, 'done')));
    for (const w of threadsList) w.postMessage({ type: 'run' } satisfies EncodeOnlyRequest);
    await done;
    // process.cpuUsage counts every thread of the process, workers included.
    return { enc: pixels.length / ((now() - t0) / 1000), encCpu: cpuMs(process.cpuUsage(c0)) / pixels.length };
  } finally {
    await Promise.all(threadsList.map((w) => w.terminate()));
  }
}

export async function runPipelineBench(opts: PipelineBenchOptions): Promise<PipelineBenchResult> {
  const log = opts.log ?? (() => {});
  const scanned = scanDataset(opts.images).files;
  if (scanned.length === 0) throw new Error(`no images in ${opts.images}`);
  const root = opts.repeat > 1 ? hardLinkCopies(scanned, opts.images, opts.repeat) : opts.images;
  const files = scanDataset(root).files;
  const cpus = cpuCount();

  const info = await loadModelInfo(opts.model);
  const input = info.manifest.input;

  // Decode once, up front: the encoder-only runs get exactly the pipeline's pixels.
  const pixels: Uint8Array[] = [];
  const batch0 = opts.configs[0]?.batch ?? 8;
  const td = now();
  const cd = process.cpuUsage();
  for (let i = 0; i < files.length; i += batch0) {
    const chunk = files.slice(i, i + batch0);
    const decoded = await Promise.all(chunk.map(async (f) => decodeForModel(await fs.promises.readFile(f.abs), input).catch(() => undefined)));
    for (const d of decoded) if (d) pixels.push(d.rgb);
  }
  const decodeOnly = pixels.length / ((now() - td) / 1000);
  const decodeCpu = cpuMs(process.cpuUsage(cd)) / pixels.length;
  log(
    `${files.length} images (${pixels.length} decodable) under ${path.relative(ROOT, root) || root}; model ${info.manifest.name} ${info.rows}x${info.cols} d=${info.dim} K=${info.codebookSize}; ${cpus} cores`,
  );

  const dbRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'patchlens-bench-'));
  let entries = 0;
  let insertCpu = NaN;
  const raw = opts.configs.map(() => ({
    enc: [] as number[],
    pipe: [] as number[],
    cmd: [] as number[],
    encCpu: [] as number[],
    pipeCpu: [] as number[],
    splits: [] as PipelineSplit[],
  }));
  const labels = opts.configs.map((c) => {
    // As EncoderPool.start lays them out.
    const { workers, threads } = encoderLayout(c.workers, c.threads, cpus);
    const dflt = encoderLayout(undefined, undefined, cpus);
    const isDefault = workers === dflt.workers && threads === dflt.threads;
    return {
      workers,
      threadsPerWorker: threads,
      batch: c.batch,
      label: `${workers} worker${workers > 1 ? 's' : ''} x ${threads} thread${threads > 1 ? 's' : ''}, batch ${c.batch}${isDefault ? ' (default)' : ''}`,
    };
  });
  try {
    for (let r = 0; r < opts.rounds; r++) {
      for (let ci = 0; ci < opts.configs.length; ci++) {
        const c = opts.configs[ci];
        const { threadsPerWorker: threads, batch, workers } = labels[ci];
        // Encoder only: as many threads as the pool has workers, each with its own session.
        const { enc, encCpu } = await encoderOnly(opts.model, workers, threads, batch, pixels);
        await settle();
        // End to end: what `patchlens index --rebuild` runs.
        const t1 = now();
        const c1 = process.cpuUsage();
        const res = await buildDatabase({
          root,
          dbDir: path.join(dbRoot, 'db'),
          model: opts.model,
          rebuild: true,
          workers: c.workers,
          threads: c.threads,
          batchSize: batch,
        });
        const pipeCpu = cpuMs(process.cpuUsage(c1)) / res.images;
        const wall = now() - t1;
        const n = res.images;
        entries = res.entries;
        const x = raw[ci];
        x.enc.push(enc);
        x.encCpu.push(encCpu);
        x.pipe.push(n / (res.timings.pipelineMs / 1000));
        x.cmd.push(n / (wall / 1000));
        x.pipeCpu.push(pipeCpu);
        x.splits.push({
          decodeMs: res.timings.decodeMs / n,
          encodeMs: res.timings.encodeMs / n,
          keysMs: res.timings.keysMs / n,
          insertMs: res.timings.insertMs / n,
          writeMs: res.timings.writeMs / n,
        });
        log(
          `round ${r + 1}/${opts.rounds} ${labels[ci].label}: encoder only ${sig(enc)} img/s (${sig(encCpu)} CPU ms/img), index ${sig(x.pipe.at(-1)!)} img/s (${sig(pipeCpu)} CPU ms/img)`,
        );
      }
    }
    insertCpu = insertOnly(path.join(dbRoot, 'db'), opts.rounds);
  } finally {
    fs.rmSync(dbRoot, { recursive: true, force: true });
  }
  const configs: PipelineConfigResult[] = raw.map((x, ci) => {
    const m = { encoderOnly: median(x.enc), pipeline: median(x.pipe), command: median(x.cmd) };
    const encCpu = median(x.encCpu);
    const pipeCpu = median(x.pipeCpu);
    const split = Object.fromEntries(
      Object.keys(x.splits[0]).map((k) => [k, sig(median(x.splits.map((s) => s[k as keyof PipelineSplit])))]),
    ) as unknown as PipelineSplit;
    return {
      config: labels[ci],
      encoderOnlyImagesPerSec: x.enc.map((v) => sig(v)),
      pipelineImagesPerSec: x.pipe.map((v) => sig(v)),
      commandImagesPerSec: x.cmd.map((v) => sig(v)),
      encoderOnlyCpuMsPerImage: sig(encCpu),
      pipelineCpuMsPerImage: sig(pipeCpu),
      median: {
        encoderOnly: sig(m.encoderOnly),
        pipeline: sig(m.pipeline),
        command: sig(m.command),
        ratio: sig(m.pipeline / m.encoderOnly),
        commandRatio: sig(m.command / m.encoderOnly),
        cpuRatio: sig(encCpu / pipeCpu),
      },
      split,
    };
  });
  const bestEnc = configs.reduce((a, b) => (b.median.encoderOnly > a.median.encoderOnly ? b : a));
  const dflt = configs.find((c) => c.config.label.endsWith('(default)')) ?? configs[0];
  const encCpu = dflt.encoderOnlyCpuMsPerImage;
  const bestPipe = configs.reduce((a, b) => (b.median.pipeline > a.median.pipeline ? b : a));
  return {
    images: pixels.length,
    entries,
    model: path.relative(ROOT, opts.model),
    modelName: info.manifest.name,
    grid: `${info.rows}x${info.cols} d=${info.dim} K=${info.codebookSize}`,
    cores: cpus,
    rounds: opts.rounds,
    decodeOnlyImagesPerSec: sig(decodeOnly),
    decodeOnlyCpuMsPerImage: sig(decodeCpu),
    insertOnlyCpuMsPerImage: sig(insertCpu),
    cpuBound: {
      encoderCpuMsPerImage: encCpu,
      decodeCpuMsPerImage: sig(decodeCpu),
      insertCpuMsPerImage: sig(insertCpu),
      ratio: sig(encCpu / (encCpu + decodeCpu + insertCpu)),
    },
    configs,
    bestEncoderOnly: { imagesPerSec: bestEnc.median.encoderOnly, config: bestEnc.config.label },
    bestPipeline: {
      imagesPerSec: bestPipe.median.pipeline,
      config: bestPipe.config.label,
      ratioToBestEncoderOnly: sig(bestPipe.median.pipeline / bestEnc.median.encoderOnly),
    },
  };
}

/** CPU ms per image of inserting a built database's keys into a new index with its parameters (main thread only), median of rounds. */
function insertOnly(dbDir: string, rounds: number): number {
  const db = PatchDatabase.open(dbDir, { verify: false })!;
  const m = db.manifest;
  const { rows, cols, dim } = m.model;
  const keys = m.images.map((img, i) => ({
    keys: imageKeys(db.sourceGrid(i, m.keys.source), rows, cols, dim, m.keys).keys,
    first: img.firstLabel,
    n: img.entries,
  }));
  const cpu: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const index = HnswPatchIndex.create(m.index.keyDim, m.index.entries, { m: m.index.m, efConstruction: m.index.efConstruction, ef: m.index.ef });
    const c0 = process.cpuUsage();
    for (const k of keys)
      index.add(
        k.keys,
        Float64Array.from({ length: k.n }, (_, e) => k.first + e),
      );
    cpu.push(cpuMs(process.cpuUsage(c0)) / keys.length);
  }
  return median(cpu);
}

export function pipelineTable(r: PipelineBenchResult): string {
  return [
    `${r.images} images, ${r.entries} entries, ${r.modelName} (${r.grid}), ${r.cores} cores, median of ${r.rounds} interleaved rounds`,
    table(
      ['configuration', 'encoder only img/s', 'index img/s', 'ratio', 'whole command img/s', 'encoder CPU ms/img', 'index CPU ms/img', 'CPU ratio'],
      r.configs.map((c) => [
        c.config.label,
        c.median.encoderOnly,
        c.median.pipeline,
        c.median.ratio.toFixed(2),
        c.median.command,
        c.encoderOnlyCpuMsPerImage,
        c.pipelineCpuMsPerImage,
        c.median.cpuRatio.toFixed(2),
      ]),
    ),
    '',
    table(
      ['index, wall ms per image', 'decode*', 'encode*', 'keys', 'insert', 'write'],
      r.configs.map((c) => [c.config.label, c.split.decodeMs, c.split.encodeMs, c.split.keysMs, c.split.insertMs, c.split.writeMs]),
    ),
    '* summed over worker threads and overlapping the main thread; keys/insert/write run on the main thread',
    `decode only (sharp): ${r.decodeOnlyImagesPerSec} img/s, ${r.decodeOnlyCpuMsPerImage} CPU ms/img; HNSW inserts only: ${r.insertOnlyCpuMsPerImage} CPU ms/img`,
    `CPU budget (default configuration): encoder ${r.cpuBound.encoderCpuMsPerImage} + decode ${r.cpuBound.decodeCpuMsPerImage} + insert ${r.cpuBound.insertCpuMsPerImage} CPU ms/img: a CPU-saturated machine indexes at most ${r.cpuBound.ratio.toFixed(2)} of the encoder alone`,
    `best encoder only: ${r.bestEncoderOnly.imagesPerSec} img/s (${r.bestEncoderOnly.config}); best index: ${r.bestPipeline.imagesPerSec} img/s (${r.bestPipeline.config}) = ${r.bestPipeline.ratioToBestEncoderOnly.toFixed(2)} of it`,
  ].join('\n');
}
