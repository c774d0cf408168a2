/**
 * timm's RandAugment (Cubuk et al. 2020 with timm's variations), parsed from timm's policy strings. The
 * paper trains with `rand-m9-mstd0.5-inc1`: 2 ops a image drawn with replacement from the "increasing"
 * op set (severity grows with magnitude), each applied with probability 0.5, magnitude ~ N(9, 0.5)
 * clipped to [0, 10] per application, signed ops negated half of the time.
 */
import type { Rng } from '../util/rng';
import { rotationMatrix, warpAffine, type Fill } from './affine';
import * as C from './color';
import type { RgbImage } from '../image/sample';

/** timm's magnitude scale: magnitude 10 is an op's full strength. */
const LEVEL_DENOM = 10;

export type RandAugmentOpName =
  | 'AutoContrast' | 'Equalize' | 'Invert' | 'Rotate'
  | 'Posterize' | 'PosterizeIncreasing' | 'Solarize' | 'SolarizeIncreasing' | 'SolarizeAdd'
  | 'Color' | 'ColorIncreasing' | 'Contrast' | 'ContrastIncreasing'
  | 'Brightness' | 'BrightnessIncreasing' | 'Sharpness' | 'SharpnessIncreasing'
  | 'ShearX' | 'ShearY' | 'TranslateXRel' | 'TranslateYRel';

/** timm _RAND_TRANSFORMS (inc0). */
export const RAND_TRANSFORMS: RandAugmentOpName[] = [
  'AutoContrast', 'Equalize', 'Invert', 'Rotate', 'Posterize', 'Solarize', 'SolarizeAdd', 'Color',
  'Contrast', 'Brightness', 'Sharpness', 'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel',
];

/** timm _RAND_INCREASING_TRANSFORMS (inc1), the paper's set. */
export const RAND_INCREASING_TRANSFORMS: RandAugmentOpName[] = [
  'AutoContrast', 'Equalize', 'Invert', 'Rotate', 'PosterizeIncreasing', 'SolarizeIncreasing', 'SolarizeAdd',
  'ColorIncreasing', 'ContrastIncreasing', 'BrightnessIncreasing', 'SharpnessIncreasing', 'ShearX', 'ShearY',
  'TranslateXRel', 'TranslateYRel',
];

export interface RandAugmentConfig {
  /** Mean magnitude on timm's 0..10 scale. */
  magnitude: number;
  /** Ops applied per image. */
  numLayers: number;
  /** Std of the per-application magnitude noise; Infinity draws uniformly from [0, magnitude]. */
  magnitudeStd: number;
  /** Upper clip of the drawn magnitude. */
  magnitudeMax: number;
  /** Probability each chosen op is applied. */
  prob: number;
  ops: RandAugmentOpName[];
  /** Fill for pixels uncovered by geometric ops (timm: the dataset mean in 0..255). */
  fill: Fill;
  /** translate_pct: the TranslateRel range at magnitude 10. */
  translatePct: number;
}

/** timm's img_mean hparam for ImageNet: round(255 * IMAGENET_DEFAULT_MEAN). */
export const IMAGENET_FILL: Fill = [124, 116, 104];

/** Parses a timm RandAugment string such as 'rand-m9-mstd0.5-inc1' (sections m, n, mstd, mmax, inc). */
export function parseRandAugment(policy: string, fill: Fill = IMAGENET_FILL): RandAugmentConfig {
  const parts = policy.split('-');
  if (parts[0] !== 'rand') throw new Error(`RandAugment policy must start with 'rand', got '${policy}'`);
  const cfg: RandAugmentConfig = {
    magnitude: LEVEL_DENOM,
    numLayers: 2,
    magnitudeStd: 0,
    magnitudeMax: LEVEL_DENOM,
    prob: 0.5,
    ops: RAND_TRANSFORMS,
    fill,
    translatePct: 0.45,
  };
  for (const part of parts.slice(1)) {
    const m = /^([a-z]+)(\d.*)$/.exec(part);
    if (!m) throw new Error(`RandAugment policy '${policy}': cannot parse section '${part}'`);
    const [, key, val] = m;
    const num = Number(val);
    if (!Number.isFinite(num)) throw new Error(`RandAugment policy '${policy}': '${val}' is not a number`);
    switch (key) {
      case 'm':
        cfg.magnitude = num;
        break;
      case 'n':
        cfg.numLayers = num;
        break;
      case 'mstd':
        // timm: values above 100 mean uniform sampling in [0, magnitude].
        cfg.magnitudeStd = num > 100 ? Infinity : num;
        break;
      case 'mmax':
        cfg.magnitudeMax = num;
        break;
      case 'inc':
        cfg.ops = num ? RAND_INCREASING_TRANSFORMS : RAND_TRANSFORMS;
        break;
      default:
        throw new Error(`RandAugment policy '${policy}': unknown section '${key}' (known: m, n, mstd, mmax, inc)`);
    }
  }
  return cfg;
}

