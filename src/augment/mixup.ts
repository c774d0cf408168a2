/**
 * timm's Mixup class (mode 'batch') on a HostBatch: one lambda for the whole batch, each image mixed with
 * the batch in reverse order (x.flip(0)). With both alphas on, CutMix is chosen with `switchProb`; the
 * CutMix lambda is corrected to the pasted box's true area after clipping at the border. Targets are
 * label-smoothed one-hots mixed with the same lambda:
 *   y = lam * smooth(onehot(label)) + (1 - lam) * smooth(onehot(flipped label)),
 *   smooth(onehot)[k] = 1 - smoothing + smoothing / K on the label, smoothing / K elsewhere.
 */
import type { Rng } from '../util/rng';

import { nativeImageOps } from '../native/image';
import type { HostBatch } from '../image/batch';

export interface MixupConfig {
  mixupAlpha: number;
  cutmixAlpha: number;
  /** Probability of mixing a batch at all. */
  prob: number;
  /** Probability of CutMix rather than Mixup when both are enabled. */
  switchProb: number;
  smoothing: number;
  numClasses: number;
  /** Use the clipped box area for the CutMix lambda (timm's correct_lam, on by default). */
  correctLam?: boolean;
}

export interface MixDraw {
  lam: number;
  cutmix: boolean;
  /** Pasted box [yl, yh) x [xl, xh) for CutMix. */
  box?: [number, number, number, number];
}

/** timm's rand_bbox: a box of side sqrt(1 - lam) of the image around a uniformly random centre. */
export function cutmixBox(height: number, width: number, lam: number, rng: Rng): [number, number, number, number] {
  const r = Math.sqrt(1 - lam);
  const cutH = Math.trunc(height * r);
  const cutW = Math.trunc(width * r);
  const cy = rng.int(0, height);
  const cx = rng.int(0, width);
  const clip = (v: number, hi: number): number => Math.min(Math.max(v, 0), hi);
  return [
    clip(cy - (cutH >> 1), height),
    clip(cy + (cutH >> 1), height),
    clip(cx - (cutW >> 1), width),
    clip(cx + (cutW >> 1), width),
  ];
}

/** Draws lambda and the mix kind for one batch, as timm's Mixup._params_per_batch + cutmix_bbox_and_lam. */
export function drawMix(cfg: MixupConfig, height: number, width: number, rng: Rng): MixDraw {
  const useMix = cfg.mixupAlpha > 0 || cfg.cutmixAlpha > 0;
  if (!useMix || !(rng.random() < cfg.prob)) return { lam: 1, cutmix: false };
  let cutmix: boolean;
  if (cfg.mixupAlpha > 0 && cfg.cutmixAlpha > 0) cutmix = rng.random() < cfg.switchProb;
  else cutmix = cfg.cutmixAlpha > 0;
  const alpha = cutmix ? cfg.cutmixAlpha : cfg.mixupAlpha;
  let lam = rng.beta(alpha, alpha);
  if (!cutmix) return { lam, cutmix };
  const box = cutmixBox(height, width, lam, rng);
  if (cfg.correctLam ?? true) lam = 1 - ((box[1] - box[0]) * (box[3] - box[2])) / (height * width);
  return { lam, cutmix, box };
}

/** Writes timm's mixup_target into batch.y: mixed, smoothed one-hots of labels and flipped labels. */
export function mixupTargets(labels: Int32Array, numClasses: number, lam: number, smoothing: number): Float32Array {
  const B = labels.length;
  const off = smoothing / numClasses;
  const on = 1 - smoothing + off;
  const y = new Float32Array(B * numClasses).fill(off);
  for (let b = 0; b < B; b++) {
    const row = b * numClasses;
    // Fill is off = off*lam + off*(1-lam); only the two label entries differ.
    y[row + labels[b]] += (on - off) * lam;
    y[row + labels[B - 1 - b]] += (on - off) * (1 - lam);
  }
  return y;
}

/** Mixes a batch in place with a given draw (exported for tests; the loader uses `mixupTransform`). */
export function applyMix(batch: HostBatch, draw: MixDraw): void {
  const [B, H, W, C] = batch.shape;
  const { x } = batch;
  const img = H * W * C;
  if (draw.lam === 1 && !draw.cutmix) return;
  if (draw.cutmix) {
    const [yl, yh, xl, xh] = draw.box!;
    // x[b, box] = x[B-1-b, box] for all b at once: the pair (b, B-1-b) swaps its boxes.
    const len = (xh - xl) * C;
    for (let b = 0; b < B >> 1; b++) {
      const o1 = b * img;
      const o2 = (B - 1 - b) * img;
      for (let y = yl; y < yh; y++) {
        const r = (y * W + xl) * C;
        for (let i = r; i < r + len; i++) {
          const t = x[o1 + i];
          x[o1 + i] = x[o2 + i];
          x[o2 + i] = t;
        }
      }
    }
    return;
  }
  const lam = draw.lam;
  // x = lam * x + (1 - lam) * flip(x): pair (b, B-1-b) is updated together so no copy is needed.
  const native = nativeImageOps();
  if (native) return native.mixPairs(x.subarray(0, B * img), B, lam);
  for (let b = 0; b < B >> 1; b++) {
    const o1 = b * img;
    const o2 = (B - 1 - b) * img;
    for (let i = 0; i < img; i++) {
      const u = x[o1 + i];
      const v = x[o2 + i];
      x[o1 + i] = lam * u + (1 - lam) * v;
      x[o2 + i] = lam * v + (1 - lam) * u;
    }
  }
}

/** The loader's batch transform: draw, mix pixels, write mixed smoothed targets. */
export function mixupTransform(cfg: MixupConfig): (batch: HostBatch, rng: Rng) => void {
  return (batch, rng) => {
    if (batch.yWidth !== cfg.numClasses) {
      throw new Error(`mixup configured for ${cfg.numClasses} classes, batch targets have ${batch.yWidth}`);
    }
    const [, H, W] = batch.shape;
    const draw = drawMix(cfg, H, W, rng);
    applyMix(batch, draw);
    batch.y = mixupTargets(batch.labels as Int32Array, cfg.numClasses, draw.lam, cfg.smoothing);
  };
}

/** Label smoothing alone (no mixing): targets = smoothed one-hots. */
export function labelSmoothingTransform(smoothing: number, numClasses: number): (batch: HostBatch) => void {
  return (batch) => {
    batch.y = mixupTargets(batch.labels as Int32Array, numClasses, 1, smoothing);
  };
}
