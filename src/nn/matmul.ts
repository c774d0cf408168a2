import { tf } from '../backend';
import { nativeOps } from '../native';

/**
 * a·b for 2-D a [M, K] and b [K, N], differentiable. tf.matMul always runs BatchMatMulV2, which oneDNN serves
 * up to 2x slower than the 2-D MatMul op on the Linears' and patch convs' shapes; with the native ops on, the
 * product and both gradients run as MatMul. Elsewhere, tf.matMul.
 */
export function matMul2d(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const ops = nativeOps();
  if (!ops) return tf.matMul(a, b);
  const f = tf.customGrad((...args: unknown[]) => {
    const [x, y] = args as tf.Tensor[];
    (args[2] as tf.GradSaveFunc)([x, y]);
    return {
      value: ops.matMul(x, y, false, false),
      gradFunc: (dz: tf.Tensor, [xs, ys]: tf.Tensor[]) => [ops.matMul(dz, ys, false, true), ops.matMul(xs, dz, true, false)],
    };
  }) as (x: tf.Tensor2D, y: tf.Tensor2D) => tf.Tensor2D;
  return f(a, b);
}
