import { tf } from '../backend';

/**
 * Stochastic depth (timm's drop_path): in training, zero the residual branch of a whole sample with
 * probability `rate` and scale the survivors by 1 / (1 - rate).
 */
export function dropPath<T extends tf.Tensor>(x: T, rate: number, training: boolean): T {
  if (!training || rate === 0) return x;
  return tf.tidy(() => {
    const keep = 1 - rate;
    const maskShape = [x.shape[0], ...x.shape.slice(1).map(() => 1)];
    const mask = tf.floor(tf.add(tf.randomUniform(maskShape), keep));
    return tf.mul(x, tf.div(mask, keep)) as T;
  });
}
