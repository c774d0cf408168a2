/**
 * The differentiable losses that training minimises (the host-side measures of a finished prediction are
 * in src/metrics). The official recipe (timm) uses SoftTargetCrossEntropy on mixed / smoothed targets when
 * Mixup or CutMix is on, LabelSmoothingCrossEntropy on hard labels otherwise. Regression heads (the pet-age
 * task) train with L1, MSE, smooth L1 / Huber (torch's definitions), or a trimmed L1 that drops the batch's
 * largest residuals (robust to wrong labels). All are batch means.
 */
import { tf } from '../backend';
import type { RegressionLossName } from './recipe';

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

/** torch.nn.SmoothL1Loss(beta): 0.5 d² / β where |d| < β, else |d| − 0.5 β (β = 0 is L1); equals Huber(δ = β) / β. */
export function smoothL1Loss(pred: tf.Tensor, target: tf.Tensor, beta = 1): tf.Scalar {
  if (!(beta >= 0)) throw new Error(`smooth L1 beta must be >= 0, got ${beta}`);
  if (beta === 0) return meanAbsoluteError(pred, target);
  return tf.tidy(() => tf.div(huberLoss(pred, target, beta), beta) as tf.Scalar);
}

/**
 * torch.nn.HuberLoss(delta): 0.5 d² where |d| <= δ, else δ (|d| − 0.5 δ). Written as 0.5 q² + δ (|d| − q) with
 * q = min(|d|, δ), which is the same function and differentiable without a comparison on the tape.
 */
export function huberLoss(pred: tf.Tensor, target: tf.Tensor, delta = 1): tf.Scalar {
  if (!(delta > 0)) throw new Error(`Huber delta must be > 0, got ${delta}`);
  return tf.tidy(() => {
    const d = tf.abs(tf.sub(pred, target));
    const q = tf.minimum(d, delta);
    return tf.mean(tf.add(tf.mul(0.5, tf.square(q)), tf.mul(delta, tf.sub(d, q)))) as tf.Scalar;
  });
}

/**
 * Trimmed L1: the mean absolute error of the batch's items after leaving out its floor(trim · B) largest
 * residuals (at least one item is kept). Items whose labels are wrong tend to have the largest residuals once
 * the model fits the others, so they stop pulling the fit (a "small-loss" rule, as in co-teaching). The kept
 * items are chosen outside the gradient (a custom gradient: sign(d) / kept on them, 0 on the rest).
 */
export function trimmedL1Loss(pred: tf.Tensor, target: tf.Tensor, trim = 0.1): tf.Scalar {
  if (!(trim >= 0 && trim < 1)) throw new Error(`trim fraction must be in [0, 1), got ${trim}`);
  const n = pred.size;
  const keep = Math.max(1, n - Math.floor(trim * n));
  if (keep === n) return meanAbsoluteError(pred, target);
  const f = tf.customGrad(((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [p, t, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const d = tf.reshape(tf.sub(p, t), [-1]);
    const absd = tf.abs(d);
    // The keep-th smallest |d| is the threshold; ties at it are broken by index through topk's order.
    const { indices } = tf.topk(tf.neg(absd), keep);
    const mask = tf.reshape(tf.scatterND(tf.reshape(indices, [keep, 1]), tf.ones([keep]), [n]), p.shape);
    save([d, mask]);
    return {
      value: tf.div(tf.sum(tf.gather(absd, indices)), keep) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [dd, m] = saved;
        const g = tf.mul(tf.mul(tf.reshape(tf.sign(dd), p.shape), m), tf.div(dy, keep));
        return [g, tf.neg(g)];
      },
    };
  }) as Parameters<typeof tf.customGrad>[0]);
  return tf.tidy(() => f(pred, target) as tf.Scalar);
}

export interface RegressionLossOptions {
  /** β of smooth L1 and δ of Huber, in the units the loss sees (normalised targets when normalised). Default 1. */
  huberDelta?: number;
  /** Fraction of each batch's largest residuals the trimmed L1 leaves out. Default 0.1. */
  trimFraction?: number;
}

/** The named regression loss of predictions and targets of the same shape. */
export function regressionLoss(name: RegressionLossName, pred: tf.Tensor, target: tf.Tensor, o: RegressionLossOptions = {}): tf.Scalar {
  if (pred.size !== target.size) throw new Error(`predictions [${pred.shape}] and targets [${target.shape}] differ in size`);
  return tf.tidy(() => {
    const p = pred.shape.length === target.shape.length ? pred : tf.reshape(pred, target.shape);
    switch (name) {
      case 'l1': return meanAbsoluteError(p, target);
      case 'mse': return meanSquaredError(p, target);
      case 'smooth-l1': return smoothL1Loss(p, target, o.huberDelta ?? 1);
      case 'huber': return huberLoss(p, target, o.huberDelta ?? 1);
      case 'trimmed-l1': return trimmedL1Loss(p, target, o.trimFraction ?? 0.1);
      default: throw new Error(`unknown regression loss ${String(name)}`);
    }
  });
}
