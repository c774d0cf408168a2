/**
 * The classic CIFAR augmentation (torchvision RandomCrop(size, padding) + RandomHorizontalFlip): pad with
 * zeros, take a random crop of the original size, flip with probability `hflip`. At a few epochs of budget
 * it beats the paper's heavy ImageNet recipe on 32x32 images (measured in notebook 03).
 */

import type { Rng } from '../util/rng';
import type { Sample } from '../image/sample';
import type { SampleTransform } from '../image/batch';

export function randomCropPad(padding: number, hflip = 0.5): SampleTransform {
  if (!(Number.isInteger(padding) && padding >= 0)) throw new Error(`crop padding must be an integer >= 0, got ${padding}`);
  return (s: Sample, rng: Rng): Sample => {
    const { height: h, width: w } = s;
    const top = rng.int(0, 2 * padding + 1) - padding;
    const left = rng.int(0, 2 * padding + 1) - padding;
    const flip = hflip > 0 && rng.random() < hflip;
    const out = new Uint8Array(h * w * 3);
    for (let y = 0; y < h; y++) {
      const sy = y + top;
      if (sy < 0 || sy >= h) continue;
      for (let x = 0; x < w; x++) {
        const sx = (flip ? w - 1 - x : x) + left;
        if (sx < 0 || sx >= w) continue;
        const d = (y * w + x) * 3;
        const o = (sy * w + sx) * 3;
        out[d] = s.image[o];
        out[d + 1] = s.image[o + 1];
        out[d + 2] = s.image[o + 2];
      }
    }
    return { ...s, image: out };
  };
}
