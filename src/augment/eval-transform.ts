/**
 * The evaluation transform of the official ConvNeXt code and timm (`transforms_imagenet_eval`):
 *   center: resize the shorter side to floor(size / cropPct) (bicubic), centre crop size x size
 *   squash: resize both sides to floor(size / cropPct) (bicubic), centre crop (the official 384 eval, cropPct 1)
 * then x / 255, minus mean, over std (the geometry is eval-geometry.ts). Resampling follows PIL, so pixels
 * match torchvision's PIL pipeline byte for byte; an image already at the target size passes through untouched.
 */
import { tf } from '../backend';
import { decodeImageFile } from '../image/decode';
import { IMAGENET_NORM, type Normalization } from '../image/normalize';
import type { RgbImage } from '../image/sample';
import { evalGeometry, type EvalGeometry } from './eval-geometry';

export type { CropMode } from './eval-geometry';

export interface EvalTransformOptions extends EvalGeometry {
  normalize?: Normalization;
}

/** Uint8 HWC → float32 HWC, (x / 255 - mean) / std per channel, in torchvision's order of operations. */
export function normalizeImage(img: RgbImage, norm: Normalization = IMAGENET_NORM): Float32Array {
  const out = new Float32Array(img.height * img.width * 3);
  for (let p = 0; p < out.length; p += 3) {
    for (let c = 0; c < 3; c++) out[p + c] = (Math.fround(img.image[p + c] / 255) - norm.mean[c]) / norm.std[c];
  }
  return out;
}

/** Decode, resize, crop and normalise one image file: float32 HWC of size x size x 3. */
export async function loadEvalImage(file: string, opts: EvalTransformOptions): Promise<Float32Array> {
  return normalizeImage(evalGeometry(await decodeImageFile(file), opts), opts.normalize);
}

/** A batch of image files as an NHWC tensor ready for the model. */
export async function loadEvalBatch(files: string[], opts: EvalTransformOptions): Promise<tf.Tensor4D> {
  const images = await Promise.all(files.map((f) => loadEvalImage(f, opts)));
  const n = opts.size * opts.size * 3;
  const data = new Float32Array(files.length * n);
  images.forEach((img, i) => data.set(img, i * n));
  return tf.tensor4d(data, [files.length, opts.size, opts.size, 3]);
}
