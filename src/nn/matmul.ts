import { tf } from '../backend';
import { nativeOps } from '../native';
import { withGradient } from './with-gradient';

/**
 * a·b for 2-D a [M, K] and b [K, N], differentiable. tf.matMul always runs BatchMatMulV2, which oneDNN serves
 * up to 2x slower than the 2-D MatMul op on the Linears' and patch convs' shapes; with the native ops on, the
 * product and both gradients run as MatMul. Elsewhere, tf.matMul.
 */
export function matMul2d(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const ops = nativeOps();
  if (!ops) return tf.matMul(a, b);
  return withGradient(
    (x: tf.Tensor2D, y: tf.Tensor2D) => ops.matMul(x, y, false, false),
    (dz, x, y) => [ops.matMul(dz, y, false, true), ops.matMul(x, dz, true, false)],
  )(a, b);
}
