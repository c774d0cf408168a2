/**
 * The training engine: `fit` trains any classifier Module (forward(x: NHWC) → logits) with the paper's
 * recipe or a variation of it, recording the run in a folder and resuming it exactly; `evaluate` scores a
 * model on a loader. The loop follows the official `engine.train_one_epoch`: per-update LR / WD from the
 * schedules, loss / accumSteps summed over micro-batches, optimizer step, then the EMA update.
 */
import { tf } from '../backend';
import { augmentConfig, type AugmentConfig } from '../augment/config';
import { buildBatchTransform, buildEvalTransform, buildTrainTransform } from '../augment/transforms';
import type { Module } from '../nn/module';
import type { Dataset } from '../data/dataset';
import { DataLoader, type Batch } from '../data/loader';
import { ClassificationMeter, type ClassificationSummary } from '../metrics/classification';
import { AdamW } from './adamw';
import { configHash } from './config';
import { findCheckpoint, loadCheckpoint, restoreCheckpoint, saveCheckpoint, type TrainPosition } from './checkpoint';
import { ModelEma } from './ema';
import { labelSmoothingCrossEntropy, softTargetCrossEntropy } from './loss';
import type { Optimizer } from './optimizer';
import { buildParamGroups } from './param-groups';
import { Progress } from './progress';
import { accumSteps, resolveRecipe, type TrainRecipe } from './recipe';
import { RunDir, environmentInfo, type MetricRow } from './run-dir';
import { planBudgetUpdates } from './budget';
import { cosineSchedule, scheduleAt, warmupIters } from './schedule';
import { SGD } from './sgd';
import { withSeed } from './seed';

/** Anything trainable here: a Module mapping an NHWC batch to logits. */
export interface Classifier extends Module {
  forward(x: tf.Tensor4D): tf.Tensor2D;
  /** Called at the start of every epoch (0-based; resumed epochs too): e.g. dynamic-conv temperature annealing. */
  onEpochStart?(epoch: number): void;
}

/** What the trainer iterates: the DataLoader, or anything shaped like it. */
export interface BatchLoader extends AsyncIterable<Batch> {
  readonly numBatches: number;
  readonly numClasses?: number;
  setEpoch(epoch: number, startBatch?: number): void;
}

/** A dataset plus augmentation, turned into a seeded DataLoader by `fit`. */
export interface DataSpec {
  dataset: Dataset;
  augment?: Partial<AugmentConfig>;
  /** Batch size for evaluation loaders (training uses the recipe's micro-batch). */
  batchSize?: number;
}

export interface EpochRecord extends MetricRow {
  epoch: number;
  /** Optimizer updates so far. */
  step: number;
  /** Learning rate of the epoch's last update (before layer-decay scales). */
  lr: number;
  trainLoss: number;
  /** Training top-1 on hard labels (null with mixed targets, where it means nothing). */
  trainTop1: number | null;
  trainSeconds: number;
  trainImagesPerSec: number;
  valLoss?: number;
  valTop1?: number;
  valTop5?: number;
  emaLoss?: number;
  emaTop1?: number;
  emaTop5?: number;
  evalSeconds?: number;
  evalImagesPerSec?: number;
  /** Cumulative training time (minutes, evaluation excluded). */
  trainMinutes: number;
}

export interface FitOptions {
  model: Classifier;
  train: BatchLoader | DataSpec;
  val?: BatchLoader | DataSpec;
  recipe?: Partial<TrainRecipe>;
  /** Run folder; without it nothing is written (and `resume` is impossible). */
  runDir?: string;
  /** Continue from runDir's last checkpoint if there is one. */
  resume?: boolean;
  /** Recorded as config.json in the run folder. */
  config?: unknown;
  /** After each epoch; return 'stop' to end training early (the last checkpoint is saved). */
  onEpoch?: (record: EpochRecord, history: EpochRecord[]) => void | 'stop' | Promise<void | 'stop'>;
  log?: (line: string) => void;
  progress?: boolean;
  /** Aborting saves the `last` checkpoint after the current update and returns with interrupted = true. */
  signal?: AbortSignal;
  /** Builds the optimizer instead of the recipe's AdamW / SGD. */
  optimizer?: (model: Classifier, recipe: TrainRecipe) => Optimizer;
}

