import { ConvNeXt, ConvNeXtConfig } from './convnext';
import { Module } from '../nn/module';

/** Anything the registry can build: a module with a logits forward pass. */
export interface Classifier extends Module {
  forward(x: import('../backend').tf.Tensor4D): import('../backend').tf.Tensor2D;
}

export interface ModelOptions {
  numClasses?: number;
  inChans?: number;
  dropPathRate?: number;
  headInitScale?: number;
  layerScaleInitValue?: number;
}

export interface ModelEntry {
  name: string;
  description: string;
  /** Input resolution the model is usually evaluated at. */
  defaultSize: number;
  create(opts: ModelOptions): Classifier;
}

const entries = new Map<string, ModelEntry>();

export function registerModel(entry: ModelEntry): void {
  if (entries.has(entry.name)) throw new Error(`model ${entry.name} is registered twice`);
  entries.set(entry.name, entry);
}

export function listModels(): string[] {
  return [...entries.keys()];
}

export function getModelEntry(name: string): ModelEntry {
  const e = entries.get(name);
  if (!e) {
    throw new Error(`unknown model "${name}". Known models: ${listModels().join(', ')}`);
  }
  return e;
}

export function createModel(name: string, opts: ModelOptions = {}): Classifier {
  return getModelEntry(name).create(opts);
}

/** Depths and widths of the ConvNeXt family (atto…nano from timm, tiny…xlarge from the paper). */
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

for (const [variant, arch] of Object.entries(CONVNEXT_VARIANTS)) {
  registerModel({
    name: `convnext_${variant}`,
    description: `ConvNeXt-${variant}: depths ${arch.depths.join(',')}, dims ${arch.dims.join(',')}`,
    defaultSize: 224,
    create: (opts) => new ConvNeXt({ ...arch, ...opts }),
  });
}
