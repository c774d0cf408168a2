/**
 * Samples → one host batch: per-sample transform, collate + normalise, batch transform. Free of
 * TensorFlow, so the loader's transform workers run exactly this code, and a batch is the same bytes
 * whichever thread made it.
 */
import { nativeImageOps } from '../native/image';
import type { BatchTransform, HostBatch, SampleTransform } from '../image/batch';
import type { Sample } from '../image/sample';
import type { Normalization } from '../image/normalize';
import { deriveSeed, Rng, Stream } from '../util/rng';

/** How samples become a batch, and the seed their random draws derive from. */
export interface BatchRecipe {
  seed: number;
  numClasses: number;
  normalize: Normalization;
  transform?: SampleTransform;
  batchTransform?: BatchTransform;
}

/** Where a batch sits: its epoch and its position `b` in that epoch's order. */
export interface BatchPlace {
  epoch: number;
  b: number;
}

/** Transforms one sample with the draws of (seed, epoch, dataset index). */
export function transformSample(s: Sample, index: number, epoch: number, r: BatchRecipe): Sample | Promise<Sample> {
  return r.transform ? r.transform(s, new Rng(deriveSeed(r.seed, epoch, Stream.sample, index))) : s;
}

/** Collates transformed samples and applies the batch transform with the draws of (seed, epoch, b). */
export function finishBatch(samples: Sample[], indices: Int32Array, at: BatchPlace, r: BatchRecipe): HostBatch {
  const host = collate(samples, indices, r.numClasses, r.normalize);
  r.batchTransform?.(host, new Rng(deriveSeed(r.seed, at.epoch, Stream.batch, at.b)));
  return host;
}

/** Stacks same-sized Uint8 HWC samples into a normalised float32 NHWC batch with one-hot / regression y. */
export function collate(samples: Sample[], indices: Int32Array, numClasses: number, norm: Normalization): HostBatch {
  const B = samples.length;
  const { height: H, width: W } = samples[0];
  const hw = H * W;
  for (const s of samples) {
    if (s.height !== H || s.width !== W || s.image.length !== s.height * s.width * 3) {
      throw new Error(
        `cannot batch a ${s.height}x${s.width} image (${s.path ?? 'unnamed'}) with ${H}x${W} ones; ` +
          'add a resize/crop transform',
      );
    }
  }
  // x = (u8 / 255 - mean) / std as a 256-entry table per channel: the same float32s, without the arithmetic.
  const lut = new Float32Array(768);
  for (let c = 0; c < 3; c++) {
    const scale = 1 / (255 * norm.std[c]);
    const shift = -norm.mean[c] / norm.std[c];
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = v * scale + shift;
  }
  const x = new Float32Array(B * hw * 3);
  const native = nativeImageOps();
  for (let b = 0; b < B; b++) {
    const img = samples[b].image;
    const off = b * hw * 3;
    if (native) {
      native.normalize(img.subarray(0, hw * 3), lut, x, off);
      continue;
    }
    for (let p = 0; p < hw * 3; p += 3) {
      x[off + p] = lut[img[p]];
      x[off + p + 1] = lut[256 + img[p + 1]];
      x[off + p + 2] = lut[512 + img[p + 2]];
    }
  }
  if (numClasses > 0) {
    const labels = new Int32Array(B);
    const y = new Float32Array(B * numClasses);
    samples.forEach((s, b) => {
      if (!Number.isInteger(s.label) || s.label < 0 || s.label >= numClasses) {
        throw new Error(`label ${s.label} of ${s.path ?? `sample ${indices[b]}`} is not a class index < ${numClasses}`);
      }
      labels[b] = s.label;
      y[b * numClasses + s.label] = 1;
    });
    return { x, shape: [B, H, W, 3], y, yWidth: numClasses, labels, indices };
  }
  const labels = Float32Array.from(samples, (s) => s.label);
  return { x, shape: [B, H, W, 3], y: labels.slice(), yWidth: 1, labels, indices };
}

