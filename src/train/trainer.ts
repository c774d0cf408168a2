/**
 * The training engine's entry point: `fit` trains any classifier Module (forward(x: NHWC) → logits), or a
 * one-output regression head when the recipe's loss is a regression loss (MAE / RMSE / R² per epoch, best by
 * validation MAE), with the
 * paper's recipe or a variation of it, recording the run in a folder and resuming it exactly. It reads as
 * the official main.py: build the optimizer, EMA and schedules, resume, then per epoch `trainOneEpoch`
 * (engine.ts, one TrainStep per micro-batch, step.ts), evaluate, and hand the record to the callbacks
 * (callbacks/: progress, run records, TensorBoard, checkpoints, time budget, early stopping).
 */
import type { Module } from '../nn/module';
import { DataLoader } from '../data/loader';
import { AdamW } from './adamw';
import { emptySums, CallbackList, type BestEpoch, type Callback, type EpochRecord, type TrainState } from './callbacks/callback';
import { BudgetSchedule } from './callbacks/budget';
import { assertFiniteWeights, Checkpoints, resume } from './callbacks/checkpoint';
import { EarlyStop, type OnEpoch } from './callbacks/early-stop';
import { Interrupt } from './callbacks/interrupt';
import { ProgressLogger } from './callbacks/progress';
import { RunRecords } from './callbacks/run-records';
import { TensorBoard } from './callbacks/tensorboard';
import { ModelEma } from './ema';
import { describeChanges, type ConfigChange } from './config';
import { evaluate, evaluateRegression, NonFiniteLossError, NonFiniteStateError, trainOneEpoch } from './engine';
import { regressionSummary } from '../metrics/regression';
import { evalLoader, isLoader, trainLoader, type BatchLoader, type DataSpec } from './loaders';
import type { Optimizer } from './optimizer';
import { buildParamGroups } from './param-groups';
import { accumSteps, isRegressionLoss, monitorLowerIsBetter, resolveRecipe, type RegressionLossName, type TrainRecipe } from './recipe';
import { lockRunFolder, RunDir } from './run-dir';
import { recipeSchedules } from './schedule';
import { SGD } from './sgd';
import type { Classifier } from '../convnext/model';
import { TrainStep, type TargetNorm } from './step';

// The training API in one import, as run-config.ts, the CLI and the notebooks use it.

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
  onEpoch?: OnEpoch;
  log?: (line: string) => void;
  progress?: boolean;
  /** Aborting saves the `last` checkpoint after the current update and returns with interrupted = true. */
  signal?: AbortSignal;
  /** Builds the optimizer instead of the recipe's AdamW / SGD. */
  optimizer?: (model: Classifier, recipe: TrainRecipe) => Optimizer;
  /**
   * Resume although the recipe differs from the checkpoint's (refused otherwise). The change is recorded in
   * the run folder: a line in log.txt and an entry in configChanges.json.
   */
  allowConfigChange?: boolean;
  /** The caller's account of what changed on resume (its whole config); default: the recipe's changes. */
  configChanges?: ConfigChange[];
  /** Regression (a regression loss): the head predicts (target − mean) / std. Default { mean: 0, std: 1 }. */
  targetNorm?: TargetNorm;
  /** Regression: validation predictions are clamped to this range (the targets' known range). */
  targetRange?: readonly [number, number];
}

export interface FitResult {
  history: EpochRecord[];
  best?: BestEpoch;
  final: EpochRecord;
  runDir?: string;
  interrupted: boolean;
  /** The EMA weights, when the recipe keeps them (owned by the caller: dispose when done). */
  ema?: ModelEma;
}

/** The recipe's optimizer over the official parameter groups. */
export function createOptimizer(model: Module, r: TrainRecipe): Optimizer {
  const groups = buildParamGroups(model, { weightDecay: r.weightDecay, layerDecay: r.layerDecay });
  if (r.optimizer === 'sgd') return new SGD(groups, { momentum: r.momentum ?? 0.9, nesterov: r.nesterov ?? true });
  return new AdamW(groups, { betas: r.betas, eps: r.eps });
}

