/**
 * torchvision's RandomResizedCrop: a crop covering a random fraction `scale` of the area with a random
 * aspect ratio (log-uniform in `ratio`), resized to the output size. Ten tries, then a centre crop
 * clamped to the ratio range, exactly as torchvision's get_params.
 */
import type { Rng } from '../util/rng';
import { resizeBox, type Box, type Interpolation } from './resample';
import type { RgbImage } from '../image/sample';

export function randomResizedCropParams(
  height: number,
  width: number,
  scale: readonly [number, number],
  ratio: readonly [number, number],
  rng: Rng,
): Box {
  const area = height * width;
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logRatio[0], logRatio[1]));
    const w = Math.round(Math.sqrt(targetArea * aspect));
    const h = Math.round(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      return { top: rng.int(0, height - h + 1), left: rng.int(0, width - w + 1), height: h, width: w };
    }
  }
  const inRatio = width / height;
  let w: number;
  let h: number;
  if (inRatio < Math.min(...ratio)) {
    w = width;
    h = Math.round(w / Math.min(...ratio));
  } else if (inRatio > Math.max(...ratio)) {
    h = height;
    w = Math.round(h * Math.max(...ratio));
  } else {
    w = width;
    h = height;
  }
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

export function randomResizedCrop(
  img: RgbImage,
  size: number,
  rng: Rng,
  scale: readonly [number, number] = [0.08, 1],
  ratio: readonly [number, number] = [3 / 4, 4 / 3],
  interp: Interpolation = 'bicubic',
): RgbImage {
  const box = randomResizedCropParams(img.height, img.width, scale, ratio, rng);
  return resizeBox(img, size, size, interp, box);
}