export interface FitResult {
  history: EpochRecord[];
  best?: { epoch: number; metric: string; value: number };
  final: EpochRecord;
  runDir?: string;
  interrupted: boolean;
  /** The EMA weights, when the recipe keeps them (owned by the caller: dispose when done). */
  ema?: ModelEma;
}

/** Thrown when the loss stops being finite; names the epoch and step. */
export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
  constructor(readonly loss: number, readonly epoch: number, readonly batch: number, readonly step: number) {
    super(`loss is ${loss} at epoch ${epoch}, batch ${batch} (update ${step}); stopping. ` +
      'Lower the learning rate or enable clipGrad; the last good checkpoint is kept.');
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
  let meter: ClassificationMeter | undefined;
  let seconds = 0;
  let images = 0;
  let i = 0;
  try {
    for await (const batch of data) {
      const t0 = process.hrtime.bigint();
      const logits = tf.tidy(() => (opts.flipTta
        ? tf.div(tf.add(model.forward(batch.x), model.forward(tf.reverse(batch.x, 2))), 2) as tf.Tensor2D
        : model.forward(batch.x)));
      const host = { data: (await logits.data()) as Float32Array, numClasses: logits.shape[1] };
      seconds += Number(process.hrtime.bigint() - t0) / 1e9;
      logits.dispose();
      meter ??= new ClassificationMeter(data.numClasses ?? host.numClasses);
      meter.update(host, batch.labels);
      images += batch.x.shape[0];
      tf.dispose([batch.x, batch.y]);
      bar.update(++i, { 'img/s': images / seconds });
      if (i >= total) break;
    }
  } finally {
    bar.stop();
    model.train(wasTraining);
  }
  if (!meter) throw new Error('evaluate: the loader yielded no batches');
  return { ...meter.summary(), seconds, imagesPerSec: images / seconds };
}

/** A seeded training DataLoader for a dataset and augmentation (drop_last, as the official loader). */
export function trainLoader(spec: DataSpec, batchSize: number, seed: number): DataLoader {
  const aug = augmentConfig(spec.augment);
  const numClasses = spec.dataset.classes.length;
  return new DataLoader({
    dataset: spec.dataset,
    batchSize,
    shuffle: true,
    seed,
    dropLast: true,
    transform: buildTrainTransform(aug),
    batchTransform: buildBatchTransform(aug, numClasses),
    normalize: aug.normalize,
  });
}

/** An evaluation DataLoader (resize + centre crop, no shuffling). */
export function evalLoader(spec: DataSpec, batchSize: number): DataLoader {
  const aug = augmentConfig(spec.augment);
  return new DataLoader({
    dataset: spec.dataset,
    batchSize: spec.batchSize ?? batchSize,
    transform: buildEvalTransform(aug),
    normalize: aug.normalize,
  });
}

function isLoader(x: BatchLoader | DataSpec): x is BatchLoader {
  return typeof (x as BatchLoader).setEpoch === 'function';
}

/** The recipe's optimizer over the official parameter groups. */
export function createOptimizer(model: Module, r: TrainRecipe): Optimizer {
  const groups = buildParamGroups(model, { weightDecay: r.weightDecay, layerDecay: r.layerDecay });
  if (r.optimizer === 'sgd') return new SGD(groups, { momentum: r.momentum ?? 0.9, nesterov: r.nesterov ?? true });
  return new AdamW(groups, { betas: r.betas, eps: r.eps });
}

