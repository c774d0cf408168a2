/**
 * AdamW (Loshchilov & Hutter) exactly as torch.optim.AdamW: decoupled decay p ← p·(1 − lr·wd), then the
 * bias-corrected Adam step p ← p − lr/(1−β1ᵗ) · m / (√v / √(1−β2ᵗ) + ε).
 */
import { tf } from '../backend';
import { nativeOps } from '../native';
import { isZero, mulPer, Optimizer, product, type StepHyper } from './optimizer';
import type { ParamGroup } from './param-groups';

export interface AdamWOptions {
  betas?: [number, number];
  eps?: number;
}

export class AdamW extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;

  constructor(groups: ParamGroup[], opts: AdamWOptions = {}) {
    super(groups, 'adamw');
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
  }

  protected update(p: tf.Tensor1D, g: tf.Tensor1D, hp: StepHyper): tf.Tensor1D {
    const t = this.stepCount;
    const { beta1: b1, beta2: b2 } = this;
    const m = this.slot('exp_avg');
    const v = this.slot('exp_avg_sq');
    const m1 = tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1));
    const v1 = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2));
    m.assign(m1);
    v.assign(v1);
    // torch multiplies by (1 - group_lr * wd) with group_lr = lr * lrScale.
    const decay = product(this.weightDecayFor(hp), this.lrScale, hp.lr);
    const decayed = isZero(decay)
      ? p
      : typeof decay === 'number' ? tf.mul(p, 1 - decay) : tf.mul(p, tf.sub(1, decay));
    const denom = tf.add(tf.div(tf.sqrt(v1), Math.sqrt(1 - b2 ** t)), this.eps);
    const stepSize = hp.lr / (1 - b1 ** t);
    return tf.sub(decayed, mulPer(tf.mul(tf.div(m1, denom), stepSize), this.lrScale));
  }

  /** The same step as `update`, in one pass of the fused CPU kernel where it is available. */
  protected override fusedUpdate(g: tf.Tensor1D, hp: StepHyper): boolean {
    const native = nativeOps();
    if (!native) return false;
    const t = this.stepCount;
    const n = this.variables.length;
    const coef = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const lr = hp.lr * this.paramLrScale[i];
      coef[2 * i] = 1 - lr * this.paramWeightDecay(i, hp);
      coef[2 * i + 1] = lr / (1 - this.beta1 ** t);
    }
    const m = this.slot('exp_avg');
    const v = this.slot('exp_avg_sq');
    const out = native.adamW(this.variables, g, m as tf.Tensor1D, v as tf.Tensor1D, tf.tensor2d(coef, [n, 2]),
      tf.tensor1d([this.beta1, this.beta2, this.eps, Math.sqrt(1 - this.beta2 ** t)]));
    m.assign(out.m);
    v.assign(out.v);
    out.params.forEach((p, i) => this.variables[i].assign(p));
    return true;
  }

  protected hyper(): Record<string, number> {
    return { beta1: this.beta1, beta2: this.beta2, eps: this.eps };
  }
}
