/**
 * FLOP breakdowns for comparing our counts with the paper's roadmap column: conv+linear MACs by part
 * of the network, and the normalised elements that counters such as fvcore add on top.
 */
import { tf } from '../../backend';
import { BatchNorm2d } from '../batch-norm';
import { LayerNorm } from '../layers';
import { MacCounter, Module } from '../module';
import { Classifier } from '../registry';

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

/**
 * Counts what every BatchNorm and LayerNorm normalises in one forward pass of a `size`x`size` image,
 * like a PyTorch forward hook: each norm instance's forward is wrapped for the pass and restored.
 * Runs in eval mode (no running-statistics update) and restores the train/eval flags.
 */
export function normElements(model: Classifier, size: number, inChans = 3): NormElements {
  const counts: NormElements = { batch: 0, layer: 0 };
  type Forward = (x: tf.Tensor) => tf.Tensor;
  const wrapped: Array<Module & { forward: Forward }> = [];
  const modes = model.namedModules().map(([, m]) => [m, m.training] as const);
  try {
    for (const [, m] of model.namedModules()) {
      const kind = m instanceof BatchNorm2d ? 'batch' : m instanceof LayerNorm ? 'layer' : undefined;
      if (!kind) continue;
      const norm = m as unknown as Module & { forward: Forward };
      const original = norm.forward;
      norm.forward = (x: tf.Tensor) => {
        counts[kind] += x.size / x.shape[0];
        return original.call(norm, x);
      };
      wrapped.push(norm);
    }
    model.eval();
    tf.tidy(() => {
      model.forward(tf.zeros([1, size, size, inChans]) as tf.Tensor4D);
    });
  } finally {
    // Deleting the own property brings the class's forward back.
    for (const m of wrapped) delete (m as Partial<{ forward: Forward }>).forward;
    for (const [m, training] of modes) m.training = training;
  }
  return counts;
}

/**
 * fvcore's FlopCountAnalysis convention (one FLOP per multiply-accumulate, as the paper's tables):
 * conv and linear MACs, plus 5 per LayerNorm element and 2 per BatchNorm element in eval mode
 * (fvcore's estimates for affine norms); activations, additions and pooling are not counted.
 */
export function fvcoreStyleFlops(macs: number, norms: NormElements): number {
  return macs + 5 * norms.layer + 2 * norms.batch;
}
