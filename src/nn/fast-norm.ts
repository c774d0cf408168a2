/** LayerNorm on the native fused kernels (timm's fast_norm beside norm): what LayerNorm runs when they load. */
import { tf } from '../backend';
import { NativeOps } from '../native';

/**
 * LayerNorm over the last axis of `x + biasIn` in one fused kernel, with a hand-written gradient (one
 * fused kernel too) for x, weight, bias and biasIn. `biasIn` lets a preceding layer's bias ride along.
 */
export function fusedLayerNorm<T extends tf.Tensor>(
  ops: NativeOps, x: T, weight: tf.Tensor, bias: tf.Tensor, biasIn: tf.Tensor, eps: number,
): T {
  const f = tf.customGrad((...args: unknown[]) => {
    const [xi, w, b, bi] = args as tf.Tensor[];
    const save = args[4] as tf.GradSaveFunc;
    const [y, mean, rstd] = ops.layerNorm(xi, w, b, bi, eps);
    // Inputs made inside the caller's tidy (biasIn) are gone by backprop time unless saved.
    save([xi, mean, rstd, w, bi]);
    return {
      value: y.reshape(xi.shape),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, m, r, ws, bs] = saved;
        return ops.layerNormGrad(dy, xs, ws, bs, m as tf.Tensor1D, r as tf.Tensor1D);
      },
    };
  }) as (...t: tf.Tensor[]) => tf.Tensor;
  return f(x, weight, bias, biasIn) as T;
}
