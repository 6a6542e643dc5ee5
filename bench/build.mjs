// Bundles the benchmarks (and the encode worker they start) into dist/bench/,
// so they run compiled code as the CLI does: no TypeScript compiled at run
// time, in the main thread or in workers.
import * as esbuild from 'esbuild';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NATIVE_DEPENDENCIES } from '../scripts/nativeDependencies.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
await esbuild.build({
  absWorkingDir: root,
  entryPoints: {
    bench: 'bench/bench.ts',
    index: 'bench/index.ts',
    pipeline: 'bench/pipeline.ts',
    duplicates: 'bench/duplicates.ts',
    update: 'bench/update.ts',
    engineWorker: 'src/engine/engineWorker.ts',
    searchWorker: 'bench/lib/searchWorker.ts',
    encodeOnlyWorker: 'bench/lib/encodeOnlyWorker.ts',
    encodeWorker: 'src/engine/encodeWorker.ts',
    openProbe: 'bench/lib/openProbe.ts',
    baselineAddon: 'bench/lib/baselineAddon.ts',
  },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outdir: 'dist/bench',
  // the native dependencies as the extension's bundles leave them out (LanceDB's included: the engine worker loads it)
  external: [...Object.entries(NATIVE_DEPENDENCIES).flatMap(([name, d]) => (d.bundled ? [`${name}-*`] : [name])), 'tsx', 'tsx/*'],
  sourcemap: 'linked',
  logLevel: 'warning',
  legalComments: 'none',
});
