import { tf } from '../backend';
import { nativeOps } from '../native';
import { fusedLayerNorm } from './fast-norm';
import { FeatureShape, Module } from './module';

/**
 * LayerNorm over the channel (last) axis, written from plain ops: tf.layers.layerNormalization is
 * very slow to train in tfjs. eps 1e-6 as in ConvNeXt.
 */
export class LayerNorm extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(readonly channels: number, readonly eps = 1e-6) {
    super();
    this.weight = this.registerParameter('weight', tf.ones([channels]));
    this.bias = this.registerParameter('bias', tf.zeros([channels]));
  }

  forward<T extends tf.Tensor>(x: T): T {
    const ops = nativeOps();
    if (ops) return tf.tidy(() => fusedLayerNorm(ops, x, this.weight, this.bias, tf.zeros([this.channels]), this.eps));
    return tf.tidy(() => {
      const axis = x.rank - 1;
      const { mean, variance } = tf.moments(x, axis, true);
      const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.eps)));
      return tf.add(tf.mul(normed, this.weight), this.bias) as T;
    });
  }

  profile(input: FeatureShape): FeatureShape {
    return input;
  }
}
