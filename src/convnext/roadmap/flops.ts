/**
 * FLOP breakdowns for comparing our counts with the paper's roadmap column: conv+linear MACs by part
 * of the network, and the normalised elements that counters such as fvcore add on top.
 */
import { ConvNeXt } from '../convnext';
import { MacCounter, Module } from '../../nn/module';
import { ModernResNet } from './modern-resnet';

/** Conv+linear MACs of one image split by role; the parts sum to `complexity(model).macs`. */
export interface MacsByPart {
  /** The stem conv (ResNet `conv1`, ConvNeXt `downsample_layers.0`). */
  stem: number;
  /** Residual branches of all blocks. */
  blocks: number;
  /** 1x1 projection shortcuts of strided or widening blocks (ResNet `downsample`). */
  shortcuts: number;
  /** Separate downsampling convs between stages (ConvNeXt `downsample_layers.1-3`). */
  downsampling: number;
  /** The classifier. */
  head: number;
}

const PARTS: Array<[keyof MacsByPart, RegExp]> = [
  ['shortcuts', /^layer\d+\.\d+\.downsample/],
  ['stem', /^(conv1|downsample_layers\.0)(\.|$)/],
  ['downsampling', /^downsample_layers\.\d+/],
  ['blocks', /^(layer\d+|stages)\./],
  ['head', /^(fc|head)$/],
];

export function macsByPart(model: Module, size: number, inChans = 3): MacsByPart {
  const counter = new MacCounter();
  model.profile([size, size, inChans], counter);
  const out: MacsByPart = { stem: 0, blocks: 0, shortcuts: 0, downsampling: 0, head: 0 };
  for (const [scope, macs] of counter.byScope) {
    const part = PARTS.find(([, re]) => re.test(scope));
    if (!part) throw new Error(`macsByPart: no part for scope "${scope}"`);
    out[part[0]] += macs;
  }
  return out;
}

export interface NormElements {
  /** Values normalised by BatchNorm layers for one image. */
  batch: number;
  /** Values normalised by LayerNorm layers for one image. */
  layer: number;
}

/** LayerNorm inputs of a plain ConvNeXt: stem, one per block, one before each downsampling conv, final. */
function convnextNormElements(c: ConvNeXt['config'], size: number): number {
  const side = c.dims.map((_, i) => size / c.stemPatchSize / 2 ** i);
  const perStage = c.dims.map((d, i) => side[i] * side[i] * d);
  const blocks = perStage.reduce((s, e, i) => s + e * c.depths[i], 0);
  const beforeDownsampling = perStage.slice(0, -1).reduce((a, b) => a + b, 0);
  return perStage[0] + blocks + beforeDownsampling + c.dims[c.dims.length - 1];
}

/**
 * What every BatchNorm and LayerNorm normalises for one `size`x`size` image, from the layer shapes
 * (what PyTorch forward hooks on the norm layers would see; the test checks it against them).
 */
export function normElements(model: ModernResNet | ConvNeXt, size: number): NormElements {
  if (model instanceof ModernResNet) {
    const n = model.normElements(size);
    return model.config.norm === 'batch' ? { batch: n, layer: 0 } : { batch: 0, layer: n };
  }
  return { batch: 0, layer: convnextNormElements(model.config, size) };
}

/**
 * fvcore's FlopCountAnalysis convention (one FLOP per multiply-accumulate, as the paper's tables):
 * conv and linear MACs, plus 5 per LayerNorm element and 2 per BatchNorm element in eval mode
 * (fvcore's estimates for affine norms); activations, additions and pooling are not counted.
 */
export function fvcoreStyleFlops(macs: number, norms: NormElements): number {
  return macs + 5 * norms.layer + 2 * norms.batch;
}
