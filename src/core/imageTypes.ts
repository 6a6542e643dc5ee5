// Image file types the engine reads, by extension. Pure, so the extension host
// can match files without loading the decoder's native modules.

export const SUPPORTED_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.bmp', '.avif'] as const;

export function isSupportedImage(fileName: string): boolean {
  const dot = fileName.lastIndexOf('.');
  return dot >= 0 && (SUPPORTED_EXTENSIONS as readonly string[]).includes(fileName.slice(dot).toLowerCase());
}
