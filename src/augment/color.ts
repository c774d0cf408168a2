/**
 * PIL's ImageOps / ImageEnhance pixel operations on Uint8 HWC RGB, the ones timm's RandAugment applies.
 * Each reproduces PIL's integer arithmetic (lookup tables, truncating blends) so results match torch-side
 * augmentation pixel for pixel (checked against PIL in test/augment-ops.test.ts).
 */

import { nativeImageOps } from '../native/image';
import type { RgbImage } from '../image/sample';

function withImage(src: RgbImage, image: Uint8Array): RgbImage {
  return { image, height: src.height, width: src.width, channels: 3 };
}

/** Applies a per-channel lookup table (256 entries per channel, or one shared table). */
function applyLut(src: RgbImage, lut: Uint8Array): RgbImage {
  const perChannel = lut.length === 768;
  const { image } = src;
  const out = new Uint8Array(image.length);
  if (perChannel) {
    for (let i = 0; i < image.length; i += 3) {
      out[i] = lut[image[i]];
      out[i + 1] = lut[256 + image[i + 1]];
      out[i + 2] = lut[512 + image[i + 2]];
    }
  } else {
    for (let i = 0; i < image.length; i++) out[i] = lut[image[i]];
  }
  return withImage(src, out);
}

function histograms(src: RgbImage): Int32Array {
  const h = new Int32Array(768);
  const { image } = src;
  for (let i = 0; i < image.length; i += 3) {
    h[image[i]]++;
    h[256 + image[i + 1]]++;
    h[512 + image[i + 2]]++;
  }
  return h;
}

export function invert(src: RgbImage): RgbImage {
  const lut = Uint8Array.from({ length: 256 }, (_, i) => 255 - i);
  return applyLut(src, lut);
}

/** Keeps the top `bits` bits of every value (ImageOps.posterize; 0 bits gives black). */
export function posterize(src: RgbImage, bits: number): RgbImage {
  if (bits >= 8) return src;
  const mask = ~(2 ** (8 - Math.max(0, bits)) - 1) & 0xff;
  return applyLut(src, Uint8Array.from({ length: 256 }, (_, i) => i & mask));
}

/** Inverts values at or above `threshold` (ImageOps.solarize). */
export function solarize(src: RgbImage, threshold: number): RgbImage {
  return applyLut(src, Uint8Array.from({ length: 256 }, (_, i) => (i < threshold ? i : 255 - i)));
}

/** Adds `add` to values below `threshold`, clipping at 255 (timm's solarize_add). */
export function solarizeAdd(src: RgbImage, add: number, threshold = 128): RgbImage {
  return applyLut(src, Uint8Array.from({ length: 256 }, (_, i) => (i < threshold ? Math.min(255, i + add) : i)));
}

