// Damaged database files: truncated, bit-flipped, missing or emptied
// manifest, index, segment and codes files are detected when the database is
// opened (sizes and SHA-256 from the manifest; the manifest's own checksum),
// with a message that names the file and suggests --rebuild; `index` refuses
// to update a damaged database; `index --rebuild` recovers, and the rebuilt
// database answers exactly as the original did.

import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatabaseError, PatchDatabase } from '../../src/engine/database';
import { checkHnswFile } from '../../src/engine/patchIndex';
import { writeTinyModel } from '../support/tinyModel';
import { tempDir, writeDataset } from '../support/fixtures';
import { buildCli, cli, namedFiles } from './helpers';

const work = tempDir('patchlens-faults-corrupt-');
const base = path.join(work, 'base');
let model = '';
let answers = '';
let files: Record<'manifest' | 'index' | 'segment' | 'codes', string>;

const ask = (root: string) => cli(['query', path.join(root, 'img-02.png'), '--at', '4,3', '--k', '15', '--json']);

before(async () => {
  buildCli();
  model = writeTinyModel(path.join(work, 'model'), { size: 64, patch: 8, dim: 4, codes: 64 });
  await writeDataset(base, 4, { seed: 31 });
  for (const f of fs.readdirSync(base)) fs.utimesSync(path.join(base, f), 1.6e9, 1.6e9);
  const r = cli(['index', base, '--model', model, '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const q = ask(base);
  assert.equal(q.code, 0, q.stderr);
  answers = q.stdout;
  const m = JSON.parse(fs.readFileSync(path.join(base, '.patchlens', 'manifest.json'), 'utf8'));
  files = { manifest: 'manifest.json', index: m.index.file, segment: m.segments[0].file, codes: m.prototypes.file };
});

let copies = 0;
function copy(): { root: string; db: string } {
  const root = path.join(work, `copy-${copies++}`);
  fs.cpSync(base, root, { recursive: true, preserveTimestamps: true });
  return { root, db: path.join(root, '.patchlens') };
}

type Damage = (file: string) => void;
const truncate: Damage = (f) => fs.truncateSync(f, Math.floor(fs.statSync(f).size / 2));
const empty: Damage = (f) => fs.truncateSync(f, 0);
const remove: Damage = (f) => fs.rmSync(f);
/** Flips one bit in the middle of the file (for the manifest: in a digit, so the JSON stays valid). */
const flip: Damage = (f) => {
  const b = fs.readFileSync(f);
  let at = Math.floor(b.length / 2);
  if (f.endsWith('manifest.json')) {
    const text = b.toString('latin1');
    at = text.indexOf('"offset":') + '"offset":'.length; // 0 -> 1: valid JSON, a wrong record offset
  }
  b[at] ^= 0x01;
  fs.writeFileSync(f, b);
};
/** For the manifest: a flip that breaks the JSON. */
const flipSyntax: Damage = (f) => {
  const b = fs.readFileSync(f);
  b[0] ^= 0x01; // '{' -> 'z'
  fs.writeFileSync(f, b);
};

const damages: [string, Damage][] = [
  ['truncated', truncate],
  ['bit-flipped', flip],
  ['emptied', empty],
  ['deleted', remove],
];

test('every damaged file is detected at open, naming the file and suggesting --rebuild', () => {
  for (const [kind, file] of Object.entries(files)) {
    for (const [what, damage] of [...damages, ...(kind === 'manifest' ? [['syntax-flipped', flipSyntax] as [string, Damage]] : [])]) {
      const { db } = copy();
      damage(path.join(db, file));
      if (kind === 'manifest' && what === 'deleted') {
        assert.equal(PatchDatabase.open(db), undefined, 'no manifest: no database (not an error)');
        continue;
      }
      assert.throws(
        () => PatchDatabase.open(db),
        (e: unknown) => {
          assert.ok(e instanceof DatabaseError, `${what} ${kind}: ${String(e)}`);
          assert.ok(e.message.includes(path.join(db, file)) || e.message.includes(file), `${what} ${kind} names the file: ${e.message}`);
          assert.match(e.message, /Rebuild the database \(patchlens index --rebuild\)$/, `${what} ${kind}: ${e.message}`);
          assert.match(e.message, /damaged|truncated|missing|bytes/, `${what} ${kind}: ${e.message}`);
          return true;
        },
      );
    }
  }
});

test('the CLI reports a damaged database in one line (query, stats, index) and --rebuild recovers the same answers', () => {
  for (const [kind, file] of Object.entries(files)) {
    const damage = kind === 'codes' ? truncate : flip;
    const { root, db } = copy();
    damage(path.join(db, file));
    const commands = [
      ['query', path.join(root, 'img-02.png'), '--at', '4,3'],
      ['stats', '--db', db],
      ['index', root, '--model', model],
    ];
    // every command on a damaged manifest and index; query alone for the others (the same open() underneath)
    for (const args of kind === 'manifest' || kind === 'index' ? commands : commands.slice(0, 1)) {
      const r = cli(args);
      assert.equal(r.code, 1, `${args[0]} on a damaged ${kind}: ${r.stderr}`);
      assert.match(
        r.reason,
        /^patchlens: the database (file|manifest) .* (is damaged|has \d+ bytes).*\. Rebuild the database \(patchlens index --rebuild\)$/,
        `${args[0]} on a damaged ${kind}`,
      );
      assert.equal(r.stdout, '');
    }
    const rebuilt = cli(['index', root, '--model', model, '--rebuild', '--json', '--quiet']);
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    assert.equal(rebuilt.json().images, 4);
    assert.deepEqual(fs.readdirSync(db).sort(), namedFiles(db), 'the damaged generation is gone');
    const q = ask(root);
    assert.equal(q.code, 0, q.stderr);
    assert.equal(q.stdout, answers, `after rebuilding a damaged ${kind}: the same answers`);
  }
});

test('an index file cut short anywhere is caught by the layout check (what save() runs after hnswlib writes)', () => {
  const { db } = copy();
  const f = path.join(db, files.index);
  checkHnswFile(f);
  const full = fs.readFileSync(f);
  for (const cut of [0, 50, 96, full.length - 1000, full.length - 4, full.length - 1]) {
    fs.writeFileSync(f, full.subarray(0, cut));
    assert.throws(
      () => checkHnswFile(f),
      (e: Error & { code?: string }) => e.code === 'EIO' && /not written completely/.test(e.message),
      `cut at ${cut}`,
    );
  }
  fs.writeFileSync(f, Buffer.concat([full, Buffer.alloc(3)]));
  assert.throws(() => checkHnswFile(f), /not written completely/, 'trailing bytes');
});
