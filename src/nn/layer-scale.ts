/** timm's LayerScale (CaiT; ViT's optional `init_values`): a learned per-channel factor `gamma`. */
import { tf } from '../backend';
import { FeatureShape, Module } from './module';

export class LayerScale extends Module {
  readonly gamma: tf.Variable;

  constructor(dim: number, initValue: number) {
    super();
    this.gamma = this.registerParameter('gamma', tf.fill([dim], initValue));
  }

  forward<T extends tf.Tensor>(x: T): T {
    return tf.mul(x, this.gamma);
  }

  profile(input: FeatureShape): FeatureShape {
    return input;
  }
}
