// The Python tokenizer tools' own checks (checkpoint layouts of LlamaGen and
// Janus-Pro load into our VQModel, parameter counts, quantisation rule), run
// with Debian's python3-torch as part of `npm test`.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

test('tools/tokenizer unit tests pass under /usr/bin/python3', { timeout: 10 * 60_000 }, () => {
  const repo = path.resolve(__dirname, '..', '..');
  const r = spawnSync('/usr/bin/python3', ['-m', 'unittest', 'tools/tokenizer/test_tokenizer_tools.py'], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /Ran \d+ tests[\s\S]*OK/);
});
