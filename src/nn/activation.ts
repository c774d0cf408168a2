import { tf } from '../backend';
import { FeatureShape, Module } from './module';

/** GELU with the exact erf form, as torch.nn.GELU() (not the tanh approximation). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)) as T);
}

/** torch.nn.GELU() as a module, for Sequential containers. */
export class GELU extends Module {
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return gelu(x);
  }

  profile(input: FeatureShape): FeatureShape {
    return input;
  }
}
