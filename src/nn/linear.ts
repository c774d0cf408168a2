import { tf } from '../backend';
import { truncNormal } from './init';
import { matMul2d } from './matmul';
import { FeatureShape, MacCounter, Module } from './module';

/** torch.nn.Linear over the last axis. `weight` is stored [in, out] (PyTorch: [out, in]). */
export class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(readonly inFeatures: number, readonly outFeatures: number) {
    super();
    this.weight = this.registerParameter('weight', truncNormal([inFeatures, outFeatures]));
    this.bias = this.registerParameter('bias', tf.zeros([outFeatures]));
  }

  forward<T extends tf.Tensor>(x: T): T {
    return tf.tidy(() => {
      const flat = x.reshape([-1, this.inFeatures]) as tf.Tensor2D;
      const y = tf.add(matMul2d(flat, this.weight as tf.Tensor2D), this.bias);
      return y.reshape([...x.shape.slice(0, -1), this.outFeatures]) as T;
    });
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    counter.add((input[0] * input[1] * this.inFeatures * this.outFeatures));
    return [input[0], input[1], this.outFeatures];
  }
}
