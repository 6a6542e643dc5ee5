// npm run bench:pipeline — end-to-end indexing images/s on a folder of real
// images against the encoder alone on the same pre-decoded pixels, with the
// time split, for a few worker/thread configurations. Writes
// bench/results/pipeline.json.

import { fail, intArg, machineInfo, parseBenchArgs, resolveImages, resolveModel, writeResult } from './lib/common';
import { pipelineTable, runPipelineBench, type PipelineConfig } from './lib/pipeline';

const USAGE = `npm run bench:pipeline -- [options]
  --model M        tokenizer manifest (default: media/models/patchlens-vq16/manifest.json;
                   "tiny": the tests' patchify model, whose encoder is far cheaper than a real one)
  --images DIR     folder of images (default: media/sample)
  --rounds N       interleaved rounds per configuration (default 3)
  --repeat N       index the folder N times over (hard links under .cache), for longer runs (default 2)
  --configs LIST   worker x thread configurations, e.g. "1,1x2,2x1" (W or WxT; T defaults to
                   the pool's: the cores but one shared out among the workers). Default: one
                   worker, one worker x all cores, one worker per core x 1 thread
  --batch N        images per encoder batch (default 8, as the CLI)
  --out NAME       results file name under bench/results (default pipeline)`;

function parseConfigs(v: string | undefined, batch: number, cores: number): PipelineConfig[] {
  if (v === undefined) {
    // One worker (the cores but one for its threads), one worker on every core's threads,
    // one single-thread worker per core (the engine's default up to 4 cores).
    const list: PipelineConfig[] = [{ workers: 1, batch }];
    if (cores > 1) list.push({ workers: 1, threads: cores, batch }, { workers: cores, threads: 1, batch });
    return list;
  }
  return v.split(',').map((s) => {
    const m = /^(\d+)(?:x(\d+))?$/.exec(s.trim());
    if (!m) fail(`--configs: expected W or WxT, got ${JSON.stringify(s)}`);
    return { workers: Number(m[1]), threads: m[2] === undefined ? undefined : Number(m[2]), batch };
  });
}

async function main(): Promise<void> {
  const v = parseBenchArgs(USAGE, {
    model: { type: 'string' },
    images: { type: 'string' },
    rounds: { type: 'string' },
    repeat: { type: 'string' },
    configs: { type: 'string' },
    batch: { type: 'string' },
    out: { type: 'string' },
  });
  const model = await resolveModel(v.model);
  const images = resolveImages(v.images);
  const machine = machineInfo();
  const batch = intArg(v.batch, 'batch', 8);
  const res = await runPipelineBench({
    model,
    images,
    rounds: intArg(v.rounds, 'rounds', 3),
    repeat: intArg(v.repeat, 'repeat', 2),
    configs: parseConfigs(v.configs, batch, machine.cores),
    log: (l) => console.error(l),
  });
  console.log(pipelineTable(res));
  const file = writeResult(v.out ?? 'pipeline', { benchmark: 'pipeline', date: new Date().toISOString(), machine, ...res });
  console.log(`wrote ${file}`);
}

main().catch((err) => fail(err instanceof Error ? (err.stack ?? err.message) : String(err)));
