/**
 * SGD with momentum and Nesterov, exactly as torch.optim.SGD (weight decay coupled into the gradient,
 * d ← g + wd·p; momentum buffer b ← μb + d, initialised to d; Nesterov step d + μb). The official code
 * builds it with nesterov=True for `--opt sgd`; it is here for the optimizer ablation.
 */
import { tf } from '../backend';
import { isZero, mulPer, Optimizer, type StepHyper } from './optimizer';
import type { ParamGroup } from './param-groups';

export interface SGDOptions {
  momentum?: number;
  nesterov?: boolean;
}

export class SGD extends Optimizer {
  readonly momentum: number;
  readonly nesterov: boolean;

  constructor(groups: ParamGroup[], opts: SGDOptions = {}) {
    super(groups, 'sgd');
    this.momentum = opts.momentum ?? 0.9;
    this.nesterov = opts.nesterov ?? true;
    if (this.nesterov && this.momentum <= 0) throw new Error('SGD: Nesterov momentum requires momentum > 0');
  }

  protected update(p: tf.Tensor1D, g: tf.Tensor1D, hp: StepHyper): tf.Tensor1D {
    const wd = this.weightDecayFor(hp);
    let d: tf.Tensor1D = isZero(wd) ? g : tf.add(g, mulPer(p, wd));
    if (this.momentum > 0) {
      const buf = this.slot('momentum_buffer');
      const b1: tf.Tensor1D = this.stepCount === 1 ? d : tf.add(tf.mul(buf, this.momentum), d);
      buf.assign(b1);
      d = this.nesterov ? tf.add(d, tf.mul(b1, this.momentum)) : b1;
    }
    return tf.sub(p, mulPer(tf.mul(d, hp.lr), this.lrScale));
  }

  protected hyper(): Record<string, number | boolean> {
    return { momentum: this.momentum, nesterov: this.nesterov };
  }
}