/** What a checkpoint carries besides tensors, so that a resumed run continues its records too. */
interface TrainExtra {
  recipe: TrainRecipe;
  history: EpochRecord[];
  best?: FitResult['best'];
  /** Sums of the epoch in progress (mid-epoch checkpoints). */
  partial?: EpochSums;
  trainSeconds: number;
  /** The schedule's length in updates when it is fitted to a time budget. */
  plannedUpdates?: number;
}

interface EpochSums {
  loss: number;
  correct: number;
  images: number;
  seconds: number;
  batches: number;
}

/** Trains `model` in place. */
export async function fit(o: FitOptions): Promise<FitResult> {
  const r = resolveRecipe(o.recipe);
  const log = o.log ?? ((line: string) => console.log(line));
  const run = o.runDir ? new RunDir(o.runDir) : undefined;
  const say = (line: string): void => {
    log(line);
    run?.log(line);
  };
  const accum = accumSteps(r);
  const micro = r.microBatch ?? r.batchSize;
  const train = isLoader(o.train) ? o.train : trainLoader(o.train, micro, r.seed);
  const val = o.val === undefined ? undefined : isLoader(o.val) ? o.val : evalLoader(o.val, micro);
  // Loaders made here end their workers when fit returns; a caller's loaders keep theirs for its next use.
  const own = [train, val].filter((l): l is DataLoader => l instanceof DataLoader && l !== o.train && l !== o.val);
  const updatesPerEpoch = Math.floor(train.numBatches / accum);
  if (updatesPerEpoch < 1) {
    throw new Error(`one update needs ${accum} batches of ${micro}; the training loader has only ${train.numBatches}`);
  }
  const maxUpdates = r.epochs * updatesPerEpoch;
  const warmup = warmupIters({ itersPerEpoch: updatesPerEpoch, warmupEpochs: r.warmupEpochs, warmupSteps: r.warmupSteps });
  const budgetSeconds = r.budgetSchedule ? 60 * r.maxTrainMinutes! : Infinity;
  // The schedule's length in updates: the recipe's epochs, or the budget's latest plan.
  let planned = maxUpdates;
  const lrScheduleOf = (total: number): Float64Array => cosineSchedule({
    base: r.lr, final: r.minLr, epochs: r.epochs, itersPerEpoch: updatesPerEpoch, totalIters: Math.max(total, warmup, 1),
    warmupEpochs: r.warmupEpochs, warmupSteps: r.warmupSteps, startWarmupValue: r.startWarmupLr,
  });
  const wdScheduleOf = (total: number): Float64Array | undefined => r.weightDecayEnd === undefined ? undefined : cosineSchedule({
    base: r.weightDecay, final: r.weightDecayEnd, epochs: r.epochs, itersPerEpoch: updatesPerEpoch, totalIters: Math.max(total, 1),
  });

  const model = o.model;
  const optimizer = o.optimizer ? o.optimizer(model, r) : createOptimizer(model, r);
  const ema = r.modelEma ? new ModelEma(model, r.emaDecay) : undefined;
  const vars = optimizer.variables;
  const accumGrad = accum > 1 ? tf.variable(tf.zeros([optimizer.size]), false) : undefined;

  let pos: TrainPosition = { epoch: 0, batchInEpoch: 0, step: 0, microStep: 0 };
  let history: EpochRecord[] = [];
  let best: FitResult['best'];
  let partial: EpochSums | undefined;
  let trainSeconds = 0;

  if (o.resume) {
    if (!run) throw new Error('resume needs a runDir');
    const dir = findCheckpoint(run.checkpoints, 'last');
    if (dir) {
      const ck = loadCheckpoint<TrainExtra>(dir);
      if (configHash(ck.meta.extra.recipe) !== configHash(r)) {
        const diff = Object.keys({ ...r, ...ck.meta.extra.recipe })
          .filter((k) => JSON.stringify((r as unknown as Record<string, unknown>)[k]) !== JSON.stringify((ck.meta.extra.recipe as unknown as Record<string, unknown>)[k]));
        throw new Error(`cannot resume ${run.dir}: its recipe differs from this one in ${diff.join(', ')}`);
      }
      restoreCheckpoint(ck, model, optimizer, ema);
      pos = ck.meta.position;
      history = ck.meta.extra.history;
      best = ck.meta.extra.best;
      partial = ck.meta.extra.partial;
      trainSeconds = ck.meta.extra.trainSeconds;
      planned = ck.meta.extra.plannedUpdates ?? planned;
      say(`resumed from ${dir}: epoch ${pos.epoch}, batch ${pos.batchInEpoch}, update ${pos.step}`);
    } else {
      say(`no checkpoint in ${run.checkpoints}; starting from scratch`);
    }
  }
  if (run) {
    if (o.config !== undefined) run.writeJson('config.json', o.config);
    run.writeJson('recipe.json', r);
    run.writeJson('environment.json', { ...environmentInfo(), resumedAt: pos.step > 0 ? pos : undefined });
  }
  let lrSched = lrScheduleOf(planned);
  let wdSched = wdScheduleOf(planned);
  say(`training ${model.numParams().toLocaleString()} params: ${r.epochs} epochs × ${updatesPerEpoch} updates ` +
    `(batch ${r.batchSize}${accum > 1 ? ` = ${accum} × ${micro}` : ''}), ${r.optimizer} lr ${r.lr}, ` +
    `wd ${r.weightDecay}${ema ? `, EMA ${r.emaDecay}` : ''}`);

  const monitorKey = r.monitor;
  const checkpoint = (name: string, p: TrainPosition, sums?: EpochSums): void => {
    if (!run) return;
    saveCheckpoint(run.checkpoints, name, {
      model, optimizer, ema, position: p, seed: r.seed,
      extra: { recipe: r, history, best, partial: sums, trainSeconds, plannedUpdates: planned } satisfies TrainExtra,
    });
  };

  let interrupted = false;
  let stopped = false;
  try {
    for (let epoch = pos.epoch; epoch < r.epochs && pos.step < planned && !interrupted && !stopped; epoch++) {
      const startBatch = epoch === pos.epoch ? pos.batchInEpoch : 0;
      const sums: EpochSums = startBatch > 0 && partial ? { ...partial } : { loss: 0, correct: 0, images: 0, seconds: 0, batches: 0 };
      const epochBatches = updatesPerEpoch * accum;
      train.setEpoch(epoch, startBatch);
      model.train();
      model.onEpochStart?.(epoch);
      const bar = new Progress({ label: `epoch ${epoch + 1}/${r.epochs}`, total: epochBatches, enabled: o.progress, log: say });
      let b = startBatch;
      let lr = scheduleAt(lrSched, pos.step);
      try {
        let t0 = process.hrtime.bigint();
        for await (const batch of train) {
          const it = pos.step;
          lr = scheduleAt(lrSched, it);
          const wd = wdSched ? scheduleAt(wdSched, it) : undefined;
          const labels = r.loss === 'label-smoothing' ? tf.tensor1d(batch.labels as Int32Array, 'int32') : undefined;
          const out = withSeed([r.seed, 'micro', pos.microStep], () => tf.tidy(() => {
            let correct: tf.Scalar | undefined;
            const { value, grads } = tf.variableGrads(() => {
              const logits = model.forward(batch.x);
              if (labels) {
                correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')) as tf.Scalar);
                return labelSmoothingCrossEntropy(logits, labels, r.smoothing);
              }
              return softTargetCrossEntropy(logits, batch.y);
            }, vars);
            let g = optimizer.flatten(vars.map((v) => grads[v.name] ?? tf.zerosLike(v)));
            if (accum > 1) g = tf.div(g, accum);
            return { value, g, correct };
          }));
          labels?.dispose();
          const loss = (await out.value.data())[0];
          const n = batch.x.shape[0];
          tf.dispose([batch.x, batch.y]);
          if (!Number.isFinite(loss)) {
            tf.dispose([out.value, out.g, ...(out.correct ? [out.correct] : [])]);
            throw new NonFiniteLossError(loss, epoch, b, it);
          }
          sums.loss += loss * n;
          sums.images += n;
          if (out.correct) sums.correct += (await out.correct.data())[0];
          b++;
          pos.microStep++;
          const isUpdate = b % accum === 0;
          if (accumGrad) tf.tidy(() => accumGrad.assign(tf.add(accumGrad, out.g)));
          if (isUpdate) {
            const g = (accumGrad ?? out.g) as tf.Tensor1D;
            const clipped = clip(g, r.clipGrad);
            optimizer.step(clipped, { lr, weightDecay: wd });
            if (clipped !== g) clipped.dispose();
            if (accumGrad) tf.tidy(() => accumGrad.assign(tf.zerosLike(accumGrad)));
          }
          tf.dispose([out.value, out.g, ...(out.correct ? [out.correct] : [])]);
          if (isUpdate) {
            ema?.update();
            pos.step++;
          }
          const t1 = process.hrtime.bigint();
          sums.seconds += Number(t1 - t0) / 1e9;
          t0 = t1;
          sums.batches = b;
          bar.update(b, { loss: sums.loss / sums.images, lr, 'img/s': sums.images / sums.seconds });
          if (isUpdate && run) {
            run.scalar('train/loss', loss, pos.step);
            run.scalar('train/lr', lr, pos.step);
          }
          if (isUpdate && o.signal?.aborted) {
            checkpoint('last', { ...pos, epoch, batchInEpoch: b }, sums);
            interrupted = true;
            say(`interrupted at epoch ${epoch}, batch ${b}; saved the last checkpoint`);
            break;
          }
          if (b >= epochBatches) break;
          if (isUpdate && (pos.step >= planned || trainSeconds + sums.seconds >= budgetSeconds)) break;
          if (isUpdate && r.checkpointEverySteps > 0 && pos.step % r.checkpointEverySteps === 0) {
            checkpoint('last', { ...pos, epoch, batchInEpoch: b }, sums);
          }
        }
      } finally {
        bar.stop();
      }
      if (interrupted) break;
      trainSeconds += sums.seconds;
      if (r.budgetSchedule) {
        // This session's part of the epoch: a resumed epoch's sums include the time before the restart.
        const recentUpdates = (b - startBatch) / accum;
        const recentSeconds = sums.seconds - (startBatch > 0 && partial ? partial.seconds : 0);
        const before = planned;
        planned = planBudgetUpdates({ budgetSeconds, usedSeconds: trainSeconds, doneUpdates: pos.step, maxUpdates, recentUpdates, recentSeconds });
        if (planned !== before) {
          lrSched = lrScheduleOf(planned);
          wdSched = wdScheduleOf(planned);
        }
        if (pos.step < maxUpdates) say(pos.step >= planned
          ? `stopping after ${pos.step} updates: the ${r.maxTrainMinutes}-minute budget is spent (${(trainSeconds / 60).toFixed(1)} min)`
          : `budget: ${planned} updates (${(planned / updatesPerEpoch).toFixed(2)} epochs) end the schedule at ` +
            `${r.maxTrainMinutes} min at ${(recentUpdates / recentSeconds).toFixed(2)} updates/s`);
      }
      const last = epoch + 1 === r.epochs || pos.step >= planned;
      const rec: EpochRecord = {
        epoch,
        step: pos.step,
        lr,
        trainLoss: sums.loss / sums.images,
        trainTop1: r.loss === 'label-smoothing' ? sums.correct / sums.images : null,
        trainSeconds: sums.seconds,
        trainImagesPerSec: sums.images / sums.seconds,
        trainMinutes: trainSeconds / 60,
      };
      if (val && ((epoch + 1) % r.evalEvery === 0 || last)) {
        const res = await evaluate(model, val, { progress: o.progress, log: say, label: 'eval' });
        Object.assign(rec, { valLoss: res.loss, valTop1: res.top1, valTop5: res.top5, evalSeconds: res.seconds, evalImagesPerSec: res.imagesPerSec });
        if (ema && r.evalEma) {
          const e = await ema.withWeights(() => evaluate(model, val, { progress: o.progress, log: say, label: 'eval ema' }));
          Object.assign(rec, { emaLoss: e.loss, emaTop1: e.top1, emaTop5: e.top5 });
        }
      }
      history.push(rec);
      pos = { ...pos, epoch: epoch + 1, batchInEpoch: 0 };
      const m = rec[monitorKey];
      const improved = typeof m === 'number' && (best === undefined || m > best.value);
      if (improved) best = { epoch, metric: monitorKey, value: m as number };
      say(epochLine(rec, r.epochs));
      if (run) {
        run.writeMetrics(history);
        for (const k of ['trainLoss', 'valLoss', 'valTop1', 'valTop5', 'emaTop1', 'trainImagesPerSec'] as const) {
          const v = rec[k];
          if (typeof v === 'number') run.scalar(`epoch/${k}`, v, epoch + 1);
        }
        run.flush();
      }
      checkpoint('last', pos);
      if (improved) checkpoint('best', pos);
      if ((await o.onEpoch?.(rec, history)) === 'stop') {
        stopped = true;
        say(`stopped by onEpoch after epoch ${epoch}`);
      } else if (r.maxTrainMinutes !== undefined && !r.budgetSchedule && epoch + 1 < r.epochs && trainSeconds + sums.seconds > 60 * r.maxTrainMinutes) {
        stopped = true;
        say(`stopping after epoch ${epoch + 1} of ${r.epochs}: another epoch (~${(sums.seconds / 60).toFixed(1)} min) would pass ` +
          `the ${r.maxTrainMinutes}-minute training budget (${(trainSeconds / 60).toFixed(1)} min used)`);
      }
    }
  } finally {
    accumGrad?.dispose();
    optimizer.dispose();
    await Promise.all(own.map((l) => l.close()));
  }
  const final = history[history.length - 1];
  if (run && final) run.writeJson('summary.json', {
    final, best, trainMinutes: trainSeconds / 60, epochsDone: history.length, updates: pos.step, stoppedEarly: stopped,
  });
  return { history, best, final, runDir: run?.dir, interrupted, ema };
}

