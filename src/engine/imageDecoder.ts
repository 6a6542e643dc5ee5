// Decodes an image file into the model's input pixels with sharp: EXIF
// orientation applied, any colour space / bit depth / alpha reduced to 8-bit
// sRGB, fitted per the manifest's resize mode. BMP (which libvips cannot read)
// goes through bmp-ts first. Images above the pixel limit are refused from
// their header, before any pixel is decoded.

import { formatCount, formatMean } from '../core/format';
import sharp from 'sharp';
import * as bmp from 'bmp-ts';
import type { ModelInput } from '../core/modelManifest';
import { planResize, type ResizePlan } from '../core/geometry';

export { SUPPORTED_EXTENSIONS, isSupportedImage } from '../core/imageTypes';

export const DEFAULT_MAX_PIXELS = 100_000_000;

/**
 * What libvips may decode, whatever the file is called (AVIF reports as heif).
 * Anything else it can sniff (SVG, PDF, libvips' own formats...) is refused: an
 * SVG renamed .png would otherwise go to librsvg.
 */
const DECODABLE_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif']);

export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
}

export interface DecodedImage {
  /** Oriented size of the source image. */
  readonly width: number;
  readonly height: number;
  readonly format: string;
  readonly plan: ResizePlan;
  /** Model-input pixels, 8-bit RGB, row-major, targetWidth x targetHeight x 3. */
  readonly rgb: Uint8Array;
}

// sharp's own thread pool does the pixel work; one libvips cache per process is plenty.
sharp.cache(false);

function isBmp(bytes: Uint8Array): boolean {
  return bytes.length >= 26 && bytes[0] === 0x42 && bytes[1] === 0x4d;
}

function formatPixels(n: number): string {
  return n >= 1e6 ? `${formatMean(n / 1e6)} MP` : `${formatCount(n)} px`;
}

function checkPixels(width: number, height: number, maxPixels: number): void {
  if (!(width > 0 && height > 0)) throw new ImageDecodeError(`image has no pixels (${width}×${height})`);
  if (width * height > maxPixels) {
    throw new ImageDecodeError(`image is ${width}×${height} = ${formatPixels(width * height)}, over the limit of ${formatPixels(maxPixels)} (maxImagePixels)`);
  }
}

