/**
 * Image file → Uint8 HWC RGB with sharp (libvips decodes in its own thread pool, so many decodes can be in
 * flight while the model runs on the main thread).
 */
import sharp from 'sharp';

import type { RgbImage, Sample } from './sample';

/** Thrown for a file that exists but cannot be decoded; names the file. */
export class CorruptImageError extends Error {
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(`cannot decode image ${path}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'CorruptImageError';
  }
}

/**
 * Decodes any format sharp reads (JPEG, PNG, WebP …) to 8-bit sRGB without alpha. EXIF orientation is
 * not applied, matching torchvision's PIL loader that the reference numbers were trained with.
 */
export async function decodeImageFile(path: string): Promise<RgbImage> {
  let out: { data: Buffer; info: sharp.OutputInfo };
  try {
    // failOn 'error' rejects truncated JPEGs instead of returning half-grey pictures.
    out = await sharp(path, { failOn: 'error' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw err;
    throw new CorruptImageError(path, err);
  }
  const { data, info } = out;
  if (info.channels !== 3) throw new CorruptImageError(path, new Error(`decoded to ${info.channels} channels`));
  return {
    image: new Uint8Array(data.buffer, data.byteOffset, data.length),
    height: info.height,
    width: info.width,
    channels: 3,
  };
}

/** Encodes a Uint8 HWC sample as PNG or JPEG (fixtures, grids, dataset preparation). */
export function encodeImage(s: RgbImage | Sample, format: 'png' | 'jpeg' = 'png', quality = 90): Promise<Buffer> {
  const img = sharp(Buffer.from(s.image.buffer, s.image.byteOffset, s.image.length), {
    raw: { width: s.width, height: s.height, channels: 3 },
  });
  return (format === 'png' ? img.png() : img.jpeg({ quality })).toBuffer();
}
