// Saving an export where the user chose: the chosen file's extension picks
// CSV or JSON, the bytes written hold every row (read back from disk), a
// cancelled dialog writes nothing, and export file names are safe stems.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { codebookTable, retrievedTable } from '../../src/core/exportTable';
import { exportFileName, saveTable } from '../../src/extension/saveTable';
import { tempDir } from '../support/fixtures';

const about = { dataset: 'photos', image: 'sub/cat, "big".png', row: 3, col: 4, token: 7, k: 3, temperature: 1, keys: 'latent keys, causal h=1, border skip' };
const rows = [
  { image: 'a.png', row: 0, col: 1, token: 7, distance: 0.25 },
  { image: '=cmd|x.png', row: 2, col: 2, token: 9, distance: 0.5, caption: 'a "quoted", caption' },
];

function saver(dir: string, name: string | undefined) {
  const chosen: string[] = [];
  return {
    chosen,
    choose: async (defaultName: string) => {
      chosen.push(defaultName);
      if (!name) return undefined;
      const file = path.join(dir, name);
      return { file, write: (bytes: Uint8Array) => fs.promises.writeFile(file, bytes) };
    },
  };
}

test('a .csv file gets CSV with a header and every row; a .json file gets the records with the query they belong to', async () => {
  const dir = tempDir('patchlens-save-');
  const table = retrievedTable(about, rows);
  const csv = saver(dir, 'retrieved.csv');
  const saved = await saveTable(table, 'cat-3-4-retrieved.csv', csv.choose);
  assert.deepEqual(saved, { file: path.join(dir, 'retrieved.csv'), format: 'csv', rows: 2 });
  assert.deepEqual(csv.chosen, ['cat-3-4-retrieved.csv']);
  const lines = fs.readFileSync(saved!.file, 'utf8').split('\r\n');
  assert.equal(lines[0], 'rank,image,row,col,token,squared_distance,same_token,caption');
  assert.equal(lines[1], '1,a.png,0,1,7,0.25,true,');
  // a name that a spreadsheet would run as a formula is kept as text; quotes and commas are quoted
  assert.equal(lines[2], `2,'=cmd|x.png,2,2,9,0.5,false,"a ""quoted"", caption"`);
  assert.equal(lines.length, 4, 'a CRLF after the last row');

  const json = saver(dir, 'retrieved.JSON');
  const savedJson = await saveTable(table, 'cat-3-4-retrieved.csv', json.choose);
  assert.equal(savedJson?.format, 'json');
  const doc = JSON.parse(fs.readFileSync(savedJson!.file, 'utf8')) as { kind: string; about: unknown; rows: Record<string, unknown>[] };
  assert.equal(doc.kind, 'retrieved');
  assert.deepEqual(doc.about, about);
  assert.deepEqual(
    doc.rows.map((r) => [r.rank, r.image, r.squared_distance]),
    [
      [1, 'a.png', 0.25],
      [2, '=cmd|x.png', 0.5],
    ],
  );
});

test('a cancelled dialog writes nothing; a failing write is an error, not a silent success', async () => {
  const dir = tempDir('patchlens-save-');
  assert.equal(await saveTable(codebookTable({ dataset: 'photos' }, [3, 0, 1]), 'photos-codebook.csv', saver(dir, undefined).choose), undefined);
  assert.deepEqual(fs.readdirSync(dir), []);
  const failing = async () => ({ file: path.join(dir, 'x.csv'), write: () => Promise.reject(new Error('EACCES: permission denied')) });
  await assert.rejects(saveTable(codebookTable({ dataset: 'photos' }, [3, 0, 1]), 'photos-codebook.csv', failing), /EACCES/);
});

test('export file names: the image stem, cell and kind for a query; the dataset and kind otherwise; odd characters replaced', () => {
  assert.equal(exportFileName('retrieved', 'sub/cat.photo.png', { row: 3, col: 4 }), 'cat.photo-3-4-retrieved.csv');
  assert.equal(exportFileName('codebook', 'photos'), 'photos-codebook.csv');
  assert.equal(exportFileName('daid', 'a/<b> c?.jpg', { row: 0, col: 0 }), '_b_c_-0-0-daid.csv');
  assert.equal(exportFileName('predictability', '***'), '_-predictability.csv');
});
