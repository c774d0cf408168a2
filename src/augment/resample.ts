/**
 * Separable resampling of Uint8 HWC RGB images, following PIL's `Image.resize` (which torchvision's
 * Resize / RandomResizedCrop call on PIL images): each output pixel is a weighted sum of source pixels
 * under a filter kernel centred on it, with the kernel widened by the scale factor when shrinking
 * (antialiasing). As PIL does for 8-bit images, the weights are rounded to 22-bit fixed point and the sums
 * are integers, horizontal pass first into an 8-bit intermediate, so the bytes are PIL's.
 */

import { nativeImageOps } from '../native/image';
import type { RgbImage } from '../image/sample';

export type Interpolation = 'bilinear' | 'bicubic';

/** A region of the source image in (possibly fractional) pixel units. */
export interface Box {
  top: number;
  left: number;
  height: number;
  width: number;
}

const FILTERS: Record<Interpolation, { support: number; kernel: (x: number) => number }> = {
  bilinear: {
    support: 1,
    kernel: (x) => {
      x = Math.abs(x);
      return x < 1 ? 1 - x : 0;
    },
  },
  // Keys cubic with a = -0.5, as PIL's BICUBIC.
  bicubic: {
    support: 2,
    kernel: (x) => {
      const a = -0.5;
      x = Math.abs(x);
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
};

interface Weights {
  /** first source index for each output index */
  start: Int32Array;
  /** number of taps for each output index */
  count: Int32Array;
  /** taps in fixed point (PIL's PRECISION_BITS), `maxTaps` per output index */
  w: Int32Array;
  maxTaps: number;
}

/** PIL's fixed-point precision for 8-bit resampling: 32 - 8 - 2 bits, so sums fit an int32. */
const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;

/**
 * Filter taps mapping source span [lo, lo + span) of an axis of length `size` onto `out` samples, as PIL's
 * precompute_coeffs + normalize_coeffs_8bpc. Positions are relative to the box and taps stay inside it, so
 * a box behaves exactly like cropping first (torchvision's resized_crop). Only output samples
 * [first, first + n) get taps (index i - first): a window of the output costs what the window does.
 */
function axisWeights(size: number, lo: number, span: number, out: number, interp: Interpolation, first = 0,
  n = out): Weights {
  const { support, kernel } = FILTERS[interp];
  const scale = span / out;
  const filterScale = Math.max(scale, 1);
  const radius = support * filterScale;
  const inv = 1 / filterScale;
  const maxTaps = Math.ceil(radius) * 2 + 1;
  const base = Math.floor(lo);
  const offset = lo - base;
  const limit = Math.min(size, Math.ceil(lo + span)) - base;
  const start = new Int32Array(n);
  const count = new Int32Array(n);
  const w = new Int32Array(n * maxTaps);
  const k = new Float64Array(maxTaps);
  for (let j = 0; j < n; j++) {
    const i = first + j;
    const centre = offset + (i + 0.5) * scale;
    const x0 = Math.max(0, Math.floor(centre - radius + 0.5));
    const x1 = Math.min(limit, Math.floor(centre + radius + 0.5));
    let total = 0;
    for (let x = x0; x < x1; x++) {
      k[x - x0] = kernel((x - centre + 0.5) * inv);
      total += k[x - x0];
    }
    for (let x = 0; x < x1 - x0; x++) {
      const v = total !== 0 ? k[x] / total : k[x];
      w[j * maxTaps + x] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
    }
    start[j] = base + x0;
    count[j] = Math.max(0, x1 - x0);
  }
  return { start, count, w, maxTaps };
}

/** PIL's clip8: a fixed-point sum (with its rounding half already added) to a byte. */
function clip8(v: number): number {
  return v >= ONE * 256 ? 255 : v <= 0 ? 0 : v >> PRECISION_BITS;
}

/**
 * Resamples `box` of `src` to outHeight x outWidth (the whole image by default). This is both Resize and
 * the crop-then-resize of RandomResizedCrop in one pass. Runs the native copy (src/native/image_ops.cc)
 * where it builds, else JavaScript; both give the same bytes.
 */
export function resizeBox(
  src: RgbImage,
  outHeight: number,
  outWidth: number,
  interp: Interpolation = 'bilinear',
  box: Box = { top: 0, left: 0, height: src.height, width: src.width },
): RgbImage {
  checkResize(src, outHeight, outWidth, box);
  const native = nativeImageOps();
  if (!native) return resample(src, outHeight, outWidth, interp, box, { top: 0, left: 0, height: outHeight, width: outWidth });
  const out = new Uint8Array(outHeight * outWidth * 3);
  native.resizeBox(src.image, src.height, src.width, outHeight, outWidth, interp === 'bicubic', box.top, box.left,
    box.height, box.width, out);
  return { image: out, height: outHeight, width: outWidth, channels: 3 };
}

/** A rectangle of a resize's output, in whole output pixels. */
export interface Window {
  top: number;
  left: number;
  height: number;
  width: number;
}

/**
 * The `win` part of resizeBox(src, outHeight, outWidth, interp, box), byte for byte, computing and
 * allocating only the window: memory and time follow the window and the source rows it reads, not the
 * full output, which may be enormous (a 20000x1 strip resized to a shorter side of 256 is 3.9 GB).
 * JavaScript only (the native kernel has no windows); cheap when the window is small.
 */
export function resizeBoxWindow(
  src: RgbImage,
  outHeight: number,
  outWidth: number,
  interp: Interpolation,
  box: Box,
  win: Window,
): RgbImage {
  checkResize(src, outHeight, outWidth, box);
  const { top, left, height, width } = win;
  if (![top, left, height, width].every(Number.isInteger) || height < 1 || width < 1 || top < 0 || left < 0 ||
    top + height > outHeight || left + width > outWidth) {
    throw new Error(`resize: window ${JSON.stringify(win)} is not inside the ${outHeight}x${outWidth} output`);
  }
  return resample(src, outHeight, outWidth, interp, box, win);
}

function checkResize(src: RgbImage, outHeight: number, outWidth: number, box: Box): void {
  if (outHeight < 1 || outWidth < 1 || !Number.isInteger(outHeight) || !Number.isInteger(outWidth)) {
    throw new Error(`resize: output size must be positive integers, got ${outHeight}x${outWidth}`);
  }
  if (box.height <= 0 || box.width <= 0) throw new Error(`resize: empty source box ${JSON.stringify(box)}`);
  if (box.top < 0 || box.left < 0 || box.top + box.height > src.height || box.left + box.width > src.width) {
    throw new Error(`resize: box ${JSON.stringify(box)} is not inside the ${src.height}x${src.width} image`);
  }
  if (src.image.length < src.height * src.width * 3) {
    throw new Error(`resize: ${src.image.length} bytes for a ${src.height}x${src.width} RGB image`);
  }
}

/**
 * resizeBox in JavaScript, the reference the native kernel follows, on a checked box; computes only the
 * output window `win` (the whole output when it is 0, 0, outHeight, outWidth).
 */
function resample(src: RgbImage, fullHeight: number, fullWidth: number, interp: Interpolation, box: Box,
  win: Window): RgbImage {
  const { height: H, width: W, image } = src;
  const outHeight = win.height;
  const outWidth = win.width;
  const wx = axisWeights(W, box.left, box.width, fullWidth, interp, win.left, outWidth);
  const wy = axisWeights(H, box.top, box.height, fullHeight, interp, win.top, outHeight);
  // Only the source rows some output row reads need the horizontal pass.
  const rowLo = wy.start[0];
  const rowHi = wy.start[outHeight - 1] + wy.count[outHeight - 1];
  const half = ONE / 2;
  const tmp = new Uint8Array(Math.max(0, rowHi - rowLo) * outWidth * 3);
  for (let y = rowLo; y < rowHi; y++) {
    const srcRow = y * W * 3;
    const tmpRow = (y - rowLo) * outWidth * 3;
    for (let i = 0; i < outWidth; i++) {
      const s = wx.start[i];
      const n = wx.count[i];
      const wOff = i * wx.maxTaps;
      let r = half;
      let g = half;
      let b = half;
      for (let k = 0; k < n; k++) {
        const wk = wx.w[wOff + k];
        const p = srcRow + (s + k) * 3;
        r += wk * image[p];
        g += wk * image[p + 1];
        b += wk * image[p + 2];
      }
      tmp[tmpRow + i * 3] = clip8(r);
      tmp[tmpRow + i * 3 + 1] = clip8(g);
      tmp[tmpRow + i * 3 + 2] = clip8(b);
    }
  }
  const out = new Uint8Array(outHeight * outWidth * 3);
  const rowLen = outWidth * 3;
  // Vertical pass row by row: accumulate whole source rows, so memory is read sequentially.
  const acc = new Int32Array(rowLen);
  for (let j = 0; j < outHeight; j++) {
    const s = wy.start[j] - rowLo;
    const n = wy.count[j];
    const wOff = j * wy.maxTaps;
    acc.fill(half);
    for (let k = 0; k < n; k++) {
      const wk = wy.w[wOff + k];
      const r = (s + k) * rowLen;
      for (let c = 0; c < rowLen; c++) acc[c] += wk * tmp[r + c];
    }
    const o = j * rowLen;
    for (let c = 0; c < rowLen; c++) out[o + c] = clip8(acc[c]);
  }
  return { image: out, height: outHeight, width: outWidth, channels: 3 };
}

/** Integer-pixel crop (no resampling). */
export function crop(src: RgbImage, top: number, left: number, height: number, width: number): RgbImage {
  if (top < 0 || left < 0 || top + height > src.height || left + width > src.width || height < 1 || width < 1) {
    throw new Error(`crop ${height}x${width} at (${top}, ${left}) does not fit a ${src.height}x${src.width} image`);
  }
  const out = new Uint8Array(height * width * 3);
  for (let y = 0; y < height; y++) {
    const s = ((top + y) * src.width + left) * 3;
    out.set(src.image.subarray(s, s + width * 3), y * width * 3);
  }
  return { image: out, height, width, channels: 3 };
}

/** Python's round(): halves go to the even neighbour (torchvision's CenterCrop offsets use it). */
export function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** torchvision Resize(int): the shorter side becomes `size`, the longer keeps the aspect (truncated). */
export function resizeShorter(src: RgbImage, size: number, interp: Interpolation = 'bilinear'): RgbImage {
  const { height: h, width: w } = src;
  const [oh, ow] = h <= w ? [size, Math.trunc((size * w) / h)] : [Math.trunc((size * h) / w), size];
  if (oh === h && ow === w) return src;
  return resizeBox(src, oh, ow, interp);
}

/** torchvision CenterCrop (crop offsets rounded as Python does); pads with 0 if the image is smaller. */
export function centerCrop(src: RgbImage, height: number, width: number = height): RgbImage {
  if (height > src.height || width > src.width) {
    // torchvision pads symmetrically before cropping; rare for our uses, so do the same plainly.
    const ph = Math.max(height, src.height);
    const pw = Math.max(width, src.width);
    const top = Math.trunc((ph - src.height) / 2);
    const left = Math.trunc((pw - src.width) / 2);
    const padded = new Uint8Array(ph * pw * 3);
    for (let y = 0; y < src.height; y++) {
      padded.set(src.image.subarray(y * src.width * 3, (y + 1) * src.width * 3), ((top + y) * pw + left) * 3);
    }
    src = { image: padded, height: ph, width: pw, channels: 3 };
  }
  const top = pyRound((src.height - height) / 2);
  const left = pyRound((src.width - width) / 2);
  return crop(src, top, left, height, width);
}

/** Largest resize target side accepted (the windowed resampler indexes output pixels as doubles). */
const MAX_SIDE = 2 ** 31 - 1;

/**
 * centerCrop(resizeBox(img, outHeight, outWidth, interp), size) byte for byte (no resampling when the size
 * is unchanged), but resampling only the crop when the full resize would exceed a few crops' worth of
 * pixels: memory and time follow the crop, however long the image or small the crop fraction.
 */
export function resizeThenCenterCrop(img: RgbImage, outHeight: number, outWidth: number, size: number,
  interp: Interpolation): RgbImage {
  if (!(outHeight <= MAX_SIDE && outWidth <= MAX_SIDE)) {
    throw new Error(`resize target ${outHeight}x${outWidth} is too large (is cropPct tiny?); sides up to ${MAX_SIDE}`);
  }
  const same = outHeight === img.height && outWidth === img.width;
  if (size > outHeight || size > outWidth || outHeight * outWidth <= 4 * size * size) {
    // Small enough (or padded by centerCrop, which only happens when the resize is smaller than the crop).
    return centerCrop(same ? img : resizeBox(img, outHeight, outWidth, interp), size);
  }
  const top = pyRound((outHeight - size) / 2);
  const left = pyRound((outWidth - size) / 2);
  if (same) return crop(img, top, left, size, size);
  return resizeBoxWindow(img, outHeight, outWidth, interp, { top: 0, left: 0, height: img.height, width: img.width },
    { top, left, height: size, width: size });
}
