// npm run bench:fidelity — `patchlens fidelity` on a larger real database: the
// sample photos as seeded crops and flips (bench/lib/augment) indexed by the
// real pipeline with the bundled tokenizer, then the report (HNSW at its
// settings, the ef curve, AR-RAG's OPQ8,IVF800,PQ8np on the same keys) with
// how long each part took. Writes bench/results/fidelity.json.
//   --variants N   crops a photo (default 10: ~100k entries)   --queries N (default 200)

import * as path from 'node:path';
import { augmentedSet } from './lib/augment';
import { DEFAULT_IMAGES, DEFAULT_MODEL, intArg, machineInfo, parseBenchArgs, writeResult } from './lib/common';
import { buildDatabase } from '../src/engine/indexer';
import { PatchDatabase } from '../src/engine/database';
import { fidelitySubject, fidelityText, measureFidelity } from '../src/engine/fidelity';

async function main(): Promise<void> {
  const v = parseBenchArgs('npm run bench:fidelity -- [--variants 10] [--queries 200]', { variants: { type: 'string' }, queries: { type: 'string' } });
  const variants = intArg(v.variants, 'variants', 10);
  const queries = intArg(v.queries, 'queries', 200);
  const set = await augmentedSet({ images: DEFAULT_IMAGES, variants, holdOutEvery: 1_000_000, queryVariants: 0, size: 256, log: (l) => console.error(l) });
  const dbDir = path.join(set.dir, `db-${variants}`);
  const built = await buildDatabase({ root: set.dbImages, dbDir, model: DEFAULT_MODEL, log: (l) => console.error(l) });
  const db = PatchDatabase.open(dbDir)!;
  const phases: Record<string, number> = {};
  const t0 = performance.now();
  let last = t0;
  const report = await measureFidelity(fidelitySubject(db), {
    queries,
    onProgress: (phase, done, total) => {
      if (done < total) return;
      const now = performance.now();
      phases[phase] = Math.round(now - last);
      last = now;
    },
  });
  console.log(fidelityText(report, dbDir));
  const file = writeResult('fidelity', {
    machine: machineInfo(),
    images: db.manifest.images.length,
    buildMs: built.elapsedMs,
    reportMs: Math.round(performance.now() - t0),
    phasesMs: phases,
    report,
  });
  console.error(`wrote ${file}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
