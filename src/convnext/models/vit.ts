/**
 * Vision Transformers under timm's names: the DeiT/ViT sizes at 224 px with 16x16 patches, and small
 * configurations that train on a 2-core CPU in quick mode:
 * - `vit_mini_patch4_32`: 32 px (CIFAR), 4x4 patches → 8x8 = 64 tokens, 192 wide, 6 blocks of 3 heads (2.7M params).
 * - `vit_mini_patch8_64`: the same transformer on 64 px images with 8x8 patches (64 tokens again).
 * Every model accepts any input whose sides are multiples of its patch size (the position embedding is
 * resampled, see vit.ts).
 */
import type { ModelEntry } from '../model';
import { VisionTransformer, type VisionTransformerConfig } from '../vit';

type VitArch = Pick<VisionTransformerConfig, 'embedDim' | 'depth' | 'numHeads' | 'patchSize' | 'imgSize' | 'numClasses'>;

export const VIT_VARIANTS: Record<string, VitArch> = {
  vit_tiny_patch16_224: { embedDim: 192, depth: 12, numHeads: 3, patchSize: 16, imgSize: 224 },
  vit_small_patch16_224: { embedDim: 384, depth: 12, numHeads: 6, patchSize: 16, imgSize: 224 },
  vit_base_patch16_224: { embedDim: 768, depth: 12, numHeads: 12, patchSize: 16, imgSize: 224 },
  vit_mini_patch4_32: { embedDim: 192, depth: 6, numHeads: 3, patchSize: 4, imgSize: 32, numClasses: 10 },
  vit_mini_patch8_64: { embedDim: 192, depth: 6, numHeads: 3, patchSize: 8, imgSize: 64 },
};

export const VIT_MODELS: ModelEntry[] = Object.entries(VIT_VARIANTS).map(([name, arch]) => ({
  name,
  description: `ViT: ${arch.imgSize} px, patch ${arch.patchSize}, dim ${arch.embedDim}, depth ${arch.depth}, ${arch.numHeads} heads`,
  defaultSize: arch.imgSize ?? 224,
  create: (opts) => new VisionTransformer({ ...arch, ...opts }),
}));
