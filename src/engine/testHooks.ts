// Test-only: lets the fault suite (test/faults) stop a build at a named point
// and kill it there. Inert unless PATCHLENS_TEST_PAUSE_AT names the point: then
// the build prints `patchlens-test: paused at <point>` on stderr and blocks
// (synchronously, nothing else of the build runs) until a line arrives on stdin
// or stdin closes.

import * as fs from 'node:fs';

/**
 * encode: the first image of the new generation is in its segment file;
 * index: the new index file is written, the codes file and manifest are not;
 * manifest: the new manifest is in its temp file (fsynced), not yet renamed;
 * commit: the new manifest is in place, the old generation's files not yet removed;
 * lance-entries: a Lance builder appended a batch's entries, not yet its images.
 */
export type PausePoint = 'encode' | 'index' | 'manifest' | 'commit' | 'lance-entries';

export function pauseAt(point: PausePoint): void {
  if (process.env.PATCHLENS_TEST_PAUSE_AT !== point) return;
  process.stderr.write(`patchlens-test: paused at ${point}\n`);
  const buf = Buffer.alloc(1);
  for (;;) {
    try {
      if (fs.readSync(0, buf, 0, 1, null) === 0 || buf[0] === 0x0a) return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}

/**
 * In-process hooks for unit tests that run a build in their own process (none is set otherwise).
 * beforeLanceAppend: a Lance builder is about to append a batch's entries (attempt 0 first, then each re-append);
 * lanceS3.test.ts starts a second writer's commit there, so that both commits race as two builders' do, or
 * lands another builder's late create there.
 */
export const inProcessHooks: { beforeLanceAppend?: (attempt: number) => void | Promise<void> } = {};
