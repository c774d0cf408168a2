/**
 * One optimisation step on a micro-batch, as the official engine.train_one_epoch runs it: forward, loss,
 * backward (the gradient scaled by 1 / accumSteps and summed over accumSteps micro-batches), then on the
 * last micro-batch of an update the optimizer step (after clipping the gradient norm, when asked) and the
 * EMA update. `fit` runs it for every micro-batch, and the benchmark times this very step.
 */
import { tf } from '../backend';
import type { Classifier } from '../convnext/model';
import type { ModelEma } from './ema';
import { labelSmoothingCrossEntropy, regressionLoss, softTargetCrossEntropy } from './loss';
import type { Optimizer, StepHyper } from './optimizer';
import { isRegressionLoss, type TrainRecipe } from './recipe';
import { withSeed } from './seed';

export interface StepBatch {
  x: tf.Tensor4D;
  /** Soft targets (the soft-target loss), or [B, 1] regression targets. */
  y: tf.Tensor2D;
  /** Hard labels (the label-smoothing loss). */
  labels?: Int32Array | Float32Array;
}

export interface StepOptions {
  loss: TrainRecipe['loss'];
  /** Label smoothing of the label-smoothing loss (default 0.1). */
  smoothing?: number;
  /** Micro-batches per optimizer update (default 1). */
  accumSteps?: number;
  /** Maximum gradient norm; no clipping without it. */
  clipGrad?: number;
  /** With the micro-batch index, seeds the step's randomness (drop path) so that a resumed run retraces the original. */
  seed?: number;
  /**
   * Regression losses: the head predicts (target − mean) / std, the loss compares it with the normalised
   * target, and predictions are mapped back (pred · std + mean). Default { mean: 0, std: 1 }.
   */
  targetNorm?: TargetNorm;
  /** β / δ of the smooth L1 / Huber loss (regression). */
  huberDelta?: number;
  /** Fraction of the largest residuals the trimmed L1 leaves out (regression). */
  trimFraction?: number;
}

/** The affine map between targets and what a regression head predicts: head = (target − mean) / std. */
export interface TargetNorm {
  mean: number;
  std: number;
}

export interface StepCall extends StepHyper {
  /** Whether this micro-batch completes an update: the optimizer and EMA steps follow it. */
  update: boolean;
  /** Index of the micro-batch in the run (seeds drop path). */
  microStep: number;
}

export interface StepResult {
  /** The micro-batch's loss; when it is not finite, nothing was applied (neither gradient nor update). */
  loss: number;
  images: number;
  /** Top-1 hits on the hard labels (label-smoothing loss only). */
  correct?: number;
  /** Regression: the batch's predictions mapped back to target units, and its targets. */
  pred?: Float32Array;
  target?: Float32Array;
}

export class TrainStep {
  private readonly accum: number;
  /** The gradient summed over the micro-batches of the update in progress (only with accumulation). */
  private readonly accumGrad?: tf.Variable;

  constructor(
    readonly model: Classifier,
    readonly optimizer: Optimizer,
    readonly opts: StepOptions,
    readonly ema?: ModelEma,
  ) {
    this.accum = opts.accumSteps ?? 1;
    this.accumGrad = this.accum > 1 ? tf.variable(tf.zeros([optimizer.size]), false) : undefined;
  }

  async run(batch: StepBatch, call: StepCall): Promise<StepResult> {
    if (isRegressionLoss(this.opts.loss)) return this.runRegression(batch, call);
    const vars = this.optimizer.variables;
    const labels = this.opts.loss === 'label-smoothing' ? tf.tensor1d(hardLabels(batch), 'int32') : undefined;
    const out = withSeed([this.opts.seed ?? 0, 'micro', call.microStep], () => tf.tidy(() => {
      let correct: tf.Scalar | undefined;
      const { value, grads } = tf.variableGrads(() => {
        const logits = this.model.forward(batch.x);
        if (labels) {
          correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')) as tf.Scalar);
          return labelSmoothingCrossEntropy(logits, labels, this.opts.smoothing);
        }
        return softTargetCrossEntropy(logits, batch.y);
      }, vars);
      // Parameters the forward pass did not reach (e.g. a dropped branch) get a zero gradient.
      let g = this.optimizer.flatten(vars.map((v) => grads[v.name] ?? tf.zerosLike(v)));
      if (this.accum > 1) g = tf.div(g, this.accum);
      return { value, g, correct };
    }));
    labels?.dispose();
    try {
      const loss = (await out.value.data())[0];
      const images = batch.x.shape[0];
      // Reading the loss before the update lets the caller stop on a bad one with the weights untouched.
      if (!Number.isFinite(loss)) return { loss, images };
      const correct = out.correct ? (await out.correct.data())[0] : undefined;
      const acc = this.accumGrad;
      if (acc) tf.tidy(() => acc.assign(tf.add(acc, out.g)));
      if (call.update) this.apply((acc ?? out.g) as tf.Tensor1D, call);
      return { loss, images, correct };
    } finally {
      tf.dispose([out.value, out.g, ...(out.correct ? [out.correct] : [])]);
    }
  }

