// Export tables: CSV quoting (RFC 4180) read back by a strict parser, hostile
// names kept from becoming formulas while numbers stay numbers, JSON records,
// and the tables of each result.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { codebookTable, csvCell, daidTable, formatOfFile, metricsTable, retrievedTable, toCsv, toJson, type ExportTable } from '../../src/core/exportTable';

/** A strict RFC 4180 reader: quoted fields, doubled quotes, CRLF records. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (c === '"' && field === '') {
      quoted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else if (c === '"' || c === '\n' || c === '\r') {
      throw new Error(`bare ${JSON.stringify(c)} at ${i}`);
    } else field += c;
  }
  assert.equal(field + row.join(''), '', 'the text ends with CRLF');
  return rows;
}

const ABOUT = { dataset: 'photos', image: 'cat.png', row: 2, col: 3, token: 7, k: 3, temperature: 1, keys: 'causal h=1 border=skip keys=latent' };

test('CSV cells: quotes, commas and line breaks are quoted; formulas get an apostrophe; negative numbers stay numbers', () => {
  assert.equal(csvCell('plain.png'), 'plain.png');
  assert.equal(csvCell('a,b.png'), '"a,b.png"');
  assert.equal(csvCell('say "hi".png'), '"say ""hi"".png"');
  assert.equal(csvCell('two\nlines'), '"two\nlines"');
  for (const f of ['=HYPERLINK("http://x")', '+1', '-2+3', '@SUM(A1)', '\tcmd', '\rcmd'])
    assert.equal(csvCell(f)[0] === '"' ? csvCell(f)[1] : csvCell(f)[0], "'", f);
  assert.equal(csvCell(-0.25), '-0.25');
  assert.equal(csvCell(Number.NaN), '');
  assert.equal(csvCell(true), 'true');
  assert.equal(csvCell(null), '');
});

test('a retrieved list with hostile names reads back cell for cell; no cell starts a formula', () => {
  const names = ['=cmd|"/c calc"!A1.png', 'a,b\r\nc.png', '@x.jpg', '-rf.png', 'ok.png'];
  const t = retrievedTable(
    ABOUT,
    names.map((image, i) => ({ image, row: i, col: i + 1, token: i === 1 ? 7 : 9, distance: 0.125 * (i + 1), caption: i === 0 ? '+caption' : undefined })),
  );
  const rows = parseCsv(toCsv(t));
  assert.deepEqual(rows[0], ['rank', 'image', 'row', 'col', 'token', 'squared_distance', 'same_token', 'caption']);
  assert.equal(rows.length, names.length + 1);
  rows.slice(1).forEach((r, i) => {
    assert.equal(r[1].replace(/^'/, ''), names[i]);
    assert.deepEqual(r.slice(2, 7), [String(i), String(i + 1), i === 1 ? '7' : '9', String(0.125 * (i + 1)), String(i === 1)]);
  });
  for (const r of rows) for (const cell of r) assert.doesNotMatch(cell, /^[=+\-@\t\r]/, cell);
  // JSON keeps the exact names, numbers as numbers.
  const doc = JSON.parse(toJson(t)) as { kind: string; about: typeof ABOUT; rows: Record<string, unknown>[] };
  assert.equal(doc.kind, 'retrieved');
  assert.deepEqual(doc.about, ABOUT);
  assert.deepEqual(
    doc.rows.map((r) => r.image),
    names,
  );
  assert.equal(doc.rows[1].same_token, true);
  assert.equal(doc.rows[0].squared_distance, 0.125);
});

test('DAiD, codebook and predictability tables', () => {
  const d = daidTable(ABOUT, Int32Array.from([9, 7, 4]), Float32Array.from([0.5, 0.3, 0.2]));
  assert.deepEqual(
    d.rows.map((r) => [r[0], r[1], r[3]]),
    [
      [1, 9, false],
      [2, 7, true],
      [3, 4, false],
    ],
  );
  const c = codebookTable({ dataset: 'photos' }, [0, 5, 15, 0]);
  assert.deepEqual(c.rows, [
    [2, 15, 0.75, false],
    [1, 5, 0.25, false],
    [0, 0, 0, true],
    [3, 0, 0, true],
  ]);
  const m: ExportTable = metricsTable('predictability', { dataset: 'photos' }, { top1: 0.25, top5: 0.5, exact: true, nested: { a: 1 } });
  assert.deepEqual(m.rows, [
    ['top1', 0.25],
    ['top5', 0.5],
    ['exact', true],
  ]);
  assert.deepEqual(parseCsv(toCsv(m)), [
    ['metric', 'value'],
    ['top1', '0.25'],
    ['top5', '0.5'],
    ['exact', 'true'],
  ]);
  assert.equal(formatOfFile('/x/y.JSON'), 'json');
  assert.equal(formatOfFile('/x/y.csv'), 'csv');
});
