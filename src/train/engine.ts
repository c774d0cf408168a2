/**
 * The two loops of the official engine.py: `trainOneEpoch` (train_one_epoch: per micro-batch the scheduled
 * learning rate and weight decay, one TrainStep, then the callbacks) and `evaluate` (top-1 / top-5, loss,
 * confusion matrix and per-class P/R/F1 of a model on a loader, in eval mode); `evaluateRegression` is
 * evaluate for a one-output regression head (MAE, RMSE, R², loss, every prediction).
 */
import { tf } from '../backend';
import { ClassificationMeter, type ClassificationSummary } from '../metrics/classification';
import { addRegressionSums, emptyRegressionSums, regressionSummary, type RegressionSummary } from '../metrics/regression';
import { regressionLoss } from './loss';
import type { RegressionLossName } from './recipe';
import { Stopwatch, ThroughputTimer } from '../util/timing';
import type { CallbackList, TrainState } from './callbacks/callback';
import type { Batch } from '../data/loader';
import type { BatchLoader } from './loaders';
import { Progress } from './progress';
import { scheduleAt } from './schedule';
import type { Classifier } from '../convnext/model';
import type { StepResult, TargetNorm, TrainStep } from './step';

/** Thrown when the loss stops being finite; names the epoch and step. */
export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
  constructor(readonly loss: number, readonly epoch: number, readonly batch: number, readonly step: number) {
    super(`loss is ${loss} at epoch ${epoch}, batch ${batch} (update ${step}); stopping. ` +
      'Lower the learning rate or enable clipGrad; the last good checkpoint is kept.');
  }
}

/**
 * Thrown when the model's state stops being finite (weights, or the validation loss of an evaluation): such
 * a state is never saved or selected as `best`, so the run folder keeps its last finite state.
 */
export class NonFiniteStateError extends Error {
  override name = 'NonFiniteStateError';
  constructor(readonly what: string, readonly epoch: number, readonly step: number) {
    super(`${what} at epoch ${epoch} (update ${step}); stopping. ` +
      'Lower the learning rate or enable clipGrad; the last good checkpoint is kept.');
  }
}

/**
 * Trains the epoch `s.position` is in, from its `batchInEpoch`, advancing the position and summing loss,
 * hits, images and seconds (data loading included) into `s.sums`. Ends after the epoch's last update, when
 * the loader runs out, or when a callback sets `s.endEpoch`.
 */
export async function trainOneEpoch(s: TrainState, step: TrainStep, loader: BatchLoader, callbacks: CallbackList): Promise<void> {
  const pos = s.position;
  const epochBatches = s.updatesPerEpoch * s.accum;
  loader.setEpoch(pos.epoch, pos.batchInEpoch);
  s.model.train();
  s.model.onEpochStart?.(pos.epoch);
  s.lr = scheduleAt(s.schedules.lr, pos.step);
  s.endEpoch = false;
  const clock = new Stopwatch();
  for await (const batch of loader) {
    s.lr = scheduleAt(s.schedules.lr, pos.step);
    const weightDecay = s.schedules.wd ? scheduleAt(s.schedules.wd, pos.step) : undefined;
    const update = (pos.batchInEpoch + 1) % s.accum === 0;
    let out: StepResult;
    try {
      out = await step.run(batch, { lr: s.lr, weightDecay, update, microStep: pos.microStep });
    } finally {
      tf.dispose([batch.x, batch.y]);
    }
    if (!Number.isFinite(out.loss)) throw new NonFiniteLossError(out.loss, pos.epoch, pos.batchInEpoch, pos.step);
    s.sums.loss += out.loss * out.images;
    s.sums.images += out.images;
    if (out.correct !== undefined) s.sums.correct += out.correct;
    if (out.pred && out.target) addRegressionSums(s.sums.regression ??= emptyRegressionSums(), out.pred, out.target);
    pos.batchInEpoch++;
    pos.microStep++;
    if (update) pos.step++;
    s.sums.seconds += clock.lap();
    s.sums.batches = pos.batchInEpoch;
    s.endEpoch = pos.batchInEpoch >= epochBatches;
    await callbacks.onBatchEnd(s, { loss: out.loss, update });
    if (s.endEpoch) break;
  }
}

export interface EvalResult extends ClassificationSummary {
  seconds: number;
  imagesPerSec: number;
}

export interface EvaluateOptions {
  progress?: boolean;
  log?: (line: string) => void;
  label?: string;
  /** Stop after this many batches (smoke runs). */
  maxBatches?: number;
  /** Test-time augmentation: average the logits of each image and its mirror image. */
  flipTta?: boolean;
}

/** The model's outputs; under flip TTA the mean of each image's and its mirror image's. */
function forwardEval(model: Classifier, x: tf.Tensor4D, flipTta: boolean | undefined): tf.Tensor2D {
  return tf.tidy(() => (flipTta ? tf.div(tf.add(model.forward(x), model.forward(tf.reverse(x, 2))), 2) as tf.Tensor2D : model.forward(x)));
}

/**
 * The loop both evaluations share: eval mode, the progress bar, and a timer around the forward pass and its read-back
 * only (loading and scoring are not timed). `score` sees each batch's outputs, on the device and on the host.
 */
