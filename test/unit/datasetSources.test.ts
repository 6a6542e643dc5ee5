// Datasets that are not folders, made by the real tools: GNU tar (a WebDataset
// shard with captions), gzip, Python's tarfile and zipfile, DuckDB's Parquet
// writer (Hugging Face layout), h5py (AR-RAG's code shards). Indexed as
// folders: a member's tokens are the same file's tokens, a code shard's
// tokens are the database's, bad input is reported and the rest indexed.

import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { DuckDBInstance } from '@duckdb/node-api';
import { buildDatabase } from '../../src/engine/indexer';
import { PatchDatabase } from '../../src/engine/database';
import { PatchRetriever } from '../../src/engine/retrieval';
import { DatasetCatalog, PathReader, archivePage, levelOf, sourcesDir } from '../../src/engine/datasetCatalog';
import { captionOf } from '../../src/core/datasetLayout';
import { tokenRgb } from '../../src/core/tokenColours';
import sharp from 'sharp';
import { writeTinyModel } from '../support/tinyModel';
import { tempDir, writeDataset } from '../support/fixtures';

const PY = '/usr/bin/python3';
const repo = path.resolve(__dirname, '..', '..');
const work = tempDir('patchlens-datasets-');
const src = path.join(work, 'src');
const root = path.join(work, 'root');
const plain = path.join(work, 'plain');
let model = '';
let names: string[] = [];

function run(cmd: string, args: string[], cwd = work): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function py(code: string): string {
  return run(PY, ['-c', code]);
}

async function parquet(sql: string): Promise<void> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(sql);
  c.closeSync();
}

before(async () => {
  const b = spawnSync(process.execPath, [path.join(repo, 'scripts', 'build.mjs'), '--only=cli,encodeWorker'], { cwd: repo, encoding: 'utf8' });
  assert.equal(b.status, 0, b.stderr);
  model = writeTinyModel(path.join(work, 'model'), { size: 64, patch: 8, dim: 4, codes: 64 });
  names = await writeDataset(src, 8, { seed: 5 });
  for (const n of names) {
    const key = n.replace(/\.png$/, '');
    fs.writeFileSync(path.join(src, `${key}.txt`), `a photo of sample ${key}\n`);
    fs.writeFileSync(path.join(src, `${key}.json`), JSON.stringify({ key, url: `https://example.com/${n}`, width: 96 }));
  }
  // the same images as plain files, for the token comparison
  fs.mkdirSync(plain);
  for (const n of names) fs.copyFileSync(path.join(src, n), path.join(plain, n));
  fs.mkdirSync(path.join(root, 'shards'), { recursive: true });
  // GNU tar, WebDataset layout: img-00.json, img-00.png, img-00.txt, ...
  const shard0 = names
    .slice(0, 3)
    .flatMap((n) => [n, n.replace('.png', '.txt'), n.replace('.png', '.json')])
    .sort();
  run('tar', ['--format=gnu', '-cf', path.join(root, 'shards', '00000.tar'), ...shard0], src);
  // gzip: JourneyDB's .tgz
  run('tar', ['-czf', path.join(root, 'shards', '00001.tgz'), names[3], names[3].replace('.png', '.txt')], src);
  // MJHQ-30K: a zip with a folder per category, meta_data.json beside it, written by Python's zipfile
  py(`
import zipfile
with zipfile.ZipFile(${JSON.stringify(path.join(root, 'mjhq.zip'))}, 'w', zipfile.ZIP_DEFLATED) as z:
    z.write(${JSON.stringify(path.join(src, names[4]))}, 'people/aaa111.png')
    z.write(${JSON.stringify(path.join(src, names[5]))}, 'animals/bbb222.png')
`);
  fs.writeFileSync(
    path.join(root, 'meta_data.json'),
    JSON.stringify({ aaa111: { category: 'people', prompt: 'a portrait, golden hour' }, bbb222: { category: 'animals', prompt: 'a cat on a sofa' } }),
  );
  // Hugging Face layout: image struct {bytes, path} and a caption column
  await parquet(
    `COPY (SELECT {'bytes': content, 'path': parse_filename(filename)} AS image, 'parquet caption ' || parse_filename(filename) AS caption, 7 AS score FROM read_blob('${src}/img-0[67].png') ORDER BY filename) TO '${path.join(root, 'train.parquet')}' (FORMAT parquet)`,
  );
});

