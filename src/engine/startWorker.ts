// Worker threads of the engine (the encode workers, the engine worker), the
// same way in the bundles and from the TypeScript sources.

import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread running a bundled script in `dir` (default: beside this
 * file, dist/), or its TypeScript source through tsx when running from source (tests).
 */
export function startWorker(name: string, workerData: unknown, dir = __dirname): Worker {
  if (path.extname(__filename) === '.ts') {
    const src = path.join(dir, name + '.ts');
    return new Worker(`require('tsx/cjs');require(${JSON.stringify(src)});`, { eval: true, workerData });
  }
  return new Worker(path.join(dir, name + '.js'), { workerData });
}
