/**
 * Squeeze-and-Excitation (Hu et al., CVPR 2018) with the reproduction study's BatchNorm on its output.
 */
import { tf } from '../backend';
import { BatchNorm2d } from './batch-norm';
import { Linear } from './linear';
import { FeatureShape, MacCounter, Module } from './module';
import { globalAvgPool, scaleChannels } from './pool';

export interface SqueezeExciteOptions {
  /** Hidden width of the excitation MLP is channels / reduction (16 in SENet). */
  reduction?: number;
  /** BatchNorm2d on the recalibrated map, as the study adds (true by default). */
  batchNorm?: boolean;
}

/** Hidden width of a reduction MLP: channels // reduction, at least 1 (PyTorch integer division). */
export function reducedWidth(channels: number, reduction: number): number {
  if (!(reduction > 0)) throw new Error(`reduction must be positive, got ${reduction}`);
  return Math.max(1, Math.floor(channels / reduction));
}

/**
 * x · sigmoid(fc2(relu(fc1(avgpool(x))))) → BatchNorm2d. Parameters: `fc1`, `fc2` (Linear) and `bn`.
 */
export class SqueezeExcite extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly bn?: BatchNorm2d;

  constructor(readonly channels: number, opts: SqueezeExciteOptions = {}) {
    super();
    const hidden = reducedWidth(channels, opts.reduction ?? 16);
    this.fc1 = this.registerModule('fc1', new Linear(channels, hidden));
    this.fc2 = this.registerModule('fc2', new Linear(hidden, channels));
    if (opts.batchNorm ?? true) this.bn = this.registerModule('bn', new BatchNorm2d(channels));
  }

  /** Per-sample channel weights in (0, 1): [N, C]. */
  excitation(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => tf.sigmoid(this.fc2.forward(tf.relu(this.fc1.forward(globalAvgPool(x))))));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const y = scaleChannels(x, this.excitation(x));
      return this.bn ? this.bn.forward(y) : y;
    });
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    counter.within('fc1', () => this.fc1.profile([1, 1, this.channels], counter));
    counter.within('fc2', () => this.fc2.profile([1, 1, this.fc1.outFeatures], counter));
    return input;
  }
}