test('a root of shards, zips and Parquet files: every image inside is indexed under <archive>/<member>; tokens equal the same files', async () => {
  const res = await buildDatabase({ root, model, workers: 1 });
  assert.deepEqual(res.skipped, []);
  const db = PatchDatabase.open(res.db)!;
  const ids = db.manifest.images.map((i) => i.path);
  assert.deepEqual(ids, [
    'mjhq.zip/animals/bbb222.png',
    'mjhq.zip/people/aaa111.png',
    'shards/00000.tar/img-00.png',
    'shards/00000.tar/img-01.png',
    'shards/00000.tar/img-02.png',
    'shards/00001.tgz/img-03.png',
    'train.parquet/img-06.png',
    'train.parquet/img-07.png',
  ]);
  // the CLI takes <root>/<id> and prints the id; without a database it names the member from its archive on
  const cli = (...a: string[]) =>
    JSON.parse(run(process.execPath, [path.join(repo, 'bin', 'patchlens.js'), ...a, '--json'])) as {
      image: string;
      tokens: number[][];
      results?: { image: string; caption?: string }[];
    };
  const viaDb = cli('tokens', path.join(root, 'shards', '00000.tar', 'img-01.png'));
  assert.equal(viaDb.image, 'shards/00000.tar/img-01.png');
  const noDb = cli('tokens', path.join(root, 'shards', '00000.tar', 'img-01.png'), '--model', model);
  assert.equal(noDb.image, '00000.tar/img-01.png');
  assert.deepEqual(noDb.tokens, viaDb.tokens);
  const hits = cli('query', path.join(root, 'mjhq.zip', 'people', 'aaa111.png'), '--at', '2,2', '--k', '20');
  assert.ok(
    hits.results!.every((h) => ids.includes(h.image)),
    JSON.stringify(hits.results),
  );
  for (const h of hits.results!)
    if (h.image.startsWith('shards/00000.tar/')) assert.equal(h.caption, `a photo of sample ${path.posix.basename(h.image, '.png')}`);
  assert.equal(hits.results!.find((h) => h.image === 'mjhq.zip/people/aaa111.png')?.caption ?? 'a portrait, golden hour', 'a portrait, golden hour');
  const ref = PatchDatabase.open((await buildDatabase({ root: plain, model, workers: 1 })).db)!;
  const same: Record<string, string> = { 'mjhq.zip/people/aaa111.png': names[4], 'mjhq.zip/animals/bbb222.png': names[5] };
  for (const id of ids) {
    const file = same[id] ?? path.basename(id);
    assert.deepEqual(Array.from(db.record(db.imageIndex.get(id)!).tokens), Array.from(ref.record(ref.imageIndex.get(file)!).tokens), id);
  }
  // the member index is kept with the database; an unchanged dataset is up to date without listing again
  const kept = fs.readdirSync(sourcesDir(res.db));
  assert.equal(kept.length, 4);
  const stamps = kept.map((f) => fs.statSync(path.join(sourcesDir(res.db), f)).mtimeMs);
  const again = await buildDatabase({ root, model, workers: 1 });
  assert.equal(again.upToDate, true);
  assert.deepEqual(
    kept.map((f) => fs.statSync(path.join(sourcesDir(res.db), f)).mtimeMs),
    stamps,
  );
});

