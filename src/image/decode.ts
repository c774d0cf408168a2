/**
 * Image file → Uint8 HWC RGB with sharp (libvips decodes in its own thread pool, so many decodes can be in
 * flight while the model runs on the main thread).
 */
import sharp from 'sharp';

import type { RgbImage, Sample } from './sample';

/**
 * File name endings (lower case, with the dot) of every format sharp can decode from a file here: JPEG,
 * PNG, WebP, TIFF, GIF, AVIF, SVG … as this build of libvips reports them. libvips' own `.v` format is
 * left out. BMP and PPM are not among them (sharp's prebuilt libvips has no decoder for them).
 */
export const DECODABLE_EXTENSIONS: readonly string[] = Object.entries(sharp.format)
  .filter(([name, f]) => name !== 'vips' && f.input.file)
  .flatMap(([, f]) => (f.input as { fileSuffix?: string[] }).fileSuffix ?? [])
  .map((e) => e.toLowerCase());

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
 * not applied, matching torchvision's PIL loader that the reference numbers were trained with. CMYK
 * images (print JPEGs, TIFFs) are converted the way PIL's convert('RGB') does — the naive
 * R = (255 - K) - C(255 - K)/255 of Convert.c's cmyk2rgb, ignoring any ICC profile — rather than through
 * libvips' colour management, whose colours differ from PIL's by ~24/255 on average.
 */
export async function decodeImageFile(path: string): Promise<RgbImage> {
  let first: unknown;
  try {
    return await shared(() => decodeOnce(path));
  } catch (err) {
    if (!(err instanceof DecodeFailure)) throw err;
    first = err.cause;
  }
  // libvips keeps one process-wide error buffer, and every pipeline that ends clears it: with other
  // decodes in flight a failure reads "Unknown error" or another file's reason. Decode the file again
  // with nothing else in flight (failures are rare) for its own message.
  try {
    return await alone(() => decodeOnce(path));
  } catch (err) {
    if (!(err instanceof DecodeFailure)) throw err;
    const cause = err.cause instanceof Error && err.cause.message && !/^Unknown error$/.test(err.cause.message) ? err.cause : first;
    throw new CorruptImageError(path, cause);
  }
}

/** A failed sharp pipeline, before it is known whether its message can be trusted. */
class DecodeFailure extends Error {
  constructor(override readonly cause: unknown) {
    super('decode failed');
  }
}

/**
 * PIL's decompression-bomb limit: Image.open raises DecompressionBombError above 2 * MAX_IMAGE_PIXELS
 * (2 * 89,478,485) pixels. Larger images are refused from their header, before any pixel is decoded.
 */
export const MAX_IMAGE_PIXELS = 2 * 89_478_485;

async function decodeOnce(path: string): Promise<RgbImage> {
  let out: { data: Buffer; info: sharp.OutputInfo };
  let meta: sharp.Metadata;
  try {
    // The header only (no pixel limit here, so that an oversized image is named with its size below).
    meta = await sharp(path, { limitInputPixels: false }).metadata();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw err;
    throw new DecodeFailure(err);
  }
  const pixels = (meta.width ?? 0) * (meta.pageHeight ?? meta.height ?? 0);
  if (pixels > MAX_IMAGE_PIXELS) {
    throw new CorruptImageError(path, new Error(`${meta.width}x${meta.pageHeight ?? meta.height} is ${pixels} pixels, ` +
      `over the limit of ${MAX_IMAGE_PIXELS} (PIL's decompression-bomb limit)`));
  }
  const cmyk = meta.space === 'cmyk';
  // failOn 'error' rejects truncated JPEGs instead of returning half-grey pictures.
  const input = sharp(path, { failOn: 'error', limitInputPixels: MAX_IMAGE_PIXELS });
  try {
    out = cmyk
      ? await input.pipelineColourspace('cmyk').toColourspace('cmyk').raw().toBuffer({ resolveWithObject: true })
      : await input.toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw err;
    throw new DecodeFailure(err);
  }
  const { data, info } = out;
  if (cmyk) {
    if (info.channels < 4) throw new CorruptImageError(path, new Error(`CMYK image decoded to ${info.channels} channels`));
    return { image: cmykToRgb(data, info.width * info.height, info.channels), height: info.height, width: info.width, channels: 3 };
  }
  if (info.channels !== 3) throw new CorruptImageError(path, new Error(`decoded to ${info.channels} channels`));
  return {
    image: new Uint8Array(data.buffer, data.byteOffset, data.length),
    height: info.height,
    width: info.width,
    channels: 3,
  };
}

// Decodes run concurrently ("shared"), except a diagnostic re-decode, which waits for the others to finish
// and holds new ones back while it runs ("alone").
let inFlight = 0;
let exclusive: Promise<void> | undefined;
let idle: Array<() => void> = [];

async function shared<T>(fn: () => Promise<T>): Promise<T> {
  while (exclusive) await exclusive;
  inFlight++;
  try {
    return await fn();
  } finally {
    if (--inFlight === 0) {
      const waiting = idle;
      idle = [];
      waiting.forEach((wake) => wake());
    }
  }
}

async function alone<T>(fn: () => Promise<T>): Promise<T> {
  while (exclusive) await exclusive;
  let release!: () => void;
  exclusive = new Promise<void>((resolve) => (release = resolve));
  try {
    if (inFlight > 0) await new Promise<void>((resolve) => idle.push(resolve));
    return await fn();
  } finally {
    exclusive = undefined;
    release();
  }
}

/**
 * PIL's cmyk2rgb (libImaging/Convert.c), bit for bit: with nk = 255 - K, each of R, G, B is
 * nk - MULDIV255(ink, nk), MULDIV255(a, b) = ((t >> 8) + t) >> 8 for t = a * b + 128. `stride` is the
 * number of channels per pixel in `cmyk` (4, or 5 with alpha, which PIL's conversion drops too).
 */
export function cmykToRgb(cmyk: Uint8Array, pixels: number, stride = 4): Uint8Array {
  const rgb = new Uint8Array(pixels * 3);
  for (let i = 0, j = 0, o = 0; i < pixels; i++, j += stride, o += 3) {
    const nk = 255 - cmyk[j + 3];
    for (let c = 0; c < 3; c++) {
      const t = cmyk[j + c] * nk + 128;
      rgb[o + c] = nk - (((t >> 8) + t) >> 8);
    }
  }
  return rgb;
}

/** Encodes a Uint8 HWC sample as PNG or JPEG (fixtures, grids, dataset preparation). */
export function encodeImage(s: RgbImage | Sample, format: 'png' | 'jpeg' = 'png', quality = 90): Promise<Buffer> {
  const img = sharp(Buffer.from(s.image.buffer, s.image.byteOffset, s.image.length), {
    raw: { width: s.width, height: s.height, channels: 3 },
  });
  return (format === 'png' ? img.png() : img.jpeg({ quality })).toBuffer();
}