/** torch.nn.utils.clip_grad_norm_ on the flat gradient: scale by min(1, max / (‖g‖ + 1e-6)). */
function clip(g: tf.Tensor1D, maxNorm?: number): tf.Tensor1D {
  if (!maxNorm) return g;
  return tf.tidy(() => {
    const norm = tf.sqrt(tf.sum(tf.square(g)));
    return tf.mul(g, tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1)) as tf.Tensor1D;
  });
}

function epochLine(r: EpochRecord, epochs: number): string {
  const pct = (v?: number | null): string => (typeof v === 'number' ? `${(100 * v).toFixed(2)}%` : '-');
  let s = `epoch ${r.epoch + 1}/${epochs}: loss ${r.trainLoss.toFixed(4)}`;
  if (r.trainTop1 !== null) s += ` train ${pct(r.trainTop1)}`;
  if (r.valTop1 !== undefined) s += ` | val loss ${r.valLoss!.toFixed(4)} top1 ${pct(r.valTop1)} top5 ${pct(r.valTop5)}`;
  if (r.emaTop1 !== undefined) s += ` | ema top1 ${pct(r.emaTop1)}`;
  s += ` | ${r.trainImagesPerSec.toFixed(0)} img/s, ${r.trainMinutes.toFixed(1)} min`;
  return s;
}
