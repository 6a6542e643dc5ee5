// Hostile datasets, indexed with the CLI as a user would: every file is either
// indexed correctly or listed in `skipped` with its own reason, the run exits 0,
// file names are data (never markup or shell), nothing outside the dataset is
// read through symlinks, and an image whose header claims billions of pixels is
// refused from the header alone.

import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import sharp from 'sharp';
import { decodeForModel, ImageDecodeError } from '../../src/engine/imageDecoder';
import { shown } from '../../src/cli/main';
import { PatchDatabase } from '../../src/engine/database';
import { writeTinyModel } from '../support/tinyModel';
import { tempDir, texturedImage } from '../support/fixtures';
import { buildCli, cli, findNamed, repo } from './helpers';

const work = tempDir('patchlens-faults-hostile-');
const root = path.join(work, 'data');
const outside = path.join(work, 'outside');
let model = '';

/** Names that look like markup, shell, quoting, escapes and other scripts. */
const NAMES = [
  '<img src=x onerror=alert(1)>.png',
  '$(touch pwned).png',
  '`touch pwned`.png',
  '; touch pwned; .png',
  `it's "quoted" & <b onmouseover=alert(2)>bold.png`,
  'café ☕ 写真 مرحبا.png',
  '  spaces  .png',
  'new\nline.png',
  'esc\x1b[31mred\x1b]0;title\x07.png',
  'rtl\u202egnp.exe.png',
  '-rf.png',
];

/** A PNG whose IHDR claims width x height (CRC fixed so the header is valid), followed by a few real bytes. */
function pngClaiming(png: Buffer, width: number, height: number): Buffer {
  const b = Buffer.from(png);
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  b.writeUInt32BE(zlib.crc32(b.subarray(12, 29)), 29);
  return b;
}

let base: Buffer;

before(async () => {
  buildCli();
  model = writeTinyModel(path.join(work, 'model'), { size: 64, patch: 8, dim: 4, codes: 64 });
  fs.mkdirSync(root, { recursive: true });
  fs.mkdirSync(outside, { recursive: true });
  const w = (n: string, b: Uint8Array | string) => fs.writeFileSync(path.join(root, n), b);
  base = await (await texturedImage(96, 64, 7)).png().toBuffer();
  const img = async (wd: number, ht: number, seed: number) => texturedImage(wd, ht, seed);

  // broken files
  w('empty.png', '');
  w('truncated.png', base.subarray(0, base.length >> 1));
  const corrupt = Buffer.from(base);
  for (let i = 200; i < corrupt.length - 20; i += 5) corrupt[i] ^= 0xa5;
  w('corrupt.png', corrupt);
  w('random.jpg', Buffer.from(Array.from({ length: 4096 }, (_, i) => (Math.imul(i + 1, 2654435761) >>> 13) & 0xff)));
  w('text.webp', 'this is not an image\n');
  w('vector.png', '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="64"><rect width="96" height="64" fill="red"/></svg>');
  w('huge.png', pngClaiming(base, 100_000, 100_000));
  w('wide-header.png', pngClaiming(base, 2 ** 31 - 1, 1));
  // unusual but valid images
  w('png-named.jpg', base); // wrong extension
  w('sixteen.png', await (await img(80, 70, 8)).toColourspace('rgb16').png().toBuffer());
  w('cmyk.jpg', await (await img(80, 70, 9)).jpeg().toColourspace('cmyk').toBuffer());
  w('grey.png', await (await img(80, 70, 10)).greyscale().png().toBuffer());
  w('alpha.png', await (await img(80, 70, 11)).ensureAlpha(0.3).png().toBuffer());
  const frames = await Promise.all([1, 2, 3].map(async (s) => (await img(40, 30, 100 + s)).raw().toBuffer()));
  w(
    'animated.gif',
    await sharp(Buffer.concat(frames), { raw: { width: 40, height: 90, channels: 3, pageHeight: 30 } })
      .gif({ loop: 0 })
      .toBuffer(),
  );
  w('exif-rotated.jpg', await (await img(120, 60, 12)).jpeg().withMetadata({ orientation: 6 }).toBuffer());
  w(
    'one-pixel.png',
    await sharp({ create: { width: 1, height: 1, channels: 3, background: '#c04020' } })
      .png()
      .toBuffer(),
  );
  w('thin.png', await (await img(10_000, 1, 13)).png().toBuffer());
  w('tall.png', await (await img(1, 10_000, 14)).png().toBuffer());
  // names
  for (const n of NAMES) w(n, base);
  // bytes that are not UTF-8 (Linux allows any bytes but '/' and NUL): Node sees U+FFFD and cannot open it
  fs.writeFileSync(Buffer.concat([Buffer.from(root + '/latin1-'), Buffer.from([0xe9, 0xff]), Buffer.from('.png')]), base);
  // symlinks
  fs.writeFileSync(path.join(outside, 'secret.png'), base);
  fs.symlinkSync(path.join(outside, 'secret.png'), path.join(root, 'link-out.png'));
  fs.symlinkSync(outside, path.join(root, 'dir-out'));
  fs.symlinkSync('loop.png', path.join(root, 'loop.png'));
  fs.symlinkSync('nowhere.png', path.join(root, 'dangling.png'));
  fs.mkdirSync(path.join(root, 'sub'));
  fs.symlinkSync('..', path.join(root, 'sub', 'up'));
  fs.symlinkSync('../png-named.jpg', path.join(root, 'sub', 'inside-link.png'));
});

