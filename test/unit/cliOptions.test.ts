// The CLI's option tables: values typed and checked with one message per
// kind, choices and usage written from the src/core vocabulary.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { COMMANDS, INDEX, QUERY, ROLLOUT, commandUsage, usage } from '../../src/cli/commands';
import { UsageError, parseOptions, usageLine } from '../../src/cli/options';
import { BORDERS, DATABASE_BACKENDS, KEY_SHAPES, KEY_SOURCES, MAX_HOPS, MIN_HOPS } from '../../src/core/vocabulary';

const ok = <O extends Parameters<typeof parseOptions>[0]>(c: O, args: string[]) => {
  const p = parseOptions(c, args);
  assert.equal(p.help, false);
  return p as Extract<typeof p, { help: false }>;
};
const refused = (c: Parameters<typeof parseOptions>[0], args: string[], message: RegExp) =>
  assert.throws(
    () => parseOptions(c, args),
    (e: Error) => e instanceof UsageError && message.test(e.message),
    args.join(' '),
  );

test('values come out typed: integers, choices, cells, lists, flags, fallbacks', () => {
  const p = ok(INDEX, ['/d', '--hops', String(MAX_HOPS), '--shape', KEY_SHAPES[1], '--include', 'a/*', '--include', 'b/*', '-q', '--part', '2/8']);
  assert.equal(p.positional, '/d');
  assert.equal(p.values.hops, MAX_HOPS);
  assert.equal(p.values.shape, KEY_SHAPES[1]);
  assert.deepEqual(p.values.include, ['a/*', 'b/*']);
  assert.equal(p.values.quiet, true);
  assert.equal(p.values.rebuild, false);
  assert.deepEqual(p.values.part, { index: 2, count: 8 });
  assert.equal(typeof p.values['max-pixels'], 'number', 'a fallback fills an option not given');
  assert.equal(p.values.border, undefined);
  const q = ok(QUERY, ['a.png', '--at', ' 3 , 4 ', '--temperature', '0.5']);
  assert.deepEqual(q.values.at, { row: 3, col: 4 });
  assert.equal(q.values.temperature, 0.5);
});

test('every value set and range of the vocabulary is what the CLI accepts, nothing else', () => {
  for (const h of [MIN_HOPS, MAX_HOPS]) assert.equal(ok(INDEX, ['/d', '--hops', String(h)]).values.hops, h);
  refused(INDEX, ['/d', '--hops', String(MAX_HOPS + 1)], new RegExp(`^--hops must be an integer from ${MIN_HOPS} to ${MAX_HOPS}, got "${MAX_HOPS + 1}"$`));
  for (const [flag, values] of [
    ['--shape', KEY_SHAPES],
    ['--border', BORDERS],
    ['--keys', KEY_SOURCES],
    ['--backend', DATABASE_BACKENDS],
  ] as const) {
    for (const value of values) ok(INDEX, ['/d', flag, value]);
    refused(INDEX, ['/d', flag, 'other'], new RegExp(`^${flag} must be one of ${values.join(', ')}, got "other"$`));
  }
  const line = usageLine(INDEX);
  for (const set of [KEY_SHAPES, BORDERS, KEY_SOURCES, DATABASE_BACKENDS]) assert.ok(line.includes(set.join('|')), set.join('|'));
});

test('mistakes are usage errors with the messages the CLI has always printed', () => {
  refused(INDEX, [], /^expected one dataset folder, got 0$/);
  refused(INDEX, ['/d', '--bogus'], /Unknown option '--bogus'/);
  refused(INDEX, ['/d', '--part', '3'], /^--part must be I\/N \(e\.g\. 2\/8\), got "3"$/);
  refused(INDEX, ['/d', '--image-column', ' '], /^--image-column needs a column name$/);
  refused(QUERY, ['a.png'], /^--at <row>,<col> is required \(e\.g\. --at 5,7\)$/);
  refused(QUERY, ['a.png', '--at', '1,1', '--temperature', '0'], /^--temperature must be a positive number, got "0"$/);
  refused(ROLLOUT, ['a.png', '--from', 'x'], /^--from <row>,<col> is required \(e\.g\. --from 12,0\)$/);
  const duplicates = COMMANDS.find((c) => c.name === 'duplicates')!;
  refused(duplicates, ['x'], /^duplicates takes no positional arguments, got "x" \(use --db and --against\)$/);
  // --help wins over everything but an unknown option
  assert.equal(parseOptions(INDEX, ['--hops', '99', '-h']).help, true);
});

test('usage: one line per command, written from its table; help <command> prints its own', () => {
  const all = usage('0.0.0');
  for (const c of COMMANDS) {
    assert.ok(all.includes(usageLine(c)), c.name);
    assert.match(commandUsage(c.name, '0.0.0'), new RegExp(`^Usage: patchlens ${c.name} `));
  }
  for (const l of all.split('\n')) assert.ok(l.length <= 100, l);
  assert.equal(commandUsage('nothing', '0.0.0'), all);
});
