import { tf } from '../backend';
import { truncNormal } from './init';
import { matMul2d } from './matmul';
import { FeatureShape, MacCounter, Module } from './module';

/**
 * torch.nn.Linear(in, out, bias=False) over the last axis: Swin's patch-merging `reduction`. `weight` is
 * stored [in, out] (PyTorch: [out, in]), as Linear's, and weights.ts converts it the same way.
 */
export class LinearNoBias extends Module {
  readonly weight: tf.Variable;

  constructor(readonly inFeatures: number, readonly outFeatures: number) {
    super();
    this.weight = this.registerParameter('weight', truncNormal([inFeatures, outFeatures]));
  }

  forward<T extends tf.Tensor>(x: T): T {
    return tf.tidy(() => {
      const flat = x.reshape([-1, this.inFeatures]) as tf.Tensor2D;
      return matMul2d(flat, this.weight as tf.Tensor2D).reshape([...x.shape.slice(0, -1), this.outFeatures]) as T;
    });
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    counter.add(input[0] * input[1] * this.inFeatures * this.outFeatures);
    return [input[0], input[1], this.outFeatures];
  }
}