test('a hostile dataset: every file indexed or skipped with its reason, exit 0, names kept verbatim, nothing executed', async () => {
  const r = cli(['index', root, '--model', model, '--json', '--batch', '4'], { cwd: work });
  assert.equal(r.code, 0, r.stderr);
  const res = r.json();
  const skipped = new Map<string, string>(res.skipped.map((s: { path: string; error: string }) => [s.path, s.error]));
  const expectSkip: Record<string, RegExp> = {
    'empty.png': /^file is empty$/,
    'truncated.png': /^cannot decode png image/,
    'corrupt.png': /^(cannot decode png image|not a readable image)/,
    'random.jpg': /^not a readable image/,
    'text.webp': /^not a readable image/,
    'vector.png': /^unsupported image format svg/,
    'huge.png': /^image is 100000×100000 = 10,000\.0 MP, over the limit of 100\.0 MP/,
    'wide-header.png': /over the limit|not a readable image/,
    'link-out.png': /^symlink points outside the dataset root$/,
    'dir-out': /^symlink points outside the dataset root$/,
    'loop.png': /^symlink loop$/,
    'dangling.png': /^broken symlink$/,
    'latin1-\ufffd\ufffd.png': /^file name is not valid UTF-8; rename the file$/,
  };
  assert.deepEqual([...skipped.keys()].sort(), Object.keys(expectSkip).sort(), JSON.stringify(res.skipped, null, 1));
  for (const [p, re] of Object.entries(expectSkip)) assert.match(skipped.get(p)!, re, p);

  const db = JSON.parse(fs.readFileSync(path.join(root, '.patchlens', 'manifest.json'), 'utf8'));
  const byPath = new Map<string, { width: number; height: number; format: string }>(db.images.map((i: { path: string }) => [i.path, i]));
  const size = (p: string) => {
    const i = byPath.get(p);
    assert.ok(i, `${p} is indexed`);
    return [i.width, i.height, i.format];
  };
  assert.deepEqual(size('exif-rotated.jpg'), [60, 120, 'jpeg'], 'EXIF orientation 6: the displayed (rotated) size');
  assert.deepEqual(size('animated.gif'), [40, 30, 'gif'], 'the first frame of an animation');
  assert.deepEqual(size('png-named.jpg'), [96, 64, 'png'], 'the content decides the format, not the extension');
  assert.deepEqual(size('sixteen.png'), [80, 70, 'png']);
  assert.deepEqual(size('cmyk.jpg'), [80, 70, 'jpeg']);
  assert.deepEqual(size('grey.png'), [80, 70, 'png']);
  assert.deepEqual(size('alpha.png'), [80, 70, 'png']);
  assert.deepEqual(size('one-pixel.png'), [1, 1, 'png']);
  assert.deepEqual(size('thin.png'), [10_000, 1, 'png']);
  assert.deepEqual(size('tall.png'), [1, 10_000, 'png']);
  assert.deepEqual(size('sub/inside-link.png'), [96, 64, 'png'], 'a symlink that stays inside the root is followed');
  for (const n of NAMES) assert.deepEqual(size(n), [96, 64, 'png'], JSON.stringify(n));
  assert.equal(res.images, byPath.size);
  assert.equal(res.images, 11 + NAMES.length);
  assert.ok(![...byPath.keys()].some((p) => p.startsWith('sub/up')), 'the loop through sub/up is not walked again');

  // unusual images produce real tokens (and not one flat token: their content made it through)
  const opened = PatchDatabase.open(path.join(root, '.patchlens'))!;
  for (const p of ['sixteen.png', 'cmyk.jpg', 'grey.png', 'alpha.png', 'animated.gif', 'exif-rotated.jpg', 'thin.png', 'tall.png']) {
    const tokens = Array.from(opened.record(opened.imageIndex.get(p)!).tokens);
    assert.equal(tokens.length, 64);
    assert.ok(
      tokens.every((x) => Number.isInteger(x) && x >= 0 && x < 64),
      p,
    );
    if (p !== 'thin.png' && p !== 'tall.png') assert.ok(new Set(tokens).size > 2, `${p}: ${new Set(tokens).size} distinct tokens`);
  }
  const t = cli(['tokens', path.join(root, 'cmyk.jpg'), '--json']);
  assert.equal(t.code, 0, t.stderr);
  assert.deepEqual(t.json().tokens.flat(), Array.from(opened.record(opened.imageIndex.get('cmyk.jpg')!).tokens));
  // a hostile name is addressable as data
  const q = cli(['query', path.join(root, NAMES[0]), '--at', '3,3', '--exact', '--json']);
  assert.equal(q.code, 0, q.stderr);
  assert.equal(q.json().query.image, NAMES[0]);

  // nothing was executed or created
  for (const dir of [work, repo, process.cwd()]) assert.deepEqual(findNamed(dir, 'pwned'), [], `no 'pwned' under ${dir}`);
  // nothing outside the root was read into the database
  assert.ok(!db.images.some((i: { path: string }) => i.path.includes('secret') || i.path.startsWith('dir-out')));

  // the next run is up to date and reports the same failures again without retrying them
  const again = cli(['index', root, '--model', model, '--json'], { cwd: work });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.json().upToDate, true);
  assert.deepEqual(new Set(again.json().skipped.map((s: { path: string }) => s.path)), new Set(skipped.keys()));
  assert.doesNotMatch(again.stderr, /encoded/, 'nothing re-encoded');
});

