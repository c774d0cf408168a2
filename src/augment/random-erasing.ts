/**
 * timm's RandomErasing (Zhong et al. 2020) in 'pixel' mode, on the normalised float batch (where timm
 * applies it, after Normalize): with probability p a rectangle of 2%–33% of the image area and aspect in
 * [0.3, 1/0.3] (log-uniform) is filled with N(0, 1) noise per pixel and channel. Ten tries to fit a box.
 */
import type { Rng } from '../util/rng';
import type { HostBatch } from '../image/batch';

export interface RandomErasingConfig {
  prob: number;
  minArea?: number;
  maxArea?: number;
  minAspect?: number;
}

/** Erases (or not) one HWC image stored at x[offset ...]; returns the box [top, left, h, w] or null. */
export function eraseOne(
  x: Float32Array,
  offset: number,
  H: number,
  W: number,
  C: number,
  cfg: RandomErasingConfig,
  rng: Rng,
): [number, number, number, number] | null {
  if (rng.random() > cfg.prob) return null;
  const minArea = cfg.minArea ?? 0.02;
  const maxArea = cfg.maxArea ?? 1 / 3;
  const minAspect = cfg.minAspect ?? 0.3;
  const logAspect = [Math.log(minAspect), Math.log(1 / minAspect)];
  const area = H * W;
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = rng.uniform(minArea, maxArea) * area;
    const aspect = Math.exp(rng.uniform(logAspect[0], logAspect[1]));
    const h = Math.round(Math.sqrt(target * aspect));
    const w = Math.round(Math.sqrt(target / aspect));
    if (w < W && h < H) {
      // Python's random.randint is inclusive of both ends.
      const top = rng.int(0, H - h + 1);
      const left = rng.int(0, W - w + 1);
      for (let y = top; y < top + h; y++) {
        const r = offset + (y * W + left) * C;
        for (let i = 0; i < w * C; i++) x[r + i] = rng.normal();
      }
      return [top, left, h, w];
    }
  }
  return null;
}

export function randomErasingTransform(cfg: RandomErasingConfig): (batch: HostBatch, rng: Rng) => void {
  return (batch, rng) => {
    const [B, H, W, C] = batch.shape;
    for (let b = 0; b < B; b++) eraseOne(batch.x, b * H * W * C, H, W, C, cfg, rng);
  };
}