async function forEachEvalBatch(
  model: Classifier, data: BatchLoader, opts: EvaluateOptions,
  score: (out: tf.Tensor2D, host: Float32Array, batch: Batch) => void | Promise<void>,
): Promise<{ batches: number; seconds: number; imagesPerSec: number }> {
  const wasTraining = model.training;
  model.eval();
  data.setEpoch(0);
  const total = Math.min(data.numBatches, opts.maxBatches ?? Infinity);
  const bar = new Progress({ label: opts.label ?? 'eval', total, enabled: opts.progress, log: opts.log });
  const timer = new ThroughputTimer();
  let i = 0;
  try {
    for await (const batch of data) {
      timer.start();
      const out = forwardEval(model, batch.x, opts.flipTta);
      const host = (await out.data()) as Float32Array;
      timer.stop();
      try {
        await score(out, host, batch);
      } finally {
        tf.dispose([out, batch.x, batch.y]);
      }
      timer.add(batch.x.shape[0]);
      bar.update(++i, { 'img/s': timer.imagesPerSecond });
      if (i >= total) break;
    }
  } finally {
    bar.stop();
    model.train(wasTraining);
  }
  return { batches: i, seconds: timer.seconds, imagesPerSec: timer.imagesPerSecond };
}

/** Top-1 / top-5, loss, confusion matrix and per-class P/R/F1 of a model on a loader (eval mode). */
export async function evaluate(model: Classifier, data: BatchLoader, opts: EvaluateOptions = {}): Promise<EvalResult> {
  let meter: ClassificationMeter | undefined;
  const loop = await forEachEvalBatch(model, data, opts, (out, host, batch) => {
    meter ??= new ClassificationMeter(data.numClasses ?? out.shape[1]);
    meter.update({ data: host, numClasses: out.shape[1] }, batch.labels);
  });
  if (!meter) throw new Error('evaluate: the loader yielded no batches');
  return { ...meter.summary(), seconds: loop.seconds, imagesPerSec: loop.imagesPerSec };
}

export interface RegressionEvalResult extends RegressionSummary {
  /** Mean loss per image (the run's regression loss on normalised targets). */
  loss: number;
  seconds: number;
  imagesPerSec: number;
  /** Every prediction (target units, clamped to `range` when given), its target and dataset index, in loader order. */
  pred: Float32Array;
  target: Float32Array;
  indices: Int32Array;
}

export interface RegressionEvaluateOptions extends Omit<EvaluateOptions, 'flipTta'> {
  /** The head predicts (target − mean) / std. Default { mean: 0, std: 1 }. */
  targetNorm?: TargetNorm;
  /** The loss reported as `loss`. Default 'l1'. */
  loss?: RegressionLossName;
  huberDelta?: number;
  trimFraction?: number;
  /** Clamp predictions to [lo, hi] (the targets' known range) before scoring. */
  range?: readonly [number, number];
  /** Test-time augmentation: average the predictions of each image and its mirror image. */
  flipTta?: boolean;
}

/** MAE, RMSE, R² and loss of a one-output regression head on a loader (eval mode), with every prediction. */
export async function evaluateRegression(model: Classifier, data: BatchLoader, opts: RegressionEvaluateOptions = {}): Promise<RegressionEvalResult> {
  const { mean, std } = opts.targetNorm ?? { mean: 0, std: 1 };
  const sums = emptyRegressionSums();
  const preds: Float32Array[] = [];
  const targets: Float32Array[] = [];
  const indices: Int32Array[] = [];
  let lossSum = 0;
  const loop = await forEachEvalBatch(model, data, opts, async (out, raw, batch) => {
    if (out.shape[1] !== 1) throw new Error(`evaluateRegression needs a one-output head; the model has ${out.shape[1]} outputs`);
    const lossValue = tf.tidy(() => regressionLoss(opts.loss ?? 'l1', tf.reshape(out, [-1]) as tf.Tensor1D,
      tf.div(tf.sub(tf.reshape(batch.y, [-1]), mean), std), { huberDelta: opts.huberDelta, trimFraction: opts.trimFraction }).dataSync()[0]);
    const target = Float32Array.from((await batch.y.data()) as Float32Array);
    const pred = raw.map((v) => {
      const p = v * std + mean;
      return opts.range ? Math.min(opts.range[1], Math.max(opts.range[0], p)) : p;
    });
    addRegressionSums(sums, pred, target);
    lossSum += lossValue * pred.length;
    preds.push(pred);
    targets.push(target);
    indices.push(batch.indices);
  });
  if (loop.batches === 0) throw new Error('evaluateRegression: the loader yielded no batches');
  const cat = <T extends Float32Array | Int32Array>(parts: T[], make: (n: number) => T): T => {
    const out = make(parts.reduce((a, p) => a + p.length, 0));
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  };
  const summary = regressionSummary(sums);
  return {
    ...summary, loss: lossSum / summary.count, seconds: loop.seconds, imagesPerSec: loop.imagesPerSec,
    pred: cat(preds, (n) => new Float32Array(n)), target: cat(targets, (n) => new Float32Array(n)), indices: cat(indices, (n) => new Int32Array(n)),
  };
}
