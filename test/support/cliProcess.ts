// The CLI as a child process, asynchronously: for tests whose store (s3rver, Azurite) runs in the test's own
// process, which a synchronous spawn (test/faults/helpers.ts `cli`) would block from answering.
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';

const bin = path.resolve(__dirname, '..', '..', 'bin', 'patchlens.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `patchlens <args>` in `cwd`; resolves once it exits, with the child at hand (to kill it). */
export function spawnCli(cwd: string, args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> & { child: ChildProcess } {
  const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliRun>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return Object.assign(done, { child });
}
