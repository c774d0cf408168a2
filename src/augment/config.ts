/**
 * The augmentation recipe as a plain object. Defaults are the paper's ImageNet-1K training recipe
 * (ConvNeXt Table 1 / Appendix A.1, following DeiT / timm): RandomResizedCrop 224 with scale (0.08, 1),
 * horizontal flip, RandAugment rand-m9-mstd0.5-inc1, Mixup 0.8, CutMix 1.0 (switch prob 0.5, prob 1.0),
 * label smoothing 0.1, Random Erasing 0.25 ('pixel' mode); eval: resize to 224 / 0.875 = 256 and centre
 * crop 224. `geometric` (off by default) is the reproduction study's extra random affine.
 */
import { IMAGENET_NORM, type Normalization } from '../image/normalize';

export interface GeometricConfig {
  /** Maximum rotation in degrees, drawn uniformly from [-rotate, rotate]. */
  rotate: number;
  /** Isotropic scale range. */
  scale: [number, number];
  /** Maximum translation as a fraction of width / height, drawn uniformly from [-t, t]. */
  translate: number;
}

export interface AugmentConfig {
  /** Square model input size (pixels). */
  inputSize: number;
  /** RandomResizedCrop area range; null for a plain resize + centre crop in training too. */
  scale: [number, number] | null;
  /** RandomResizedCrop aspect-ratio range. */
  ratio: [number, number];
  /** Horizontal flip probability. */
  hflip: number;
  /** timm RandAugment policy string, '' for none. */
  randAugment: string;
  /** Random Erasing probability ('pixel' mode), 0 for none. */
  reprob: number;
  /** Mixup alpha, 0 for none. */
  mixup: number;
  /** CutMix alpha, 0 for none. */
  cutmix: number;
  /** Probability of applying mixup or cutmix to a batch. */
  mixupProb: number;
  /** Probability of CutMix instead of Mixup when both are on. */
  mixupSwitchProb: number;
  /** Label smoothing. */
  smoothing: number;
  /** Extra random affine (the study's geometric augmentation), or false. */
  geometric: GeometricConfig | false;
  /** Eval centre-crop fraction: resize the short side to inputSize / cropPct, then crop inputSize. */
  cropPct: number;
  normalize: Normalization;
}

export const PAPER_AUGMENT: AugmentConfig = {
  inputSize: 224,
  scale: [0.08, 1],
  ratio: [3 / 4, 4 / 3],
  hflip: 0.5,
  randAugment: 'rand-m9-mstd0.5-inc1',
  reprob: 0.25,
  mixup: 0.8,
  cutmix: 1.0,
  mixupProb: 1.0,
  mixupSwitchProb: 0.5,
  smoothing: 0.1,
  geometric: false,
  cropPct: 0.875,
  normalize: IMAGENET_NORM,
};

/** The study's geometric augmentation when switched on without explicit values. */
export const DEFAULT_GEOMETRIC: GeometricConfig = { rotate: 15, scale: [0.9, 1.1], translate: 0.1 };

export function augmentConfig(overrides: Partial<AugmentConfig> = {}): AugmentConfig {
  return { ...PAPER_AUGMENT, ...overrides };
}
