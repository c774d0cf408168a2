/** The ConvNeXt family (atto…nano from timm, tiny…xlarge from the paper). */
import { ConvNeXt, type ConvNeXtConfig } from '../convnext';
import type { ModelEntry } from '../model';

/** Depths and widths of each variant. */
export const CONVNEXT_VARIANTS: Record<string, Pick<ConvNeXtConfig, 'depths' | 'dims'>> = {
  atto: { depths: [2, 2, 6, 2], dims: [40, 80, 160, 320] },
  femto: { depths: [2, 2, 6, 2], dims: [48, 96, 192, 384] },
  pico: { depths: [2, 2, 6, 2], dims: [64, 128, 256, 512] },
  nano: { depths: [2, 2, 8, 2], dims: [80, 160, 320, 640] },
  tiny: { depths: [3, 3, 9, 3], dims: [96, 192, 384, 768] },
  small: { depths: [3, 3, 27, 3], dims: [96, 192, 384, 768] },
  base: { depths: [3, 3, 27, 3], dims: [128, 256, 512, 1024] },
  large: { depths: [3, 3, 27, 3], dims: [192, 384, 768, 1536] },
  xlarge: { depths: [3, 3, 27, 3], dims: [256, 512, 1024, 2048] },
};

export const CONVNEXT_MODELS: ModelEntry[] = Object.entries(CONVNEXT_VARIANTS).map(([variant, arch]) => ({
  name: `convnext_${variant}`,
  description: `ConvNeXt-${variant}: depths ${arch.depths.join(',')}, dims ${arch.dims.join(',')}`,
  defaultSize: 224,
  create: (opts) => new ConvNeXt({ ...arch, ...opts }),
}));
