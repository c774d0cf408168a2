import { tf } from '../backend';
import { NativeOps, nativeOps } from '../native';
import { FeatureShape, Module } from './module';

/**
 * GELU with the exact erf form, as torch.nn.GELU() (not the tanh approximation). With the native ops on, one
 * fused kernel each way (the plain-op form records ~10 full-size ops forward and backward).
 */
export function gelu<T extends tf.Tensor>(x: T): T {
  const ops = nativeOps();
  if (ops && x.rank > 0 && x.dtype === 'float32') return nativeGelu(ops, x);
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)) as T);
}

function nativeGelu<T extends tf.Tensor>(ops: NativeOps, x: T): T {
  const f = tf.customGrad((...args: unknown[]) => {
    const [xi] = args as tf.Tensor[];
    const zero = tf.zeros([xi.shape[xi.rank - 1]]);
    (args[1] as tf.GradSaveFunc)([xi, zero]);
    return {
      value: ops.biasGelu(xi, zero),
      gradFunc: (dy: tf.Tensor, [xs, zs]: tf.Tensor[]) => [ops.biasGeluGrad(dy, xs, zs)[0]],
    };
  }) as (xi: tf.Tensor) => tf.Tensor;
  return f(x) as T;
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
