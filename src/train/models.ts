/**
 * ConvNeXt variants for 32x32 inputs (CIFAR-10), registered by name for configs and the CLI. A 4x4
 * patchify stem would leave an 8x8 map; a 2x2 stem keeps 16x16 for the first stage and three stages then
 * reach 4x4. Widths are sized to train for a handful of epochs on a 2-core CPU in 30 minutes (measured in
 * notebook 03); the blocks are the paper's (7x7 depthwise unless noted, LayerNorm, GELU, layer scale).
 */
import { ConvNeXt, type ConvNeXtConfig } from '../convnext/convnext';
import { listModels, registerModel } from '../convnext/registry';

export const CIFAR_VARIANTS: Record<string, Pick<ConvNeXtConfig, 'depths' | 'dims' | 'stemPatchSize' | 'kernelSize'>> = {
  /** 3 stages (16, 8, 4), 0.4M params. */
  convnext_cifar_pico: { stemPatchSize: 2, depths: [2, 2, 2], dims: [32, 64, 128], kernelSize: 7 },
  /** 3 stages (16, 8, 4), 1.6M params. */
  convnext_cifar_nano: { stemPatchSize: 2, depths: [2, 2, 2], dims: [64, 128, 256], kernelSize: 7 },
  /** 4 stages (8, 4, 2, 1) with the ImageNet stem, 6.4M params. */
  convnext_cifar_s4: { stemPatchSize: 4, depths: [2, 2, 2, 2], dims: [64, 128, 256, 512], kernelSize: 7 },
};

for (const [name, arch] of Object.entries(CIFAR_VARIANTS)) {
  // Registration is global; a second import of this module (tsx + notebooks) must not throw.
  if (listModels().includes(name)) continue;
  registerModel({
    name,
    description: `ConvNeXt for 32x32: stem ${arch.stemPatchSize}, depths ${arch.depths.join(',')}, dims ${arch.dims.join(',')}, kernel ${arch.kernelSize}`,
    defaultSize: 32,
    create: (opts) => new ConvNeXt({ ...arch, numClasses: 10, ...opts }),
  });
}


