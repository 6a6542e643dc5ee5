import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import sharp from 'sharp';
import * as bmp from 'bmp-ts';
import { decodeForModel, ImageDecodeError, isSupportedImage, writeInputTensor } from '../../src/engine/imageDecoder';
import type { ModelInput } from '../../src/core/modelManifest';
import { IMAGE_TYPES } from '../../src/core/vocabulary';
import { texturedImage } from '../support/fixtures';

const input: ModelInput = {
  width: 32,
  height: 32,
  resize: 'crop',
  padColor: [0, 0, 0],
  channels: 'RGB',
  layout: 'NCHW',
  mean: [0.5, 0.5, 0.5],
  std: [0.5, 0.5, 0.5],
};
const solid = (w: number, h: number, c: { r: number; g: number; b: number; alpha?: number }, channels: 3 | 4 = 3) =>
  sharp({ create: { width: w, height: h, channels, background: c } });
const px = (rgb: Uint8Array, x: number, y: number, w = 32) => Array.from(rgb.subarray((y * w + x) * 3, (y * w + x) * 3 + 3));

test('every supported format decodes to the model input size', async () => {
  // 32x32 = the input size, so no resampling: lossless formats must match exactly
  // (when resizing, libvips may shrink JPEG/WebP while loading, a slightly different filter).
  const base = await texturedImage(32, 32, 3);
  const raw = await base.clone().raw().toBuffer({ resolveWithObject: true });
  const files: Record<string, Buffer> = {
    png: await base.clone().png().toBuffer(),
    jpeg: await base.clone().jpeg().toBuffer(),
    webp: await base.clone().webp({ lossless: true }).toBuffer(),
    gif: await base.clone().gif().toBuffer(),
    tiff: await base.clone().tiff({ compression: 'lzw' }).toBuffer(),
    avif: await base.clone().avif().toBuffer(),
  };
  // BMP through bmp-ts (libvips cannot read BMP): 24-bit, stored as ABGR
  const abgr = Buffer.alloc(32 * 32 * 4);
  for (let i = 0; i < 32 * 32; i++) {
    abgr[i * 4] = 255;
    abgr[i * 4 + 1] = raw.data[i * 3 + 2];
    abgr[i * 4 + 2] = raw.data[i * 3 + 1];
    abgr[i * 4 + 3] = raw.data[i * 3];
  }
  files.bmp = bmp.encode({ width: 32, height: 32, data: abgr, bitPP: 24 }).data;
  // one sample per MIME type of the vocabulary: a type is listed only once the engine decodes it
  for (const { mime } of Object.values(IMAGE_TYPES))
    assert.ok(files[mime.slice('image/'.length)], `IMAGE_TYPES lists ${mime}: add a sample of it to this test (the engine must decode every type it lists)`);
  const ref = await decodeForModel(files.png, input);
  for (const [fmt, bytes] of Object.entries(files)) {
    const d = await decodeForModel(bytes, input);
    assert.equal(d.rgb.length, 32 * 32 * 3, fmt);
    assert.deepEqual([d.width, d.height], [32, 32], fmt);
    if (fmt === 'bmp' || fmt === 'tiff' || fmt === 'webp') {
      // lossless ones: identical pixels to the PNG
      let diff = 0;
      for (let i = 0; i < d.rgb.length; i++) diff = Math.max(diff, Math.abs(d.rgb[i] - ref.rgb[i]));
      assert.equal(diff, 0, `${fmt} differs from png by ${diff}`);
    }
  }
  assert.ok(isSupportedImage('A.JPG') && isSupportedImage('x.tiff') && !isSupportedImage('notes.txt'));
});

test('EXIF orientation is applied before fitting', async () => {
  // 40x20: left half red, right half blue; orientation 6 = rotate 90° clockwise to display
  const left = await solid(20, 20, { r: 255, g: 0, b: 0 }).png().toBuffer();
  const img = await solid(40, 20, { r: 0, g: 0, b: 255 })
    .composite([{ input: left, left: 0, top: 0 }])
    .jpeg({ quality: 100 })
    .withMetadata({ orientation: 6 })
    .toBuffer();
  const d = await decodeForModel(img, { ...input, resize: 'stretch' });
  assert.deepEqual([d.width, d.height], [20, 40], 'displayed size');
  const top = px(d.rgb, 16, 2);
  const bottom = px(d.rgb, 16, 29);
  assert.ok(top[0] > 200 && top[2] < 60, `red on top after rotation, got ${top}`);
  assert.ok(bottom[2] > 200 && bottom[0] < 60, `blue at the bottom, got ${bottom}`);
});

