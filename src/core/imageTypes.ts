// Image file types the engine reads, derived from IMAGE_TYPES. Pure, so the
// extension host can match files without loading the decoder's native modules.

import { IMAGE_TYPES, type BrowserImageMime, type ImageExtension } from './vocabulary';

export { IMAGE_TYPES };

export const SUPPORTED_EXTENSIONS = Object.keys(IMAGE_TYPES) as ImageExtension[];

/** MIME types a webview decodes itself (what `imagePixels` may carry). */
export const BROWSER_MIMES = [
  ...new Set(
    Object.values(IMAGE_TYPES)
      .filter((t) => t.browser)
      .map((t) => t.mime),
  ),
] as BrowserImageMime[];

function extensionOf(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  const slash = Math.max(fileName.lastIndexOf('/'), fileName.lastIndexOf('\\'));
  return dot > slash ? fileName.slice(dot).toLowerCase() : '';
}

export function isSupportedImage(fileName: string): boolean {
  return Object.prototype.hasOwnProperty.call(IMAGE_TYPES, extensionOf(fileName));
}

/** The MIME type of an image a webview decodes itself, else undefined (TIFF: the engine converts it). */
export function browserMime(fileName: string): BrowserImageMime | undefined {
  const ext = extensionOf(fileName);
  if (!Object.prototype.hasOwnProperty.call(IMAGE_TYPES, ext)) return undefined;
  const t = IMAGE_TYPES[ext as ImageExtension];
  return t.browser ? (t.mime as BrowserImageMime) : undefined;
}

/** A glob matching every supported image (`**\/*.{png,jpg,...}`), for file watchers and searches. */
export function imageGlob(prefix = '**/*'): string {
  return `${prefix}.{${SUPPORTED_EXTENSIONS.map((e) => e.slice(1)).join(',')}}`;
}
