import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatBytes,
  formatCell,
  formatCount,
  formatCountOf,
  formatDistance,
  formatDuration,
  formatGrid,
  formatMean,
  formatPercent,
  formatPerplexity,
  formatSignificant,
} from '../../src/core/format';

test('formatCell: row first, one space after the comma', () => {
  assert.equal(formatCell(6, 5), '(6, 5)');
  assert.equal(formatCell(0, 23), '(0, 23)');
});

test('formatGrid: rows × columns', () => {
  assert.equal(formatGrid(24, 24), '24×24');
  assert.equal(formatGrid(16, 32), '16×32');
});

test('formatCount: thousands separators, no decimals', () => {
  assert.equal(formatCount(0), '0');
  assert.equal(formatCount(999), '999');
  assert.equal(formatCount(11130), '11,130');
  assert.equal(formatCount(5_500_000_000), '5,500,000,000');
  assert.equal(formatCountOf(1, 'image'), '1 image');
  assert.equal(formatCountOf(11130, 'patch', 'patches'), '11,130 patches');
});

test('formatPercent: one decimal; exact ends plain; tiny shares never read as 0 or 100', () => {
  assert.equal(formatPercent(0.124), '12.4%');
  assert.equal(formatPercent(0.009), '0.9%');
  assert.equal(formatPercent(0.37), '37.0%');
  assert.equal(formatPercent(0), '0%');
  assert.equal(formatPercent(1), '100%');
  assert.equal(formatPercent(0.0002), '<0.1%');
  assert.equal(formatPercent(0.0005), '0.1%');
  assert.equal(formatPercent(0.9999), '>99.9%');
  assert.equal(formatPercent(0.9994), '99.9%');
});

test('formatDistance: three decimals always, so a column of distances lines up', () => {
  assert.equal(formatDistance(0.41234), '0.412');
  assert.equal(formatDistance(2), '2.000');
  assert.equal(formatDistance(0), '0.000');
  assert.equal(formatDistance(12.3456), '12.346');
});

test('formatPerplexity and formatMean: one decimal with separators', () => {
  assert.equal(formatPerplexity(2447.43), '2,447.4');
  assert.equal(formatPerplexity(189), '189.0');
  assert.equal(formatMean(3.25), '3.3');
  assert.equal(formatMean(1234.5), '1,234.5');
});

test('formatDuration: ms under a second, seconds above', () => {
  assert.equal(formatDuration(0.42), '0.4 ms');
  assert.equal(formatDuration(14.4), '14 ms');
  assert.equal(formatDuration(999), '999 ms');
  assert.equal(formatDuration(1234), '1.2 s');
  assert.equal(formatDuration(125_000), '125.0 s');
});

test('formatBytes: binary units', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KB');
  assert.equal(formatBytes(250 * 1024 * 1024), '250 MB');
});

test('formatSignificant: three significant digits, no exponent for everyday values', () => {
  assert.equal(formatSignificant(1), '1');
  assert.equal(formatSignificant(0.25), '0.25');
  assert.equal(formatSignificant(32.4567), '32.5');
  assert.equal(formatSignificant(0), '0');
});