test('greyscale, 16-bit, CMYK and alpha all become 8-bit sRGB', async () => {
  const grey = await solid(16, 16, { r: 128, g: 128, b: 128 }).greyscale().png().toBuffer();
  const g16 = await solid(16, 16, { r: 200, g: 100, b: 50 }).png({ compressionLevel: 1 }).toColourspace('rgb16').toBuffer();
  const cmyk = await solid(16, 16, { r: 120, g: 140, b: 160 }).jpeg({ quality: 100 }).toColourspace('cmyk').toBuffer();
  const alpha = await solid(16, 16, { r: 10, g: 200, b: 30, alpha: 0.5 }, 4).png().toBuffer();
  assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
  assert.equal((await sharp(g16).metadata()).depth, 'ushort');
  for (const [name, bytes, expect] of [
    ['grey', grey, [128, 128, 128]],
    ['16-bit', g16, [200, 100, 50]],
    ['cmyk', cmyk, [120, 140, 160]],
    ['alpha', alpha, [10, 200, 30]],
  ] as const) {
    const d = await decodeForModel(bytes, input);
    const p = px(d.rgb, 10, 10);
    // CMYK goes through a colour profile round trip: close, not exact
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(p[c] - expect[c]) <= (name === 'cmyk' ? 25 : 2), `${name}: ${p} vs ${expect}`);
  }
});

test('pad puts the image in the middle on the pad colour', async () => {
  const img = await solid(64, 16, { r: 255, g: 255, b: 255 }).png().toBuffer();
  const d = await decodeForModel(img, { ...input, resize: 'pad', padColor: [0, 0, 255] });
  assert.deepEqual(px(d.rgb, 16, 1), [0, 0, 255]);
  assert.deepEqual(px(d.rgb, 16, 16), [255, 255, 255]);
  assert.equal(d.plan.offsetY, 12);
});

test('bad input fails with a reason; oversize images are refused from the header', async () => {
  await assert.rejects(decodeForModel(Buffer.alloc(0), input), /empty/);
  await assert.rejects(
    decodeForModel(Buffer.from('definitely not an image'), input),
    (e) => e instanceof ImageDecodeError && /not a readable image/.test(e.message),
  );
  const png = await (await texturedImage(64, 64, 1)).png().toBuffer();
  await assert.rejects(decodeForModel(png.subarray(0, png.length / 2), input), ImageDecodeError);
  await assert.rejects(decodeForModel(png, input, 64 * 63), /64×64 = 4,096 px, over the limit of 4,032 px/);
  // a BMP header claiming 100000 x 100000 pixels is refused without decoding
  const bmpHeader = Buffer.alloc(64);
  bmpHeader.write('BM', 0, 'latin1');
  bmpHeader.writeInt32LE(100000, 18);
  bmpHeader.writeInt32LE(100000, 22);
  await assert.rejects(decodeForModel(bmpHeader, input), /over the limit/);
});

test('pixels are normalised per channel into NCHW or NHWC, RGB or BGR', () => {
  const rgb = new Uint8Array([255, 0, 51, 0, 255, 102]); // two pixels
  const one: ModelInput = { ...input, width: 2, height: 1, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
  const nchw = new Float32Array(6);
  writeInputTensor(rgb, one, nchw, 0);
  const r = (v: number) => Math.round(v * 1000) / 1000;
  assert.deepEqual(Array.from(nchw).map(r), [1, -1, -1, 1, -0.6, -0.2]);
  const nhwc = new Float32Array(12);
  writeInputTensor(rgb, { ...one, layout: 'NHWC', channels: 'BGR', mean: [0, 0, 0], std: [1, 1, 1] }, nhwc, 1);
  assert.deepEqual(Array.from(nhwc.subarray(6)).map(r), [0.2, 0, 1, 0.4, 1, 0]);
});
