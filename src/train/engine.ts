/**
 * The two loops of the official engine.py: `trainOneEpoch` (train_one_epoch: per micro-batch the scheduled
 * learning rate and weight decay, one TrainStep, then the callbacks) and `evaluate` (top-1 / top-5, loss,
 * confusion matrix and per-class P/R/F1 of a model on a loader, in eval mode).
 */
import { tf } from '../backend';
import { ClassificationMeter, type ClassificationSummary } from '../metrics/classification';
import { Stopwatch, ThroughputTimer } from '../util/timing';
import type { CallbackList, TrainState } from './callbacks/callback';
import type { BatchLoader } from './loaders';
import { Progress } from './progress';
import { scheduleAt } from './schedule';
import type { Classifier } from '../convnext/model';
import type { StepResult, TrainStep } from './step';

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

/** Top-1 / top-5, loss, confusion matrix and per-class P/R/F1 of a model on a loader (eval mode). */
export async function evaluate(model: Classifier, data: BatchLoader, opts: EvaluateOptions = {}): Promise<EvalResult> {
  const wasTraining = model.training;
  model.eval();
  data.setEpoch(0);
  const total = Math.min(data.numBatches, opts.maxBatches ?? Infinity);
  const bar = new Progress({ label: opts.label ?? 'eval', total, enabled: opts.progress, log: opts.log });
  // Forward passes and reading the logits back: loading and scoring are not timed.
  const timer = new ThroughputTimer();
  let meter: ClassificationMeter | undefined;
  let i = 0;
  try {
    for await (const batch of data) {
      timer.start();
      const logits = tf.tidy(() => (opts.flipTta
        ? tf.div(tf.add(model.forward(batch.x), model.forward(tf.reverse(batch.x, 2))), 2) as tf.Tensor2D
        : model.forward(batch.x)));
      const host = { data: (await logits.data()) as Float32Array, numClasses: logits.shape[1] };
      timer.stop();
      logits.dispose();
      meter ??= new ClassificationMeter(data.numClasses ?? host.numClasses);
      meter.update(host, batch.labels);
      timer.add(batch.x.shape[0]);
      tf.dispose([batch.x, batch.y]);
      bar.update(++i, { 'img/s': timer.imagesPerSecond });
      if (i >= total) break;
    }
  } finally {
    bar.stop();
    model.train(wasTraining);
  }
  if (!meter) throw new Error('evaluate: the loader yielded no batches');
  return { ...meter.summary(), seconds: timer.seconds, imagesPerSec: timer.imagesPerSecond };
}
