import { tf } from '../backend';

let shapesOnly = false;

/**
 * Builds modules with zero-filled parameters instead of random draws. Counting params and MACs of
 * ConvNeXt-XL needs its shapes, not 350M normal samples (about 20 s of JavaScript).
 */
export function withoutInit<T>(build: () => T): T {
  const prev = shapesOnly;
  shapesOnly = true;
  try {
    return build();
  } finally {
    shapesOnly = prev;
  }
}

/**
 * timm's `trunc_normal_(w, std)`: a normal cut at ±2 in absolute units. For the usual std of 0.02 the
 * bounds sit 100 standard deviations out, so clipping (instead of resampling) never changes a draw.
 */
export function truncNormal(shape: number[], std = 0.02): tf.Tensor {
  if (shapesOnly) return tf.zeros(shape);
  return tf.tidy(() => tf.clipByValue(tf.randomNormal(shape, 0, std), -2, 2));
}
