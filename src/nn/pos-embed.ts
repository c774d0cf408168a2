/**
 * Resizing a learned absolute position embedding to another patch grid, as timm's
 * layers/pos_embed.py resample_abs_pos_embed does: the grid tokens (after the prefix tokens, e.g. the
 * class token) are resized with F.interpolate(mode='bicubic', antialias=True), the prefix kept as is.
 *
 * That interpolation is separable and linear, so it is written here as two small matrices
 * (`interpolationMatrix`) applied along rows and columns: exact, differentiable, and the same on every
 * backend. The matrix follows PyTorch's antialiased kernel (aten UpSampleKernel, `_compute_indices_min_size_weights_aa`):
 * for output i, centre = scale·(i + 0.5) with scale = in / out; support = 2·max(scale, 1); the taps
 * j ∈ [trunc(centre - support + 0.5), trunc(centre + support + 0.5)) clipped to the input, weighted by the
 * Keys cubic with a = -0.5 at (j - centre + 0.5) / max(scale, 1), normalised to sum to 1. (Without
 * antialias PyTorch uses a = -0.75 and replicates the border instead; timm always passes antialias=True.)
 */
import { tf } from '../backend';

/** PyTorch's antialiasing bicubic filter (a = -0.5). */
function cubicAA(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
}

/** [outSize, inSize] row-major: row i holds the weights of output i over the inputs. */
export function interpolationMatrix(inSize: number, outSize: number): Float32Array {
  const m = new Float32Array(outSize * inSize);
  if (inSize === outSize) {
    for (let i = 0; i < outSize; i++) m[i * inSize + i] = 1;
    return m;
  }
  const scale = inSize / outSize;
  const support = scale >= 1 ? 2 * scale : 2;
  const invScale = scale >= 1 ? 1 / scale : 1;
  for (let i = 0; i < outSize; i++) {
    const center = scale * (i + 0.5);
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize);
    let total = 0;
    for (let j = xmin; j < xmax; j++) total += cubicAA((j - center + 0.5) * invScale);
    for (let j = xmin; j < xmax; j++) {
      const w = cubicAA((j - center + 0.5) * invScale);
      m[i * inSize + j] = total !== 0 ? w / total : w;
    }
  }
  return m;
}

/**
 * [1, prefix + oldH·oldW, C] → [1, prefix + newH·newW, C]; the grid tokens are row-major (as a flattened
 * [H, W] patch grid). Returns `posEmbed` itself when the grid is unchanged, so callers inside a tidy need
 * not copy it.
 */
export function resampleAbsPosEmbed(
  posEmbed: tf.Tensor, newSize: [number, number], oldSize: [number, number], numPrefixTokens = 1,
): tf.Tensor3D {
  const [oh, ow] = oldSize;
  const [nh, nw] = newSize;
  const c = posEmbed.shape[2] as number;
  if (posEmbed.shape[1] !== numPrefixTokens + oh * ow) {
    throw new Error(`position embedding has ${posEmbed.shape[1]} tokens, not ${numPrefixTokens} + ${oh}x${ow}`);
  }
  if (oh === nh && ow === nw) return posEmbed as tf.Tensor3D;
  return tf.tidy(() => {
    const [prefix, grid] = tf.split(posEmbed, [numPrefixTokens, oh * ow], 1);
    const mh = tf.tensor2d(interpolationMatrix(oh, nh), [nh, oh]);
    const mw = tf.tensor2d(interpolationMatrix(ow, nw), [nw, ow]);
    // Rows: [nh, oh] x [oh, ow·C]; then columns: [nw, ow] x [ow, nh·C] on the transposed grid.
    const rows = tf.matMul(mh, grid.reshape([oh, ow * c])).reshape([nh, ow, c]);
    const cols = tf.matMul(mw, rows.transpose([1, 0, 2]).reshape([ow, nh * c])).reshape([nw, nh, c]);
    const resized = cols.transpose([1, 0, 2]).reshape([1, nh * nw, c]);
    return (numPrefixTokens > 0 ? tf.concat([prefix, resized], 1) : resized) as tf.Tensor3D;
  });
}