test('captions: WebDataset .txt/.json siblings, Parquet text columns, MJHQ-30K meta_data.json joined by name', async () => {
  const db = PatchDatabase.open(path.join(root, '.patchlens'))!;
  const r = new PatchRetriever(db, root);
  const meta = await r.metadata('shards/00000.tar/img-01.png');
  assert.equal(meta?.caption, 'a photo of sample img-01');
  assert.equal(meta?.url, 'https://example.com/img-01.png');
  assert.equal(captionOf(await r.metadata('shards/00001.tgz/img-03.png')), 'a photo of sample img-03');
  assert.deepEqual(await r.metadata('train.parquet/img-07.png'), { caption: 'parquet caption img-07.png', score: '7' });
  assert.deepEqual(await r.metadata('mjhq.zip/people/aaa111.png'), { category: 'people', prompt: 'a portrait, golden hour' });
  assert.equal(captionOf(await r.metadata('mjhq.zip/animals/bbb222.png')), 'a cat on a sofa');
  // a member is read with its bytes intact
  assert.deepEqual(Buffer.from(await r.imageBytes('mjhq.zip/people/aaa111.png')), fs.readFileSync(path.join(src, names[4])));
  await r.catalog.close();
});

test('an appended member: only the changed archive is listed again and only the new member encoded', async () => {
  const tar = path.join(root, 'shards', '00000.tar');
  run('tar', ['--format=gnu', '-rf', tar, names[7]], src);
  const res = await buildDatabase({ root, model, workers: 1 });
  assert.deepEqual([res.added, res.updated, res.removed, res.unchanged], [1, 0, 0, 8]);
});