/** Stretches each channel to the full range (ImageOps.autocontrast, cutoff 0). */
export function autoContrast(src: RgbImage): RgbImage {
  const h = histograms(src);
  const lut = new Uint8Array(768);
  for (let c = 0; c < 3; c++) {
    let lo = 0;
    while (lo < 256 && h[c * 256 + lo] === 0) lo++;
    let hi = 255;
    while (hi >= 0 && h[c * 256 + hi] === 0) hi--;
    for (let i = 0; i < 256; i++) {
      if (hi <= lo) {
        lut[c * 256 + i] = i;
        continue;
      }
      const scale = 255 / (hi - lo);
      const v = Math.trunc(i * scale - lo * scale);
      lut[c * 256 + i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return applyLut(src, lut);
}

/** Histogram equalisation per channel (ImageOps.equalize). */
export function equalize(src: RgbImage): RgbImage {
  const h = histograms(src);
  const lut = new Uint8Array(768);
  for (let c = 0; c < 3; c++) {
    const hist = h.subarray(c * 256, c * 256 + 256);
    let last = 0;
    let total = 0;
    let nonzero = 0;
    for (let i = 0; i < 256; i++) {
      if (hist[i] > 0) {
        last = hist[i];
        total += hist[i];
        nonzero++;
      }
    }
    const step = Math.floor((total - last) / 255);
    if (nonzero <= 1 || step === 0) {
      for (let i = 0; i < 256; i++) lut[c * 256 + i] = i;
      continue;
    }
    let n = Math.floor(step / 2);
    for (let i = 0; i < 256; i++) {
      lut[c * 256 + i] = Math.min(255, Math.floor(n / step));
      n += hist[i];
    }
  }
  return applyLut(src, lut);
}

/** PIL's Image.blend(degenerate, image, factor): degenerate + factor (image - degenerate), truncated. */
function blend(degenerate: Uint8Array, src: RgbImage, factor: number): RgbImage {
  const { image } = src;
  const out = new Uint8Array(image.length);
  for (let i = 0; i < image.length; i++) {
    const v = degenerate[i] + factor * (image[i] - degenerate[i]);
    out[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
  }
  return withImage(src, out);
}

/** PIL's RGB → L conversion (ITU-R 601-2 luma in 16-bit fixed point). */
function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
}

/** ImageEnhance.Color: 0 gives greyscale, 1 the image, > 1 more saturated. */
export function color(src: RgbImage, factor: number): RgbImage {
  const { image } = src;
  const grey = new Uint8Array(image.length);
  for (let i = 0; i < image.length; i += 3) {
    const l = luma(image[i], image[i + 1], image[i + 2]);
    grey[i] = l;
    grey[i + 1] = l;
    grey[i + 2] = l;
  }
  return blend(grey, src, factor);
}

/** ImageEnhance.Contrast: blends with the mean grey level. */
export function contrast(src: RgbImage, factor: number): RgbImage {
  const { image } = src;
  let sum = 0;
  for (let i = 0; i < image.length; i += 3) sum += luma(image[i], image[i + 1], image[i + 2]);
  const mean = Math.trunc(sum / (image.length / 3) + 0.5);
  return blend(new Uint8Array(image.length).fill(mean), src, factor);
}

/** ImageEnhance.Brightness: blends with black. */
export function brightness(src: RgbImage, factor: number): RgbImage {
  return blend(new Uint8Array(src.image.length), src, factor);
}

/**
 * ImageEnhance.Sharpness: blends with the SMOOTH-filtered image (3x3 kernel [1 1 1; 1 5 1; 1 1 1] / 13);
 * the one-pixel border keeps its original values, as PIL's filter does.
 */
export function sharpness(src: RgbImage, factor: number): RgbImage {
  const { image, height: H, width: W } = src;
  const smooth = image.slice();
  const row = W * 3;
  for (let y = 1; y < H - 1; y++) {
    for (let x = 1; x < W - 1; x++) {
      const p = y * row + x * 3;
      for (let c = 0; c < 3; c++) {
        const q = p + c;
        const s =
          image[q - row - 3] + image[q - row] + image[q - row + 3] +
          image[q - 3] + 5 * image[q] + image[q + 3] +
          image[q + row - 3] + image[q + row] + image[q + row + 3];
        const v = Math.trunc(s / 13 + 0.5);
        smooth[q] = v > 255 ? 255 : v;
      }
    }
  }
  return blend(smooth, src, factor);
}

/** Horizontal flip. */
export function hflip(src: RgbImage): RgbImage {
  const { image, height: H, width: W } = src;
  if (image.length < H * W * 3) throw new Error(`hflip: ${image.length} bytes for a ${H}x${W} RGB image`);
  const out = new Uint8Array(H * W * 3);
  const native = nativeImageOps();
  if (native) {
    native.hflip(image, H, W, out);
    return withImage(src, out);
  }
  for (let y = 0; y < H; y++) {
    const r = y * W * 3;
    for (let x = 0; x < W; x++) {
      const s = r + x * 3;
      const d = r + (W - 1 - x) * 3;
      out[d] = image[s];
      out[d + 1] = image[s + 1];
      out[d + 2] = image[s + 2];
    }
  }
  return withImage(src, out);
}