/**
 * Trains `model` in place. A run folder is owned by one process at a time: another live owner is refused,
 * naming its pid. The run stops (NonFiniteLossError / NonFiniteStateError) as soon as the loss, the weights
 * or a validation loss stop being finite, before anything non-finite is saved or chosen as `best`.
 */
export async function fit(o: FitOptions): Promise<FitResult> {
  const release = o.runDir ? lockRunFolder(o.runDir) : undefined;
  try {
    return await fitLocked(o);
  } finally {
    release?.();
  }
}

async function fitLocked(o: FitOptions): Promise<FitResult> {
  const r = resolveRecipe(o.recipe);
  const log = o.log ?? ((line: string) => console.log(line));
  const run = o.runDir ? new RunDir(o.runDir) : undefined;
  if (o.resume && !run) throw new Error('resume needs a runDir');
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

  const model = o.model;
  const optimizer = o.optimizer ? o.optimizer(model, r) : createOptimizer(model, r);
  const ema = r.modelEma ? new ModelEma(model, r.emaDecay) : undefined;
  const regression = isRegressionLoss(r.loss);
  const step = new TrainStep(model, optimizer, {
    loss: r.loss, smoothing: r.smoothing, accumSteps: accum, clipGrad: r.clipGrad, seed: r.seed,
    targetNorm: o.targetNorm, huberDelta: r.huberDelta, trimFraction: r.trimFraction,
  }, ema);
  const regressionEval = regression ? {
    targetNorm: o.targetNorm, loss: r.loss as RegressionLossName,
    huberDelta: r.huberDelta, trimFraction: r.trimFraction, range: o.targetRange,
  } : undefined;
  // Order matters: each callback sees what the ones before it did to the state (see callbacks/callback.ts).
  const callbacks = new CallbackList([
    new ProgressLogger(o.progress),
    ...(run ? [new RunRecords(run, o.config), new TensorBoard(run)] : []),
    ...(o.signal ? [new Interrupt(o.signal)] : []),
    ...(r.budgetSchedule ? [new BudgetSchedule(r.maxTrainMinutes!)] : []),
    new Checkpoints(),
    new EarlyStop(o.onEpoch),
  ] satisfies Callback[]);

  try {
    const resumed = o.resume ? resume({ run, recipe: r, model, optimizer, ema, say }, o.allowConfigChange) : undefined;
    const changes = resumed ? o.configChanges ?? resumed.recipeChanges : [];
    if (run && resumed && changes.length > 0) {
      run.recordConfigChanges({ resumedAt: resumed.position, changes });
      say(`config changed on resume (allowed, recorded in configChanges.json): ${describeChanges(changes)}`);
    }
    const plannedUpdates = resumed?.plannedUpdates ?? maxUpdates;
    const s: TrainState = {
      recipe: r, model, optimizer, ema, run, say, accum, updatesPerEpoch, maxUpdates,
      position: resumed?.position ?? { epoch: 0, batchInEpoch: 0, step: 0, microStep: 0 },
      plannedUpdates,
      schedules: recipeSchedules(r, updatesPerEpoch, plannedUpdates),
      lr: 0,
      sums: emptySums(),
      history: resumed?.history ?? [],
      best: resumed?.best,
      trainSeconds: resumed?.trainSeconds ?? 0,
      endEpoch: false,
      interrupted: false,
      stoppedEarly: false,
    };
    await callbacks.onTrainBegin(s);
    say(`training ${model.numParams().toLocaleString()} params: ${r.epochs} epochs × ${updatesPerEpoch} updates ` +
      `(batch ${r.batchSize}${accum > 1 ? ` = ${accum} × ${micro}` : ''}), ${r.optimizer} lr ${r.lr}, ` +
      `wd ${r.weightDecay}${ema ? `, EMA ${r.emaDecay}` : ''}`);

    while (s.position.epoch < r.epochs && s.position.step < s.plannedUpdates && !s.stoppedEarly) {
      const epoch = s.position.epoch;
      // Only a resumed epoch starts mid-way, with the sums its checkpoint saved.
      s.sums = s.position.batchInEpoch > 0 && resumed?.partial ? { ...resumed.partial } : emptySums();
      await callbacks.onEpochBegin(s);
      await trainOneEpoch(s, step, train, callbacks);
      if (s.interrupted) break;
      assertFiniteWeights(s);
      s.trainSeconds += s.sums.seconds;
      await callbacks.onEpochTrained(s);

      const last = epoch + 1 === r.epochs || s.position.step >= s.plannedUpdates;
      const rec: EpochRecord = {
        epoch,
        step: s.position.step,
        lr: s.lr,
        trainLoss: s.sums.loss / s.sums.images,
        trainTop1: r.loss === 'label-smoothing' ? s.sums.correct / s.sums.images : null,
        ...(regression && s.sums.regression ? (({ mae, rmse, r2 }) => ({ trainMae: mae, trainRmse: rmse, trainR2: r2 }))(regressionSummary(s.sums.regression)) : {}),
        trainSeconds: s.sums.seconds,
        trainImagesPerSec: s.sums.images / s.sums.seconds,
        trainMinutes: s.trainSeconds / 60,
      };
      if (val && regressionEval && ((epoch + 1) % r.evalEvery === 0 || last)) {
        const res = await evaluateRegression(model, val, { ...regressionEval, progress: o.progress, log: say, label: 'eval' });
        Object.assign(rec, { valLoss: res.loss, valMae: res.mae, valRmse: res.rmse, valR2: res.r2, evalSeconds: res.seconds, evalImagesPerSec: res.imagesPerSec });
        if (ema && r.evalEma) {
          const e = await ema.withWeights(() => evaluateRegression(model, val, { ...regressionEval, progress: o.progress, log: say, label: 'eval ema' }));
          Object.assign(rec, { emaLoss: e.loss, emaMae: e.mae, emaRmse: e.rmse, emaR2: e.r2 });
        }
      } else if (val && ((epoch + 1) % r.evalEvery === 0 || last)) {
        const res = await evaluate(model, val, { progress: o.progress, log: say, label: 'eval' });
        Object.assign(rec, { valLoss: res.loss, valTop1: res.top1, valTop5: res.top5, evalSeconds: res.seconds, evalImagesPerSec: res.imagesPerSec });
        if (ema && r.evalEma) {
          const e = await ema.withWeights(() => evaluate(model, val, { progress: o.progress, log: say, label: 'eval ema' }));
          Object.assign(rec, { emaLoss: e.loss, emaTop1: e.top1, emaTop5: e.top5 });
        }
      }
      for (const k of ['valLoss', 'emaLoss'] as const) {
        const v = rec[k];
        if (v !== undefined && !Number.isFinite(v)) {
          throw new NonFiniteStateError(`${k === 'valLoss' ? 'validation' : 'EMA validation'} loss is ${v}`, epoch, s.position.step);
        }
      }
      s.history.push(rec);
      s.position = { ...s.position, epoch: epoch + 1, batchInEpoch: 0 };
      const m = rec[r.monitor];
      const better = (a: number, b: number): boolean => (monitorLowerIsBetter(r.monitor) ? a < b : a > b);
      if (typeof m === 'number' && Number.isFinite(m) && (s.best === undefined || better(m, s.best.value))) s.best = { epoch, metric: r.monitor, value: m };
      await callbacks.onEpochEnd(s, rec);
    }
    await callbacks.onTrainEnd(s);
    return { history: s.history, best: s.best, final: s.history[s.history.length - 1], runDir: run?.dir, interrupted: s.interrupted, ema };
  } catch (err) {
    if (err instanceof NonFiniteLossError || err instanceof NonFiniteStateError) run?.log(`stopped: ${err.message}`);
    ema?.dispose();
    throw err;
  } finally {
    callbacks.close();
    step.dispose();
    optimizer.dispose();
    await Promise.all(own.map((l) => l.close()));
  }
}