test("AR-RAG code shards: built without the encoder, tokens and latents exactly the file's; shapes that do not match the model are refused", async () => {
  const codes = path.join(work, 'codes');
  fs.mkdirSync(codes);
  py(`
import h5py, numpy as np
rng = np.random.default_rng(1)
with h5py.File(${JSON.stringify(path.join(codes, 'shard-0.h5'))}, 'w') as f:
    f.create_dataset('indices', data=rng.integers(0, 64, (5, 64)).astype(np.int64))
    v = rng.standard_normal((5, 64, 4)).astype(np.float32)
    f.create_dataset('vectors', data=v / np.linalg.norm(v, axis=-1, keepdims=True))
with h5py.File(${JSON.stringify(path.join(codes, 'janus.h5'))}, 'w') as f:
    f.create_dataset('indices', data=np.zeros((2, 576), np.int64))
    f.create_dataset('vectors', data=np.zeros((2, 576, 8), np.float32))
with h5py.File(${JSON.stringify(path.join(codes, 'other.h5'))}, 'w') as f:
    f.create_dataset('tokens', data=np.zeros((2, 64), np.int64))
`);
  // through the CLI bundle: h5wasm's 4 MB loader is slow to load from source under tsx
  const cli = spawnSync(process.execPath, [path.join(repo, 'bin', 'patchlens.js'), 'index', codes, '--model', model, '--json', '--quiet'], {
    encoding: 'utf8',
  });
  assert.equal(cli.status, 0, cli.stderr);
  const res = JSON.parse(cli.stdout) as { db: string; skipped: { path: string; error: string }[]; timings: { encodeMs: number; decodeMs: number } };
  assert.deepEqual([res.timings.encodeMs, res.timings.decodeMs], [0, 0]);
  assert.deepEqual(
    res.skipped.map((s) => s.path),
    ['janus.h5', 'other.h5'],
  );
  assert.match(res.skipped[0].error, /24x24 grids \(576 cells\) of d=8 latents; the model tiny-64-p8-d4-k64 makes 64 cells of d=4/);
  assert.match(res.skipped[1].error, /no dataset "indices" \(it has "tokens"\)/);
  const db = PatchDatabase.open(res.db)!;
  const want = JSON.parse(
    py(`
import h5py, json
f = h5py.File(${JSON.stringify(path.join(codes, 'shard-0.h5'))}, 'r')
print(json.dumps({'t': f['indices'][:].tolist(), 'v': f['vectors'][:].reshape(5, -1).tolist()}))
`),
  ) as { t: number[][]; v: number[][] };
  assert.deepEqual(
    db.manifest.images.map((i) => i.path),
    ['shard-0.h5/0', 'shard-0.h5/1', 'shard-0.h5/2', 'shard-0.h5/3', 'shard-0.h5/4'],
  );
  for (let row = 0; row < 5; row++) {
    const rec = db.record(db.imageIndex.get(`shard-0.h5/${row}`)!);
    assert.deepEqual(Array.from(rec.tokens), want.t[row]);
    assert.deepEqual(
      Array.from(rec.latents),
      Float32Array.from(want.v[row]).reduce<number[]>((a, x) => (a.push(x), a), []),
    );
  }
  const grid = await new PatchRetriever(db, codes).tokenGrid('shard-0.h5/3');
  assert.equal(grid.inDatabase, true);
  assert.deepEqual(Array.from(grid.tokens), want.t[3]);
  const tokens = spawnSync(process.execPath, [path.join(repo, 'bin', 'patchlens.js'), 'tokens', path.join(codes, 'shard-0.h5', '4'), '--json'], {
    encoding: 'utf8',
  });
  assert.equal(tokens.status, 0, tokens.stderr);
  assert.deepEqual((JSON.parse(tokens.stdout) as { tokens: number[][] }).tokens.flat(), want.t[4]);
  // no pixels: a row reads as its token map, each cell in its token's colour, at the size its cells are measured in
  const reader = new PathReader();
  const png = await reader.read(path.join(codes, 'shard-0.h5', '3'), { width: grid.width, height: grid.height });
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height], [grid.width, grid.height]);
  for (const [cell, rect] of grid.cells.entries()) {
    const x = Math.floor(rect.x + rect.width / 2);
    const y = Math.floor(rect.y + rect.height / 2);
    const at = (y * info.width + x) * info.channels;
    assert.deepEqual([data[at], data[at + 1], data[at + 2]], tokenRgb(want.t[3][cell]), `cell ${cell}`);
  }
  // the retrieved patches' thumbnails read the same map, at the size the database measures the row's cells in
  const thumb = await sharp(await new PatchRetriever(db, codes).imageBytes('shard-0.h5/3'))
    .raw()
    .toBuffer({ resolveWithObject: true });
  assert.deepEqual([thumb.info.width, thumb.info.height], [grid.width, grid.height]);
  assert.deepEqual(thumb.data.equals(data), true);
  // without a size: 16 px a cell
  assert.deepEqual([(await sharp(await reader.read(path.join(codes, 'shard-0.h5', '0'))).metadata()).width], [8 * 16]);
  await reader.close();
});