/** A sharp pipeline for the file's bytes, BMP converted to raw RGBA first. */
async function openImage(bytes: Uint8Array, maxPixels: number): Promise<{ img: sharp.Sharp; width: number; height: number; format: string }> {
  if (isBmp(bytes)) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const w = dv.getInt32(18, true);
    const h = Math.abs(dv.getInt32(22, true));
    checkPixels(w, h, maxPixels);
    let decoded: { width: number; height: number; data: Buffer };
    try {
      decoded = bmp.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { toRGBA: true });
    } catch (err) {
      throw new ImageDecodeError(`corrupt BMP: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (decoded.data.length < decoded.width * decoded.height * 4) throw new ImageDecodeError('corrupt BMP: truncated pixel data');
    // bmp-ts leaves alpha at 0 for formats without alpha; treat BMP as opaque.
    const img = sharp(decoded.data, { raw: { width: decoded.width, height: decoded.height, channels: 4 } }).removeAlpha();
    return { img, width: decoded.width, height: decoded.height, format: 'bmp' };
  }
  let meta: sharp.Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new ImageDecodeError(`not a readable image: ${cleanSharpMessage(err)}`);
  }
  if (!DECODABLE_FORMATS.has(meta.format ?? ''))
    throw new ImageDecodeError(`unsupported image format ${meta.format ?? 'unknown'} (PNG, JPEG, WebP, GIF, TIFF, BMP and AVIF are read)`);
  const w = meta.width ?? 0;
  const h = meta.pageHeight && meta.pages && meta.pages > 1 ? meta.pageHeight : (meta.height ?? 0);
  checkPixels(w, h, maxPixels);
  const swap = (meta.orientation ?? 1) >= 5;
  // First frame of animations; decode errors (truncation) are errors, not warnings.
  const img = sharp(bytes, { limitInputPixels: maxPixels, pages: 1, failOn: 'truncated' });
  return { img, width: swap ? h : w, height: swap ? w : h, format: meta.format ?? 'unknown' };
}

function cleanSharpMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/^Input (buffer|file) /, '').split('\n')[0];
}

/** Decodes and fits an image to the model input. */
export async function decodeForModel(bytes: Uint8Array, input: ModelInput, maxPixels = DEFAULT_MAX_PIXELS): Promise<DecodedImage> {
  if (bytes.length === 0) throw new ImageDecodeError('file is empty');
  const { img, width, height, format } = await openImage(bytes, maxPixels);
  const plan = planResize(width, height, input.width, input.height, input.resize);
  let pipeline = img
    .autoOrient() // EXIF orientation, logically before every other step
    .toColourspace('srgb') // CMYK, greyscale, 16-bit -> sRGB
    .removeAlpha() // as PIL's convert('RGB'): drop alpha, keep colour
    .resize(plan.resizedWidth, plan.resizedHeight, { fit: 'fill', kernel: 'lanczos3' });
  if (plan.mode === 'crop' && (plan.resizedWidth !== plan.targetWidth || plan.resizedHeight !== plan.targetHeight)) {
    pipeline = pipeline.extract({ left: plan.offsetX, top: plan.offsetY, width: plan.targetWidth, height: plan.targetHeight });
  } else if (plan.mode === 'pad') {
    const [r, g, b] = input.padColor;
    pipeline = pipeline.extend({
      left: plan.offsetX,
      top: plan.offsetY,
      right: plan.targetWidth - plan.resizedWidth - plan.offsetX,
      bottom: plan.targetHeight - plan.resizedHeight - plan.offsetY,
      background: { r, g, b, alpha: 1 },
    });
  }
  let out: { data: Buffer; info: sharp.OutputInfo };
  try {
    out = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new ImageDecodeError(`cannot decode ${format} image: ${cleanSharpMessage(err)}`);
  }
  const { info } = out;
  if (info.width !== input.width || info.height !== input.height || info.channels !== 3) {
    throw new ImageDecodeError(`decoder produced ${info.width}x${info.height}x${info.channels}, expected ${input.width}x${input.height}x3`);
  }
  return { width, height, format, plan, rgb: new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength) };
}

/** Writes 8-bit RGB pixels into a float tensor slot, normalised per the manifest. */
export function writeInputTensor(rgb: Readonly<Uint8Array>, input: ModelInput, out: Float32Array, slot: number): void {
  const w = input.width;
  const h = input.height;
  const plane = w * h;
  const base = slot * plane * 3;
  const order = input.channels === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  const scale = [0, 1, 2].map((c) => 1 / (255 * input.std[c]));
  const shift = [0, 1, 2].map((c) => input.mean[c] / input.std[c]);
  for (let c = 0; c < 3; c++) {
    const src = order[c];
    const sc = scale[c];
    const sh = shift[c];
    if (input.layout === 'NCHW') {
      const o = base + c * plane;
      for (let p = 0; p < plane; p++) out[o + p] = rgb[p * 3 + src] * sc - sh;
    } else {
      for (let p = 0; p < plane; p++) out[base + p * 3 + c] = rgb[p * 3 + src] * sc - sh;
    }
  }
}

/** Crops a region of an image file to a PNG (for thumbnails of retrieved patches). */
export async function cropToPng(
  bytes: Uint8Array,
  rect: { x: number; y: number; width: number; height: number },
  size: number,
  maxPixels = DEFAULT_MAX_PIXELS,
): Promise<Buffer> {
  const { img, width, height } = await openImage(bytes, maxPixels);
  const left = Math.max(0, Math.min(width - 1, Math.floor(rect.x)));
  const top = Math.max(0, Math.min(height - 1, Math.floor(rect.y)));
  const w = Math.max(1, Math.min(width - left, Math.ceil(rect.x + rect.width) - left));
  const h = Math.max(1, Math.min(height - top, Math.ceil(rect.y + rect.height) - top));
  return img
    .autoOrient()
    .toColourspace('srgb')
    .extract({ left, top, width: w, height: h })
    .resize(size, size, { fit: 'fill', kernel: 'nearest' })
    .png()
    .toBuffer();
}
