import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  parseTokenFilter,
  prototypeRgba,
  restoreCodebookState,
  rowWindow,
  shareText,
  summarize,
  summaryText,
  usageOrder,
  visibleCodes,
} from '../../webview/codebook/model';

const counts = new Uint32Array([5, 0, 9, 5, 0, 1, 12, 0, 0, 0, 0, 0, 3]);

test('usageOrder: most used first, ties and dead codes by id', () => {
  assert.deepEqual([...usageOrder(counts)], [6, 2, 0, 3, 12, 5, 1, 4, 7, 8, 9, 10, 11]);
});

test('parseTokenFilter: ids, prefixes, ranges, lists and errors', () => {
  assert.deepEqual(parseTokenFilter(''), { kind: 'all' });
  assert.deepEqual(parseTokenFilter(' 12 '), { kind: 'prefix', digits: '12' });
  assert.deepEqual(parseTokenFilter('#007'), { kind: 'prefix', digits: '7' });
  assert.deepEqual(parseTokenFilter('10-3'), { kind: 'ranges', ranges: [[3, 10]] });
  assert.deepEqual(parseTokenFilter('1, 5..6, 9–12,'), {
    kind: 'ranges',
    ranges: [
      [1, 1],
      [5, 6],
      [9, 12],
    ],
  });
  assert.ok('error' in parseTokenFilter('cat'));
  assert.ok('error' in parseTokenFilter('1-'));
});

test('visibleCodes: filter in usage order, exact id first, dead codes optional', () => {
  const order = usageOrder(counts);
  assert.deepEqual(visibleCodes(order, counts, { kind: 'all' }, false), [6, 2, 0, 3, 12, 5]);
  assert.equal(visibleCodes(order, counts, { kind: 'all' }, true).length, 13);
  // "1" matches 1, 10, 11, 12: the exact id first (dead, shown), then the rest by usage.
  assert.deepEqual(visibleCodes(order, counts, { kind: 'prefix', digits: '1' }, true), [1, 12, 10, 11]);
  assert.deepEqual(visibleCodes(order, counts, { kind: 'prefix', digits: '1' }, false), [12]);
  assert.deepEqual(visibleCodes(order, counts, { kind: 'ranges', ranges: [[2, 5]] }, true), [2, 3, 5, 4]);
  assert.deepEqual(visibleCodes(order, counts, { kind: 'prefix', digits: '99' }, true), []);
});

test('summarize: used, dead, tokens, perplexity', () => {
  const s = summarize(counts);
  assert.equal(s.codes, 13);
  assert.equal(s.used, 6);
  assert.equal(s.dead, 7);
  assert.equal(s.tokens, 35);
  assert.equal(s.max, 12);
  const uniform = summarize(new Uint32Array([4, 4, 4, 4]));
  assert.ok(Math.abs(uniform.perplexity - 4) < 1e-9);
  assert.equal(summarize(new Uint32Array(3)).perplexity, 0);
  assert.equal(summaryText(uniform, 1), '4 of 4 codes used · 0 dead · perplexity 4.0 · 1 image');
  assert.equal(shareText(1, 3), '33.3%');
  assert.equal(shareText(1, 200), '0.5%');
  assert.equal(shareText(1, 5000), '<0.1%');
  assert.equal(shareText(0, 10), '');
});

test('rowWindow: the rows around the viewport', () => {
  assert.deepEqual(rowWindow(0, 100, 24, 1000, 2), { first: 0, last: 7 });
  assert.deepEqual(rowWindow(240, 100, 24, 1000, 2), { first: 8, last: 17 });
  assert.deepEqual(rowWindow(0, 100, 24, 3, 2), { first: 0, last: 3 });
  assert.deepEqual(rowWindow(5000, 100, 24, 10, 2), { first: 206, last: 206 });
});

test('prototypeRgba: RGB prototypes to opaque RGBA; none for dead codes or out of range', () => {
  const p = 2;
  const protos = new Uint8Array(3 * p * p * 3);
  protos.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], p * p * 3);
  assert.deepEqual([...prototypeRgba(protos, p, 1, 4)!], [1, 2, 3, 255, 4, 5, 6, 255, 7, 8, 9, 255, 10, 11, 12, 255]);
  assert.equal(prototypeRgba(protos, p, 1, 0), undefined);
  assert.equal(prototypeRgba(protos, p, 5, 1), undefined);
});

test('restoreCodebookState: a saved state is checked field by field; damaged fields fall back to the defaults', () => {
  assert.deepEqual(restoreCodebookState(undefined), { root: undefined, filter: '', showDead: true, selected: undefined, scrollTop: 0 });
  assert.deepEqual(restoreCodebookState({ root: '/d', filter: '1-5', showDead: false, selected: 42, scrollTop: 120 }), {
    root: '/d',
    filter: '1-5',
    showDead: false,
    selected: 42,
    scrollTop: 120,
  });
  assert.deepEqual(restoreCodebookState({ root: 5, filter: 'x'.repeat(1000), showDead: 'no', selected: -1, scrollTop: Number.NaN }), {
    root: undefined,
    filter: '',
    showDead: true,
    selected: undefined,
    scrollTop: 0,
  });
  assert.deepEqual(restoreCodebookState([1, 2]), restoreCodebookState(undefined));
});
