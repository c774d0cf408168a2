/**
 * The training losses of the official recipe (timm): SoftTargetCrossEntropy on mixed / smoothed targets
 * when Mixup or CutMix is on, LabelSmoothingCrossEntropy on hard labels otherwise. Both are batch means.
 */
import { tf } from '../backend';

export { softTargetCrossEntropy } from '../metrics/loss';

/** timm's LabelSmoothingCrossEntropy: (1 − s)·NLL(label) + s·mean_c(−log p_c); s = 0 is plain cross-entropy. */
export function labelSmoothingCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, smoothing = 0.1): tf.Scalar {
  if (!(smoothing >= 0 && smoothing < 1)) throw new Error(`label smoothing must be in [0, 1), got ${smoothing}`);
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    const nll = tf.neg(tf.sum(tf.mul(logp, tf.oneHot(labels, logits.shape[1])), -1));
    if (smoothing === 0) return tf.mean(nll) as tf.Scalar;
    const smooth = tf.neg(tf.mean(logp, -1));
    return tf.mean(tf.add(tf.mul(nll, 1 - smoothing), tf.mul(smooth, smoothing))) as tf.Scalar;
  });
}
