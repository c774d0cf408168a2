/**
 * The reproduction study's extra geometric augmentation: a random similarity transform (rotation, isotropic
 * scale, translation) about the image centre, like torchvision's RandomAffine without shear.
 */
import type { Rng } from '../util/rng';
import { similarityMatrix, warpAffine, type Fill } from './affine';
import type { GeometricConfig } from './config';
import type { RgbImage } from '../image/sample';

export interface AffineDraw {
  degrees: number;
  scale: number;
  tx: number;
  ty: number;
}

export function drawAffine(cfg: GeometricConfig, height: number, width: number, rng: Rng): AffineDraw {
  return {
    degrees: rng.uniform(-cfg.rotate, cfg.rotate),
    scale: rng.uniform(cfg.scale[0], cfg.scale[1]),
    // torchvision rounds the translation to whole pixels.
    tx: Math.round(rng.uniform(-cfg.translate, cfg.translate) * width),
    ty: Math.round(rng.uniform(-cfg.translate, cfg.translate) * height),
  };
}

export function randomAffine(img: RgbImage, cfg: GeometricConfig, rng: Rng, fill: Fill = [0, 0, 0]): RgbImage {
  const d = drawAffine(cfg, img.height, img.width, rng);
  return warpAffine(img, similarityMatrix(d.degrees, d.scale, d.tx, d.ty, img.height, img.width), fill);
}
