/**
 * The geometry of the official ConvNeXt and timm evaluation transform (`transforms_imagenet_eval`), still
 * Uint8 RGB and free of TensorFlow (the loader's workers run it):
 *   center: resize the shorter side to floor(size / cropPct) (bicubic), centre crop size x size
 *   squash: resize both sides to floor(size / cropPct) (bicubic), centre crop (the official 384 eval, cropPct 1)
 * Resampling follows PIL (resample.ts). Only the crop is resampled when the resized image would be much
 * larger than it (long strips, small cropPct), so memory and time follow the crop, with the same bytes.
 */
import type { RgbImage } from '../image/sample';
import { resizeThenCenterCrop } from './resample';

export type CropMode = 'center' | 'squash';

export interface EvalGeometry {
  /** Square model input size. */
  size: number;
  /** Fraction of the resized image kept by the centre crop (0.875 = 224 of 256). */
  cropPct?: number;
  cropMode?: CropMode;
}

/** The geometric part: resize and centre crop to size x size, still Uint8 RGB. */
export function evalGeometry(img: RgbImage, opts: EvalGeometry): RgbImage {
  const cropPct = opts.cropPct ?? 0.875;
  if (!Number.isInteger(opts.size) || opts.size < 1) throw new Error(`size must be a positive integer, got ${opts.size}`);
  if (!(cropPct > 0 && cropPct <= 1)) throw new Error(`cropPct must be in (0, 1], got ${cropPct}`);
  const s = Math.floor(opts.size / cropPct);
  if ((opts.cropMode ?? 'center') === 'squash') return resizeThenCenterCrop(img, s, s, opts.size, 'bicubic');
  // torchvision Resize(int): the shorter side becomes s, the longer keeps the aspect (truncated).
  const { height: h, width: w } = img;
  const [oh, ow] = h <= w ? [s, Math.trunc((s * w) / h)] : [Math.trunc((s * h) / w), s];
  return resizeThenCenterCrop(img, oh, ow, opts.size, 'bicubic');
}