test('bad input: truncated and corrupt archives, non-image members, duplicates, hostile names, no image column, zip bombs; the rest indexed', async () => {
  const bad = path.join(work, 'bad');
  fs.mkdirSync(bad);
  // TarInfo keeps a name as given (add() would strip a leading '/')
  const tarOf = (file: string, members: [string, string][]) =>
    py(`
import tarfile
with tarfile.open(${JSON.stringify(file)}, 'w', format=tarfile.GNU_FORMAT) as t:
    for name, src in ${JSON.stringify(members)}:
        info = t.gettarinfo(src)
        info.name = name
        with open(src, 'rb') as f:
            t.addfile(info, f)
`);
  const p = (i: number) => path.join(src, names[i]);
  // truncated in the middle of its third member
  tarOf(path.join(work, 'full.tar'), [
    ['a.png', p(0)],
    ['b.png', p(1)],
    ['c.png', p(2)],
  ]);
  const full = fs.readFileSync(path.join(work, 'full.tar'));
  const cStart = full.indexOf(Buffer.from('c.png')) + 512;
  fs.writeFileSync(path.join(bad, 'cut.tar'), full.subarray(0, cStart + 100));
  // corrupt header of the second member
  const corrupt = Buffer.from(full);
  corrupt.fill(0x41, full.indexOf(Buffer.from('b.png')), full.indexOf(Buffer.from('b.png')) + 20);
  fs.writeFileSync(path.join(bad, 'corrupt.tar'), corrupt);
  fs.writeFileSync(path.join(work, 'notes.bin'), 'not an image');
  fs.writeFileSync(path.join(work, 'fake.png'), 'not a png either');
  tarOf(path.join(bad, 'odd.tar'), [
    ['ok.png', p(3)],
    ['ok.png', p(4)],
    ['notes.bin', path.join(work, 'notes.bin')],
    ['fake.png', path.join(work, 'fake.png')],
    ['../evil.png', p(5)],
    ['/abs.png', p(5)],
    ['ctl\u001b[31m.png', p(5)],
  ]);
  // a member whose header declares 100 bytes and inflates to 10 MB
  py(`
import zipfile, struct
path = ${JSON.stringify(path.join(bad, 'bomb.zip'))}
with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as z:
    z.write(${JSON.stringify(p(6))}, 'fine.png')
    z.writestr('bomb.png', b'\\0' * 10_000_000)
data = bytearray(open(path, 'rb').read())
for sig, off in ((b'PK\\x03\\x04', 22), (b'PK\\x01\\x02', 24)):
    i = data.find(sig, data.find(b'bomb.png') - 50 if sig == b'PK\\x03\\x04' else 0)
    while i >= 0:
        n = struct.unpack_from('<H', data, i + (26 if sig == b'PK\\x03\\x04' else 28))[0]
        name = data[i + (30 if sig == b'PK\\x03\\x04' else 46): i + (30 if sig == b'PK\\x03\\x04' else 46) + n]
        if name == b'bomb.png':
            struct.pack_into('<I', data, i + off, 100)
        i = data.find(sig, i + 4)
open(path, 'wb').write(bytes(data))
`);
  await parquet(`COPY (SELECT 'just text' AS caption, 3 AS n) TO '${path.join(bad, 'text.parquet')}' (FORMAT parquet)`);
  fs.writeFileSync(path.join(bad, 'garbage.zip'), 'PK this is no zip at all');
  fs.copyFileSync(p(7), path.join(bad, 'loose.png'));

  const res = await buildDatabase({ root: bad, model, workers: 1, maxMemberBytes: 1_000_000 });
  const db = PatchDatabase.open(res.db)!;
  assert.deepEqual(
    db.manifest.images.map((i) => i.path),
    ['bomb.zip/fine.png', 'corrupt.tar/a.png', 'cut.tar/a.png', 'cut.tar/b.png', 'loose.png', 'odd.tar/ok.png'],
  );
  const why = new Map(res.skipped.map((s) => [s.path, s.error]));
  assert.match(why.get('cut.tar')!, /ends inside member "c.png".*the members before it are indexed/);
  assert.match(why.get('corrupt.tar')!, /corrupt tar header at byte \d+ \(checksum mismatch\); the members before it are indexed/);
  assert.match(why.get('odd.tar/ok.png')!, /duplicate member name/);
  assert.match(why.get('odd.tar/notes.bin')!, /not an image or metadata member/);
  assert.match(why.get('odd.tar/fake.png')!, /not a readable image/);
  assert.match(why.get('odd.tar/../evil.png')!, /leaves the archive/);
  assert.match(why.get('odd.tar//abs.png')!, /absolute path/);
  assert.match(why.get('odd.tar/ctl\u001b[31m.png')!, /control characters/);
  assert.match(why.get('bomb.zip/bomb.png')!, /inflates to more than its declared 100 bytes/);
  assert.match(why.get('text.parquet')!, /has no image column .*columns: caption, n/);
  assert.match(why.get('garbage.zip')!, /not a readable zip archive/);
  // a huge member is refused from its size, before it is read
  const big = await buildDatabase({ root: bad, model, workers: 1, maxMemberBytes: 10_000 });
  assert.match(new Map(big.skipped.map((s) => [s.path, s.error])).get('bomb.zip/fine.png') ?? JSON.stringify(big.skipped), /over the member limit of/);
  // the catalog never resolves a member name as a path
  const cat = new DatasetCatalog(bad);
  assert.equal(await cat.resolve('odd.tar/../loose.png'), undefined);
  assert.equal(await cat.resolve('../root/meta_data.json'), undefined);
  await cat.close();
});

