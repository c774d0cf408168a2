/**
 * The differentiable losses that training minimises (the host-side measures of a finished prediction are
 * in src/metrics). The official recipe (timm) uses SoftTargetCrossEntropy on mixed / smoothed targets when
 * Mixup or CutMix is on, LabelSmoothingCrossEntropy on hard labels otherwise; mean squared / absolute error
 * serve regression heads. All are batch means.
 */
import { tf } from '../backend';

/** timm's SoftTargetCrossEntropy: mean over the batch of −Σ_k y_k log softmax(logits)_k. */
export function softTargetCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  if (logits.shape[0] !== targets.shape[0] || logits.shape[1] !== targets.shape[1]) {
    throw new Error(`logits [${logits.shape}] and targets [${targets.shape}] differ in shape`);
  }
  return tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), -1))) as tf.Scalar);
}

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

export function meanSquaredError(pred: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.square(tf.sub(pred, target))) as tf.Scalar);
}

export function meanAbsoluteError(pred: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.abs(tf.sub(pred, target))) as tf.Scalar);
}
