/**
 * Builds the loader's per-sample and batch transforms from an AugmentConfig, in timm's order:
 *   train sample: RandomResizedCrop (bicubic) → horizontal flip → [geometric affine] → RandAugment
 *   train batch:  normalise (the loader) → Random Erasing → Mixup / CutMix with smoothed targets
 *   eval sample:  resize short side to inputSize / cropPct (bicubic) → centre crop inputSize
 */

import type { Rng } from '../util/rng';

import type { Fill } from './affine';
import { hflip } from './color';
import type { AugmentConfig } from './config';
import { randomCropPad } from './crop-pad';
import { randomAffine } from './geometric';
import { labelSmoothingTransform, mixupTransform } from './mixup';
import { parseRandAugment, randAugment } from './rand-augment';
import { randomErasingTransform } from './random-erasing';
import { randomResizedCrop } from './random-resized-crop';
import { type CropMode, evalGeometry } from './eval-geometry';
import { describeBatch, describeSample, type BatchSpec, type SampleSpec } from './spec';
import type { BatchTransform, HostBatch, SampleTransform } from '../image/batch';
import type { RgbImage, Sample } from '../image/sample';

function asSample(img: RgbImage, from: Sample): Sample {
  return { image: img.image, height: img.height, width: img.width, channels: 3, label: from.label, path: from.path };
}

/** timm's img_mean hparam: the normalisation mean in 0..255, the fill of uncovered pixels. */
function meanFill(cfg: AugmentConfig): Fill {
  const [r, g, b] = cfg.normalize.mean.map((m) => Math.min(255, Math.round(255 * m)));
  return [r, g, b];
}

export function buildTrainTransform(cfg: AugmentConfig): SampleTransform {
  const ra = cfg.randAugment ? parseRandAugment(cfg.randAugment, meanFill(cfg)) : null;
  const fill = meanFill(cfg);
  return describeSample((sample: Sample, rng: Rng): Sample => {
    let img: RgbImage = sample;
    img = cfg.scale
      ? randomResizedCrop(img, cfg.inputSize, rng, cfg.scale, cfg.ratio, 'bicubic')
      : evalGeometry(img, { size: cfg.inputSize, cropPct: cfg.cropPct });
    if (cfg.hflip > 0 && rng.random() < cfg.hflip) img = hflip(img);
    if (cfg.geometric) img = randomAffine(img, cfg.geometric, rng, fill);
    if (ra) img = randAugment(img, ra, rng);
    return asSample(img, sample);
  }, { kind: 'train', augment: cfg });
}

/** Pad-and-crop (which also flips) in place of RandomResizedCrop, then the rest of the timm pipeline. */
export function buildCropPadTransform(cfg: AugmentConfig, cropPadding: number): SampleTransform {
  const after = buildTrainTransform({ ...cfg, scale: null, cropPct: 1, hflip: 0 });
  const pad = randomCropPad(cropPadding, cfg.hflip);
  return describeSample(async (s, rng) => after(await pad(s, rng), rng), { kind: 'train', augment: cfg, cropPadding });
}

/**
 * The evaluation transform: `cropMode` 'center' (default) resizes the shorter side to inputSize / cropPct and
 * centre-crops; 'squash' resizes both sides (the official ConvNeXt evaluation at 384 px, with cropPct 1).
 */
export function buildEvalTransform(cfg: Pick<AugmentConfig, 'inputSize' | 'cropPct'> & { cropMode?: CropMode }): SampleTransform {
  const cropMode = cfg.cropMode ?? 'center';
  return describeSample(
    (sample: Sample): Sample => asSample(evalGeometry(sample, { size: cfg.inputSize, cropPct: cfg.cropPct, cropMode }), sample),
    { kind: 'eval', inputSize: cfg.inputSize, cropPct: cfg.cropPct, ...(cropMode === 'squash' ? { cropMode } : {}) },
  );
}

/** Runs batch transforms in order, each with the batch's rng (they draw in a fixed sequence). */
export function composeBatch(...fns: BatchTransform[]): BatchTransform {
  return (batch: HostBatch, rng: Rng) => {
    for (const f of fns) f(batch, rng);
  };
}

/**
 * Random Erasing, then Mixup / CutMix (which also smooths the targets), or label smoothing alone. Returns
 * undefined when nothing is on. Regression (numClasses 0) only gets erasing.
 */
export function buildBatchTransform(cfg: AugmentConfig, numClasses: number): BatchTransform | undefined {
  const fns: BatchTransform[] = [];
  if (cfg.reprob > 0) fns.push(randomErasingTransform({ prob: cfg.reprob }));
  if (numClasses > 0) {
    if (cfg.mixup > 0 || cfg.cutmix > 0) {
      fns.push(
        mixupTransform({
          mixupAlpha: cfg.mixup,
          cutmixAlpha: cfg.cutmix,
          prob: cfg.mixupProb,
          switchProb: cfg.mixupSwitchProb,
          smoothing: cfg.smoothing,
          numClasses,
        }),
      );
    } else if (cfg.smoothing > 0) {
      fns.push(labelSmoothingTransform(cfg.smoothing, numClasses));
    }
  }
  return fns.length > 0 ? describeBatch(composeBatch(...fns), { augment: cfg, numClasses }) : undefined;
}

/** Rebuilds the transform a SampleSpec describes (in a loader worker thread). */
export function sampleTransformFromSpec(spec: SampleSpec): SampleTransform {
  if (spec.kind === 'eval') return buildEvalTransform(spec);
  return spec.cropPadding ? buildCropPadTransform(spec.augment, spec.cropPadding) : buildTrainTransform(spec.augment);
}

export function batchTransformFromSpec(spec: BatchSpec): BatchTransform | undefined {
  return buildBatchTransform(spec.augment, spec.numClasses);
}