test('a zip member with damaged data and a member over the pixel limit: each reported by its id, the rest of the archive indexed', async () => {
  const dir = path.join(work, 'members');
  fs.mkdirSync(dir);
  const p = (i: number) => path.join(src, names[i]);
  // Python's zipfile; then the middle of broken.png's bytes overwritten (its headers intact). It is stored, not
  // deflated, so no inflate error can catch the damage: only the archive's CRC-32 tells
  py(`
import zipfile
path = ${JSON.stringify(path.join(dir, 'z.zip'))}
with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as z:
    z.write(${JSON.stringify(p(0))}, 'good.png')
    z.write(${JSON.stringify(p(1))}, 'broken.png', compress_type=zipfile.ZIP_STORED)
    z.write(${JSON.stringify(p(2))}, 'after.png')
with zipfile.ZipFile(path) as z:
    info = z.getinfo('broken.png')
data = bytearray(open(path, 'rb').read())
start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
mid = start + info.compress_size // 2
data[mid:mid + 64] = bytes(range(64))
open(path, 'wb').write(bytes(data))
`);
  // 200x200: over a 20,000-pixel limit (the fixtures are at most 128x104); refused from its header
  await sharp({ create: { width: 200, height: 200, channels: 3, background: '#3a6' } })
    .png()
    .toFile(path.join(work, 'huge.png'));
  run('tar', ['--format=gnu', '-cf', path.join(dir, 'px.tar'), '-C', work, 'huge.png', '-C', src, names[3]]);
  const res = await buildDatabase({ root: dir, model, workers: 1, maxPixels: 20_000 });
  const db = PatchDatabase.open(res.db)!;
  assert.deepEqual(
    db.manifest.images.map((i) => i.path),
    [`px.tar/${names[3]}`, 'z.zip/after.png', 'z.zip/good.png'],
  );
  const why = new Map(res.skipped.map((s) => [s.path, s.error]));
  assert.deepEqual([...why.keys()].sort(), ['px.tar/huge.png', 'z.zip/broken.png'], JSON.stringify(res.skipped));
  assert.match(
    why.get('z.zip/broken.png')!,
    /^cannot read the member: broken\.png is damaged: its bytes do not match the archive's CRC-32 \([0-9a-f]{8}, read [0-9a-f]{8}\); not read$/,
  );
  assert.match(why.get('px.tar/huge.png')!, /image is 200×200 = .*, over the limit of .* \(maxImagePixels\)/);
});

test('a WebDataset sample with two images (one key, .jpg and .png): the preferred one is indexed with the caption, the other reported', async () => {
  const dir = path.join(work, 'dupkeys');
  const staging = path.join(work, 'dupkeys-src');
  fs.mkdirSync(dir);
  fs.mkdirSync(staging);
  fs.copyFileSync(path.join(src, names[4]), path.join(staging, 'k.png'));
  await sharp(path.join(src, names[5])).jpeg().toFile(path.join(staging, 'k.jpg'));
  fs.writeFileSync(path.join(staging, 'k.txt'), 'the one caption\n');
  fs.copyFileSync(path.join(src, names[6]), path.join(staging, 'other.png'));
  run('tar', ['--format=gnu', '-cf', path.join(dir, 'dup.tar'), 'k.jpg', 'k.png', 'k.txt', 'other.png'], staging);
  const res = await buildDatabase({ root: dir, model, workers: 1 });
  const db = PatchDatabase.open(res.db)!;
  const indexed = db.manifest.images.map((i) => i.path);
  // png comes before jpg in the image types' order of preference (src/core/vocabulary.ts)
  assert.deepEqual(indexed, ['dup.tar/k.png', 'dup.tar/other.png']);
  assert.deepEqual(res.skipped, [{ path: 'dup.tar/k.jpg', error: 'sample "k" has another image member (k.png is indexed)' }]);
  assert.equal(captionOf(await new PatchRetriever(db, dir).metadata('dup.tar/k.png')), 'the one caption');
});

