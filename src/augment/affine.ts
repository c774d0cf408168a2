/**
 * Affine warps of Uint8 HWC images with PIL's `Image.transform(AFFINE)` convention: the matrix maps each
 * OUTPUT pixel centre (x + 0.5, y + 0.5) to the INPUT point it samples, and samples falling outside the
 * image take the fill colour. RandAugment's rotate / shear / translate and the study's random affine are
 * all built on `warpAffine`.
 */

import { nativeImageOps } from '../native/image';
import type { RgbImage } from '../image/sample';

/** Row-major [a, b, c, d, e, f]: x_in = a x + b y + c, y_in = d x + e y + f. */
export type AffineMatrix = [number, number, number, number, number, number];

export type Fill = readonly [number, number, number];

/**
 * Warps `src` by `m` (same-size output). Runs the native copy (src/native/image_ops.cc) where it builds,
 * else JavaScript; both give the same bytes.
 */
export function warpAffine(
  src: RgbImage,
  m: AffineMatrix,
  fill: Fill = [0, 0, 0],
  interp: 'nearest' | 'bilinear' = 'bilinear',
): RgbImage {
  checkWarp(src, m, fill);
  const native = nativeImageOps();
  if (!native) return warp(src, m, fill, interp);
  const out = new Uint8Array(src.height * src.width * 3);
  native.warpAffine(src.image, src.height, src.width, Float64Array.of(...m, ...fill), interp === 'bilinear', out);
  return { image: out, height: src.height, width: src.width, channels: 3 };
}

function checkWarp(src: RgbImage, m: AffineMatrix, fill: Fill): void {
  if (m.length !== 6 || !m.every(Number.isFinite)) throw new Error(`warpAffine: matrix must be 6 finite numbers, got [${m}]`);
  if (fill.length !== 3 || !fill.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)) {
    throw new Error(`warpAffine: fill must be 3 integers in 0..255, got [${fill}]`);
  }
  if (src.height < 1 || src.width < 1 || src.image.length < src.height * src.width * 3) {
    throw new Error(`warpAffine: ${src.image.length} bytes for a ${src.height}x${src.width} RGB image`);
  }
}

/** warpAffine in JavaScript, the reference the native kernel follows, on checked arguments. */
function warp(src: RgbImage, m: AffineMatrix, fill: Fill, interp: 'nearest' | 'bilinear'): RgbImage {
  const { height: H, width: W, image } = src;
  const out = new Uint8Array(H * W * 3);
  const [a, b, c, d, e, f] = m;
  for (let y = 0; y < H; y++) {
    const yc = y + 0.5;
    const xRow = b * yc + c;
    const yRow = e * yc + f;
    let o = y * W * 3;
    for (let x = 0; x < W; x++, o += 3) {
      const xs = a * (x + 0.5) + xRow;
      const ys = d * (x + 0.5) + yRow;
      if (xs < 0 || ys < 0 || xs >= W || ys >= H) {
        out[o] = fill[0];
        out[o + 1] = fill[1];
        out[o + 2] = fill[2];
        continue;
      }
      if (interp === 'nearest') {
        const p = (Math.floor(ys) * W + Math.floor(xs)) * 3;
        out[o] = image[p];
        out[o + 1] = image[p + 1];
        out[o + 2] = image[p + 2];
        continue;
      }
      // Bilinear between the four pixel centres around the sample; edge pixels extend to the border.
      const fx = xs - 0.5;
      const fy = ys - 0.5;
      const x0 = Math.floor(fx);
      const y0 = Math.floor(fy);
      const tx = fx - x0;
      const ty = fy - y0;
      const xa = x0 < 0 ? 0 : x0;
      const xb = x0 + 1 >= W ? W - 1 : x0 + 1;
      const ya = y0 < 0 ? 0 : y0;
      const yb = y0 + 1 >= H ? H - 1 : y0 + 1;
      const p00 = (ya * W + xa) * 3;
      const p01 = (ya * W + xb) * 3;
      const p10 = (yb * W + xa) * 3;
      const p11 = (yb * W + xb) * 3;
      for (let ch = 0; ch < 3; ch++) {
        const top = image[p00 + ch] + (image[p01 + ch] - image[p00 + ch]) * tx;
        const bot = image[p10 + ch] + (image[p11 + ch] - image[p10 + ch]) * tx;
        out[o + ch] = Math.trunc(top + (bot - top) * ty);
      }
    }
  }
  return { image: out, height: H, width: W, channels: 3 };
}

function round15(v: number): number {
  return Math.round(v * 1e15) / 1e15;
}

/**
 * PIL's `Image.rotate(degrees)` matrix: counter-clockwise by `degrees` about the image centre, same size
 * output.
 */
export function rotationMatrix(degrees: number, height: number, width: number): AffineMatrix {
  const t = (-degrees * Math.PI) / 180;
  // PIL rounds to 15 decimals so that right angles give exact 0 / ±1 entries.
  const cos = round15(Math.cos(t));
  const sin = round15(Math.sin(t));
  const cx = width / 2;
  const cy = height / 2;
  return [cos, sin, cx - cos * cx - sin * cy, -sin, cos, cy + sin * cx - cos * cy];
}

/**
 * The inverse map of "rotate by `degrees` (counter-clockwise), scale by `scale`, then translate by
 * (tx, ty) pixels" about the image centre, i.e. what torchvision's RandomAffine builds.
 */
export function similarityMatrix(
  degrees: number,
  scale: number,
  tx: number,
  ty: number,
  height: number,
  width: number,
): AffineMatrix {
  const t = (-degrees * Math.PI) / 180;
  const cos = Math.cos(t) / scale;
  const sin = Math.sin(t) / scale;
  const cx = width / 2 + tx;
  const cy = height / 2 + ty;
  // x_in - width/2 = R^-1 (x_out - c) / s, with c the shifted centre.
  return [cos, sin, width / 2 - cos * cx - sin * cy, -sin, cos, height / 2 + sin * cx - cos * cy];
}