test('human-readable output shows control characters in names as escapes, never raw', () => {
  const r = cli(['index', root, '--model', model], { cwd: work });
  assert.equal(r.code, 0, r.stderr);
  for (const out of [r.stdout, r.stderr]) {
    assert.doesNotMatch(out, /[\x00-\x08\x0b-\x1f\x7f\u202e]/, 'no raw control characters or bidi overrides');
  }
  const q = cli(['query', path.join(root, NAMES[8]), '--at', '2,2', '--k', '3']);
  assert.equal(q.code, 0, q.stderr);
  assert.ok(q.stdout.startsWith('esc\\x1b[31mred\\x1b]0;title\\x07.png (2, 2)'), q.stdout);
  assert.equal(shown('new\nline.png'), 'new\\x0aline.png');
  assert.equal(shown('rtl\u202egnp.exe.png'), 'rtl\\u202egnp.exe.png');
  assert.equal(shown('café ☕ 写真'), 'café ☕ 写真', 'printable unicode is left alone');
});

test('an image claiming 100000 x 100000 pixels is refused from its header: fast, with bounded memory', async () => {
  const input = {
    width: 64,
    height: 64,
    resize: 'crop' as const,
    padColor: [0, 0, 0] as [number, number, number],
    channels: 'RGB' as const,
    layout: 'NCHW' as const,
    mean: [0.5, 0.5, 0.5] as [number, number, number],
    std: [0.5, 0.5, 0.5] as [number, number, number],
  };
  const huge = pngClaiming(base, 100_000, 100_000);
  const before = process.memoryUsage().rss;
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) {
    await assert.rejects(decodeForModel(huge, input), (e: unknown) => e instanceof ImageDecodeError && /over the limit/.test(e.message));
  }
  const ms = (performance.now() - t0) / 20;
  const grown = process.memoryUsage().rss - before;
  // decoding 10^10 RGB pixels would need 30 GB; refusing from the header needs next to nothing
  assert.ok(grown < 64 * 2 ** 20, `rss grew by ${(grown / 2 ** 20).toFixed(1)} MiB`);
  assert.ok(ms < 500, `${ms.toFixed(1)} ms per refusal`);
  // and the limit is the user's: a real 2000 x 1500 image is refused under --max-pixels 1000000
  const dir = path.join(work, 'limit');
  fs.mkdirSync(dir);
  await (await texturedImage(2000, 1500, 3)).jpeg().toFile(path.join(dir, 'big.jpg'));
  const r = cli(['index', dir, '--model', model, '--json', '--max-pixels', '1000000']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.json().skipped, [{ path: 'big.jpg', error: 'image is 2000×1500 = 3.0 MP, over the limit of 1.0 MP (maxImagePixels)' }]);
});
