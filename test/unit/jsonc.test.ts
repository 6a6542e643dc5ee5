import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseJsonc, stripJsonc } from '../../src/extension/jsonc';

test('parseJsonc: settings files with comments and trailing commas', () => {
  const text = `\uFEFF{
    // the model
    "patchlens.model": "./evil/manifest.json", /* block
    comment */ "a": "http://x//y", "b": "/* not a comment */",
    "c": [1, 2,],
    "d": "quote \\" // still a string",
  }`;
  assert.deepEqual(parseJsonc(text), { 'patchlens.model': './evil/manifest.json', a: 'http://x//y', b: '/* not a comment */', c: [1, 2], d: 'quote " // still a string' });
  assert.equal(parseJsonc('{ nope'), undefined);
  assert.equal(stripJsonc('[1,\n]'), '[1\n]');
});