/** timm's _randomly_negate: negative with probability 1/2. */
function negate(v: number, rng: Rng): number {
  return rng.random() > 0.5 ? -v : v;
}

/** One op at a given magnitude, drawing its sign (if any) from rng. Mirrors timm's LEVEL_TO_ARG table. */
export function applyOp(
  name: RandAugmentOpName,
  img: RgbImage,
  magnitude: number,
  rng: Rng,
  cfg: Pick<RandAugmentConfig, 'fill' | 'translatePct'> = { fill: IMAGENET_FILL, translatePct: 0.45 },
): RgbImage {
  const level = magnitude / LEVEL_DENOM;
  const enhance = (): number => level * 1.8 + 0.1;
  const enhanceIncreasing = (): number => Math.max(0.1, 1 + negate(level * 0.9, rng));
  const { height: H, width: W } = img;
  switch (name) {
    case 'AutoContrast':
      return C.autoContrast(img);
    case 'Equalize':
      return C.equalize(img);
    case 'Invert':
      return C.invert(img);
    case 'Rotate':
      return warpAffine(img, rotationMatrix(negate(level * 30, rng), H, W), cfg.fill);
    case 'Posterize':
      return C.posterize(img, Math.trunc(level * 4));
    case 'PosterizeIncreasing':
      return C.posterize(img, 4 - Math.trunc(level * 4));
    case 'Solarize':
      return C.solarize(img, Math.trunc(level * 256));
    case 'SolarizeIncreasing':
      return C.solarize(img, 256 - Math.trunc(level * 256));
    case 'SolarizeAdd':
      return C.solarizeAdd(img, Math.trunc(level * 110));
    case 'Color':
      return C.color(img, enhance());
    case 'ColorIncreasing':
      return C.color(img, enhanceIncreasing());
    case 'Contrast':
      return C.contrast(img, enhance());
    case 'ContrastIncreasing':
      return C.contrast(img, enhanceIncreasing());
    case 'Brightness':
      return C.brightness(img, enhance());
    case 'BrightnessIncreasing':
      return C.brightness(img, enhanceIncreasing());
    case 'Sharpness':
      return C.sharpness(img, enhance());
    case 'SharpnessIncreasing':
      return C.sharpness(img, enhanceIncreasing());
    case 'ShearX':
      return warpAffine(img, [1, negate(level * 0.3, rng), 0, 0, 1, 0], cfg.fill);
    case 'ShearY':
      return warpAffine(img, [1, 0, 0, negate(level * 0.3, rng), 1, 0], cfg.fill);
    case 'TranslateXRel':
      return warpAffine(img, [1, 0, negate(level * cfg.translatePct, rng) * W, 0, 1, 0], cfg.fill);
    case 'TranslateYRel':
      return warpAffine(img, [1, 0, 0, 0, 1, negate(level * cfg.translatePct, rng) * H], cfg.fill);
  }
}

/** Draws an application's magnitude as timm's AugmentOp does. */
function drawMagnitude(cfg: RandAugmentConfig, rng: Rng): number {
  let m = cfg.magnitude;
  if (cfg.magnitudeStd === Infinity) m = rng.uniform(0, m);
  else if (cfg.magnitudeStd > 0) m = rng.normal(m, cfg.magnitudeStd);
  return Math.max(0, Math.min(m, cfg.magnitudeMax));
}

export interface RandAugmentTrace {
  op: RandAugmentOpName;
  applied: boolean;
  magnitude?: number;
}

/** Applies RandAugment to one image; `trace`, if given, records what was drawn (for tests and grids). */
export function randAugment(img: RgbImage, cfg: RandAugmentConfig, rng: Rng, trace?: RandAugmentTrace[]): RgbImage {
  for (let i = 0; i < cfg.numLayers; i++) {
    const op = rng.choice(cfg.ops);
    if (cfg.prob < 1 && rng.random() > cfg.prob) {
      trace?.push({ op, applied: false });
      continue;
    }
    const magnitude = drawMagnitude(cfg, rng);
    trace?.push({ op, applied: true, magnitude });
    img = applyOp(op, img, magnitude, rng, cfg);
  }
  return img;
}