test('the Datasets view pages a big GNU tar shard: folders first, a page at a time, filtered by include/exclude, sorted once', async () => {
  const dir = path.join(work, 'paged-src');
  fs.mkdirSync(path.join(dir, 'imgs'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'b'));
  const png = fs.readFileSync(path.join(src, names[0]));
  const members: string[] = [];
  for (let i = 0; i < 230; i++) members.push(`imgs/${String(i).padStart(4, '0')}.png`);
  members.push('b/x.png', 'b/y.png', 'top-1.png', 'top-0.png', 'top-0.txt');
  for (const m of members) fs.writeFileSync(path.join(dir, m), m.endsWith('.txt') ? 'a caption\n' : png);
  const pagedRoot = path.join(work, 'paged');
  fs.mkdirSync(pagedRoot);
  // members in a shuffled order: the listing sorts them
  run('tar', ['--format=gnu', '-cf', path.join(pagedRoot, 'big.tar'), ...[...members].reverse()], dir);
  const cat = new DatasetCatalog(pagedRoot);
  const top = await archivePage(cat, 'big.tar', '', { offset: 0, limit: 3 });
  assert.equal(top.total, 4);
  assert.equal(top.images, 234);
  assert.deepEqual(
    top.entries.map((e) => [e.name, e.folder, e.images]),
    [
      ['b', true, 2],
      ['imgs', true, 230],
      ['top-0.png', false, 1],
    ],
  );
  assert.equal(top.entries[2].bytes, png.length);
  const second = await archivePage(cat, 'big.tar', 'imgs', { offset: 100, limit: 100 });
  assert.equal(second.total, 230);
  assert.deepEqual([second.entries.length, second.entries[0].name, second.entries[99].name], [100, '0100.png', '0199.png']);
  const last = await archivePage(cat, 'big.tar', 'imgs', { offset: 200, limit: 100 });
  assert.deepEqual([last.entries.length, last.entries.at(-1)!.name], [30, '0229.png']);
  const idx = await cat.index('big.tar');
  assert.equal(levelOf(idx, 'imgs'), levelOf(idx, 'imgs'), 'a level is listed and sorted once, then paged');
  // member ids are filtered by the dataset's globs
  const only = await archivePage(cat, 'big.tar', '', { offset: 0, limit: 100, exclude: ['big.tar/imgs/**'], include: ['**/*.png'] });
  assert.deepEqual(
    only.entries.map((e) => e.name),
    ['b', 'top-0.png', 'top-1.png'],
  );
  // the file system provider's directory listing is the same level, whole
  const reader = new PathReader();
  assert.deepEqual(
    (await reader.entries(path.join(pagedRoot, 'big.tar', 'b'))).map((e) => `${e.type}:${e.name}`),
    ['file:x.png', 'file:y.png'],
  );
  await reader.close();
  // an unreadable archive says why
  fs.writeFileSync(path.join(pagedRoot, 'junk.tar'), 'not a tar at all'.repeat(64));
  const junk = await archivePage(cat, 'junk.tar', '', { offset: 0, limit: 10 });
  assert.deepEqual([junk.total, junk.entries.length], [0, 0]);
  assert.match(junk.error ?? '', /tar/);
  await cat.close();
});
