import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseJsonc } from '../../src/extension/jsonc';

test('parseJsonc: settings files with comments and trailing commas', () => {
  const text = `\uFEFF{
    // the model
    "patchlens.model": "./evil/manifest.json", /* block
    comment */ "a": "http://x//y", "b": "/* not a comment */",
    "c": [1, 2,],
    "d": "quote \\" // still a string",
  }`;
  assert.deepEqual(parseJsonc(text), {
    'patchlens.model': './evil/manifest.json',
    a: 'http://x//y',
    b: '/* not a comment */',
    c: [1, 2],
    d: 'quote " // still a string',
  });
  assert.equal(parseJsonc('{ nope'), undefined);
  assert.deepEqual(parseJsonc('[1,\n]'), [1]);
});

test('parseJsonc: what JSON.parse refused stays refused (no value from a damaged file)', () => {
  for (const bad of ['', '{"a": 1} x', '{"a": }', '{"a": 1,,}', '[1 2]', "{'a': 1}", '{"a": 1']) assert.equal(parseJsonc(bad), undefined, JSON.stringify(bad));
  assert.deepEqual(parseJsonc('  {"a": {"b": [true, null, -1.5e3]}} // end'), { a: { b: [true, null, -1.5e3] } });
});