  /** A regression step: the loss of the head's output on the normalised targets; predictions come back mapped. */
  private async runRegression(batch: StepBatch, call: StepCall): Promise<StepResult> {
    const vars = this.optimizer.variables;
    const loss = this.opts.loss as Parameters<typeof regressionLoss>[0];
    const { mean, std } = this.opts.targetNorm ?? { mean: 0, std: 1 };
    const out = withSeed([this.opts.seed ?? 0, 'micro', call.microStep], () => tf.tidy(() => {
      const target = tf.div(tf.sub(tf.reshape(batch.y, [-1]), mean), std);
      let pred: tf.Tensor1D | undefined;
      const { value, grads } = tf.variableGrads(() => {
        const head = this.model.forward(batch.x);
        if (head.shape[1] !== 1) throw new Error(`a regression loss needs a one-output head; the model has ${head.shape[1]} outputs (set numClasses 1)`);
        const flat = tf.reshape(head, [-1]) as tf.Tensor1D;
        pred = tf.keep(tf.add(tf.mul(flat, std), mean) as tf.Tensor1D);
        return regressionLoss(loss, flat, target, { huberDelta: this.opts.huberDelta, trimFraction: this.opts.trimFraction });
      }, vars);
      let g = this.optimizer.flatten(vars.map((v) => grads[v.name] ?? tf.zerosLike(v)));
      if (this.accum > 1) g = tf.div(g, this.accum);
      return { value, g, pred: pred! };
    }));
    try {
      const lossValue = (await out.value.data())[0];
      const images = batch.x.shape[0];
      if (!Number.isFinite(lossValue)) return { loss: lossValue, images };
      const pred = (await out.pred.data()) as Float32Array;
      const target = (await batch.y.data()) as Float32Array;
      const acc = this.accumGrad;
      if (acc) tf.tidy(() => acc.assign(tf.add(acc, out.g)));
      if (call.update) this.apply((acc ?? out.g) as tf.Tensor1D, call);
      return { loss: lossValue, images, pred, target: Float32Array.from(target) };
    } finally {
      tf.dispose([out.value, out.g, out.pred]);
    }
  }

  /** The optimizer update on the (summed) gradient, then the EMA's. */
  private apply(g: tf.Tensor1D, hyper: StepHyper): void {
    const clipped = clipGradNorm(g, this.opts.clipGrad);
    this.optimizer.step(clipped, { lr: hyper.lr, weightDecay: hyper.weightDecay });
    if (clipped !== g) clipped.dispose();
    const acc = this.accumGrad;
    if (acc) tf.tidy(() => acc.assign(tf.zerosLike(acc)));
    this.ema?.update();
  }

  /** Frees the accumulated gradient; the optimizer and the EMA belong to the caller. */
  dispose(): void {
    this.accumGrad?.dispose();
  }
}

function hardLabels(batch: StepBatch): Int32Array | Float32Array {
  if (!batch.labels) throw new Error('the label-smoothing loss needs hard labels; the batch has none');
  return batch.labels;
}

/** torch.nn.utils.clip_grad_norm_ on the flat gradient: scale by min(1, max / (‖g‖ + 1e-6)). */
function clipGradNorm(g: tf.Tensor1D, maxNorm?: number): tf.Tensor1D {
  if (!maxNorm) return g;
  return tf.tidy(() => {
    const norm = tf.sqrt(tf.sum(tf.square(g)));
    return tf.mul(g, tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1)) as tf.Tensor1D;
  });
}
