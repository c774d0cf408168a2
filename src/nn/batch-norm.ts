/** torch.nn.BatchNorm2d for NHWC tensors: the normalisation of ResNets and of the early roadmap steps. */
import { tf } from '../backend';
import { FeatureShape, Module } from './module';

export interface BatchNormOptions {
  /** Added to the variance before the square root (PyTorch default 1e-5). */
  eps?: number;
  /** Weight of the new batch statistic in the running averages (PyTorch default 0.1). */
  momentum?: number;
}

/**
 * Batch normalisation over the batch and spatial axes of an NHWC tensor, per channel. In training it
 * normalises with the batch's mean and biased variance and updates the running averages (the variance
 * unbiased, n / (n - 1), as PyTorch does); in eval it normalises with the running averages. The running
 * statistics are non-trainable parameters named `running_mean` and `running_var`, so state dicts carry
 * them under PyTorch's names while optimisers and parameter counts skip them.
 */
export class BatchNorm2d extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  readonly eps: number;
  readonly momentum: number;

  constructor(readonly channels: number, opts: BatchNormOptions = {}) {
    super();
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum ?? 0.1;
    this.weight = this.registerParameter('weight', tf.ones([channels]));
    this.bias = this.registerParameter('bias', tf.zeros([channels]));
    this.runningMean = this.registerParameter('running_mean', tf.zeros([channels]), false);
    this.runningVar = this.registerParameter('running_var', tf.ones([channels]), false);
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    if (x.rank !== 4 || x.shape[3] !== this.channels) {
      throw new Error(`BatchNorm2d(${this.channels}) expects an NHWC tensor with ${this.channels} channels; ` +
        `got shape [${x.shape.join(', ')}]`);
    }
    return tf.tidy(() => {
      let mean: tf.Tensor;
      let variance: tf.Tensor;
      if (this.training) {
        const n = x.shape[0] * x.shape[1] * x.shape[2];
        if (n < 2) {
          throw new Error('BatchNorm2d in training mode needs more than one value per channel (batch and spatial size 1)');
        }
        ({ mean, variance } = tf.moments(x, [0, 1, 2]));
        this.updateRunningStats(mean, variance, n);
      } else {
        mean = this.runningMean;
        variance = this.runningVar;
      }
      // Folding weight and rsqrt into one per-channel scale keeps the big NHWC tensor to two ops.
      const scale = tf.mul(this.weight, tf.rsqrt(tf.add(variance, this.eps)));
      const shift = tf.sub(this.bias, tf.mul(mean, scale));
      return tf.add(tf.mul(x, scale), shift);
    });
  }

  private updateRunningStats(mean: tf.Tensor, variance: tf.Tensor, n: number): void {
    // Assignments are not taped, so the running averages stay out of every gradient.
    const m = this.momentum;
    const unbiased = tf.mul(variance, n / (n - 1));
    this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)));
    this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(unbiased, m)));
  }

  profile(input: FeatureShape): FeatureShape {
    return input;
  }
}
