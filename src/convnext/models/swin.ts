/**
 * Swin Transformers under timm's names (patch 4, window 7, 224 px), and small configurations that train
 * on a 2-core CPU in quick mode:
 * - `swin_mini_patch2_window4_32`: 32 px (CIFAR), 2x2 patches, 3 stages on 16, 8, 4 maps, window 4 (the
 *   last stage's map is one window: no shift there), dims 48·2^i, heads 3, 6, 12.
 * - `swin_mini_patch4_window4_64`: the same on 64 px images with 4x4 patches.
 */
import type { ModelEntry } from '../model';
import { SwinTransformer, type SwinTransformerConfig } from '../swin';

type SwinArch = Pick<SwinTransformerConfig, 'embedDim' | 'depths' | 'numHeads' | 'patchSize' | 'windowSize' | 'imgSize' | 'numClasses'>;

export const SWIN_VARIANTS: Record<string, SwinArch> = {
  swin_tiny_patch4_window7_224: { embedDim: 96, depths: [2, 2, 6, 2], numHeads: [3, 6, 12, 24], patchSize: 4, windowSize: 7, imgSize: 224 },
  swin_small_patch4_window7_224: { embedDim: 96, depths: [2, 2, 18, 2], numHeads: [3, 6, 12, 24], patchSize: 4, windowSize: 7, imgSize: 224 },
  swin_base_patch4_window7_224: { embedDim: 128, depths: [2, 2, 18, 2], numHeads: [4, 8, 16, 32], patchSize: 4, windowSize: 7, imgSize: 224 },
  swin_mini_patch2_window4_32: { embedDim: 48, depths: [2, 2, 2], numHeads: [3, 6, 12], patchSize: 2, windowSize: 4, imgSize: 32, numClasses: 10 },
  swin_mini_patch4_window4_64: { embedDim: 48, depths: [2, 2, 2], numHeads: [3, 6, 12], patchSize: 4, windowSize: 4, imgSize: 64 },
};

export const SWIN_MODELS: ModelEntry[] = Object.entries(SWIN_VARIANTS).map(([name, arch]) => ({
  name,
  description: `Swin: ${arch.imgSize} px, patch ${arch.patchSize}, window ${arch.windowSize}, dim ${arch.embedDim}, ` +
    `depths ${arch.depths.join(',')}, heads ${arch.numHeads.join(',')}`,
  defaultSize: arch.imgSize ?? 224,
  create: (opts) => new SwinTransformer({ ...arch, ...opts }),
}));
