/** Pooling helpers shared by the attention modules (NHWC). */
import { tf } from '../backend';

/** Global average pool over H and W: [N, H, W, C] → [N, C] (nn.AdaptiveAvgPool2d(1), flattened). */
export function globalAvgPool(x: tf.Tensor4D): tf.Tensor2D {
  return tf.mean(x, [1, 2]) as tf.Tensor2D;
}

/** Global max pool over H and W: [N, H, W, C] → [N, C]. */
export function globalMaxPool(x: tf.Tensor4D): tf.Tensor2D {
  return tf.max(x, [1, 2]) as tf.Tensor2D;
}

/** Multiplies an NHWC map by per-sample, per-channel factors [N, C]. */
export function scaleChannels(x: tf.Tensor4D, factors: tf.Tensor2D): tf.Tensor4D {
  const [n, c] = factors.shape;
  return tf.mul(x, factors.reshape([n, 1, 1, c]));
}
