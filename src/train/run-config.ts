/**
 * `runFromConfig`: resolves a TrainConfig (file or object) into a model, data loaders and a recipe, trains
 * it with `fit` into a run folder and writes the final evaluation (top-1 / top-5, per-class P/R/F1,
 * confusion matrix; under `task: regression` MAE / RMSE / R² and the MAE per target bucket). The CLI's
 * `train` command and the notebooks call this.
 */
import * as fs from 'fs';
import * as path from 'path';

import { augmentConfig } from '../augment/config';
import { buildBatchTransform, buildCropPadTransform, buildEvalTransform, buildTrainTransform } from '../augment/transforms';
import { ConvNeXt } from '../convnext/convnext';
import { createModel } from '../convnext/registry';
import type { LabelledDataset } from '../data/dataset';
import { cifar10, flowers5 } from '../data/datasets';
import { CsvRegressionDataset } from '../data/csv';
import { annotationFile, PetAgeDataset, PET_AGE_MAX_MONTHS } from '../data/pet-age';
import { petAgeStandIn, type PetAgeStandIn } from '../data/regression-stand-in';
import { Subset } from '../data/dataset';
import { AGE_BUCKETS_MONTHS, maeByBucket } from '../metrics/regression';
import { ImageFolder } from '../data/image-folder';
import { DataLoader } from '../data/loader';
import type { SampleTransform } from '../image/batch';
import { takePerClass } from '../data/split';
import { loadWeights } from '../convnext/weights';
import { checkConfig, configDiff, describeChanges, loadConfigFile, taskOf, type AugmentSettings, type ConfigChange, type TrainConfig } from './config';
import { findCheckpoint } from './checkpoint';
import { WeightsError } from '../convnext/weights';
import { accumSteps, resolveRecipe, type TrainRecipe } from './recipe';
import { lockRunFolder, RunDir } from './run-dir';
import { withSeed } from './seed';
import type { Classifier } from '../convnext/model';
import { evaluate, evaluateRegression, type EvalResult, type RegressionEvalResult } from './engine';
import type { TargetNorm } from './step';
import { fit, type FitOptions, type FitResult } from './trainer';
import { readJsonFile } from '../util/fs';

export interface RunOptions {
  /** Run folder; default config.out, else runs/<name>. */
  out?: string;
  resume?: boolean;
  /**
   * With `resume`: continue although the resolved config differs from the run's config.json (refused
   * otherwise, listing the differences). The change is recorded: a log.txt line and configChanges.json.
   */
  allowConfigChange?: boolean;
  log?: (line: string) => void;
  progress?: boolean;
  signal?: AbortSignal;
  onEpoch?: FitOptions['onEpoch'];
  /** Use synthetic stand-ins where a named dataset cannot be had (smoke runs). */
  standIn?: boolean;
}

export interface RunResult extends FitResult {
  config: TrainConfig;
  /** Final evaluation of the trained model (and of its EMA weights when kept). */
  evaluation?: EvalResult;
  emaEvaluation?: EvalResult;
  /** Under task: regression, the final evaluation on the validation split. */
  regressionEvaluation?: RegressionEvalResult;
  classes: string[];
}

export interface ResolvedData {
  train: LabelledDataset;
  val?: LabelledDataset;
  /** A held-out test split when the dataset has one (pet-age, its stand-in). */
  test?: LabelledDataset;
  classes: string[];
  /** The pet-age stand-in, when the config names it (its true ages and noise mask). */
  standIn?: PetAgeStandIn;
}

/** The first n items of a dataset. */
function firstItems(ds: LabelledDataset, n: number | undefined): LabelledDataset {
  if (n === undefined || n >= ds.length) return ds;
  return new Subset(ds, Int32Array.from({ length: n }, (_, i) => i));
}

/** The config's datasets (prepared and decoded into memory for the project's named datasets). */
export async function loadData(
  c: TrainConfig['data'],
  o: { progress?: boolean; standIn?: boolean } = {},
): Promise<ResolvedData> {
  const { progress = true, standIn } = o;
  let train: LabelledDataset;
  let val: LabelledDataset | undefined;
  if (c.name === 'pet-age-stand-in') {
    const s = await petAgeStandIn({
      dataDir: c.dataDir, progress, standIn, seed: c.splitSeed ?? 0, imageSize: c.imageSize, labelNoise: c.labelNoise, limit: c.limit,
    });
    return { train: s.train.dataset, val: s.val.dataset, test: s.test.dataset, classes: [], standIn: s };
  }
  if (c.name === 'pet-age') {
    const test = fs.existsSync(path.join(c.root!, 'testset')) && annotationFile(c.root!, 'test') ? new PetAgeDataset(c.root!, 'test', { limit: c.limit }) : undefined;
    return { train: new PetAgeDataset(c.root!, 'train', { limit: c.limit }), val: new PetAgeDataset(c.root!, 'val', { limit: c.limit }), test, classes: [] };
  }
  if (c.train && /\.csv$/i.test(c.train)) {
    // Regression from CSV files of path,target rows.
    return {
      train: firstItems(new CsvRegressionDataset(c.train), c.limit),
      val: c.val ? firstItems(new CsvRegressionDataset(c.val), c.limit) : undefined,
      classes: [],
    };
  }
  if (c.name === 'cifar10') {
    train = await cifar10('train', { dataDir: c.dataDir, progress, standIn });
    val = await cifar10('test', { dataDir: c.dataDir, progress, standIn });
  } else if (c.name === 'flowers5') {
    const split = await flowers5({ dataDir: c.dataDir, progress, standIn, seed: c.splitSeed ?? 0 });
    train = split.train;
    val = split.val;
  } else {
    train = new ImageFolder(c.train!);
    val = c.val ? new ImageFolder(c.val) : undefined;
  }
  if (c.perClass) train = takePerClass(train, c.perClass);
  const valPerClass = c.valPerClass ?? c.perClass;
  if (val && valPerClass) val = takePerClass(val, valPerClass);
  if (val && val.classes.join() !== train.classes.join()) {
    throw new Error(`train classes (${train.classes.join(', ')}) differ from val classes (${val.classes.join(', ')})`);
  }
  return { train, val, classes: train.classes };
}

/** Builds the config's model (seeded initialisation) and loads its initial weights if any; a regression head has one output. */
export function buildModel(config: TrainConfig, numClasses: number): Classifier {
  if (taskOf(config) === 'regression') numClasses = 1;
  const m = config.model;
  const seed = config.recipe?.seed ?? 0;
  const opts = { numClasses, ...m.options };
  const model = withSeed([seed, 'init'], (): Classifier => (m.arch ? new ConvNeXt({ ...m.arch, ...opts }) : createModel(m.name!, opts)));
  if (m.weights) {
    try {
      loadWeights(model, m.weights, { ignoreHead: m.newHead });
    } catch (err) {
      // The library's hint names numClasses; here the class count is the dataset's.
      if (!(err instanceof WeightsError && err.classCount)) throw err;
      model.dispose();
      throw new Error(`model.weights ${m.weights} has a ${err.classCount.file}-class head but the dataset has ` +
        `${numClasses} classes: set model.newHead: true (--set model.newHead=true) to fine-tune a new head on ` +
        `these classes, or train on data with the weights' ${err.classCount.file} classes`);
    }
  }
  return model;
}

/** Training and evaluation transforms for the config's augmentation (pad-and-crop or the timm pipeline). */
export function transforms(a: AugmentSettings = {}, numClasses: number): {
  train: SampleTransform;
  batch?: ReturnType<typeof buildBatchTransform>;
  eval: SampleTransform;
} {
  const { cropPadding, ...rest } = a;
  const aug = augmentConfig(rest);
  if (cropPadding) {
    return {
      train: buildCropPadTransform(aug, cropPadding),
      batch: buildBatchTransform(aug, numClasses),
      eval: buildEvalTransform({ inputSize: aug.inputSize, cropPct: 1 }),
    };
  }
  return { train: buildTrainTransform(aug), batch: buildBatchTransform(aug, numClasses), eval: buildEvalTransform(aug) };
}

/**
 * The augmentation the config trains with: its own settings, and under task: regression the classification-only
 * parts of the paper's defaults (Mixup, CutMix, label smoothing) off (giving them explicitly is refused by checkConfig).
 */
export function taskAugment(config: Pick<TrainConfig, 'task' | 'augment'>): AugmentSettings {
  return taskOf(config) === 'regression' ? { mixup: 0, cutmix: 0, smoothing: 0, ...config.augment } : config.augment ?? {};
}

/**
 * What a run folder records as config.json: the config with its augmentation and recipe resolved; under
 * task: regression also its target normalisation (`auto` becomes the training targets' mean and std, so
 * `targets` is needed then) and range.
 */
export function resolvedConfig(config: TrainConfig, targets?: ArrayLike<number>): TrainConfig {
  const regression = taskOf(config) === 'regression';
  const aug = augmentConfig(taskAugment(config));
  const recipe = resolveRecipe({ ...(regression && config.recipe?.loss === undefined ? { loss: 'l1' as const } : {}), ...config.recipe });
  const mixing = aug.mixup > 0 || aug.cutmix > 0;
  if (config.recipe?.loss === undefined) recipe.loss = regression ? 'l1' : mixing ? 'soft-target' : 'label-smoothing';
  if (config.recipe?.smoothing === undefined) recipe.smoothing = aug.smoothing;
  const out: TrainConfig = { ...config, augment: { ...aug, cropPadding: config.augment?.cropPadding }, recipe };
  if (regression) out.regression = { ...config.regression, targetNorm: resolveTargetNorm(config, targets) };
  return out;
}

/** The target normalisation of a regression config: { mean, std } ('auto': of `targets`), or { 0, 1 } for 'none'. */
export function resolveTargetNorm(config: Pick<TrainConfig, 'regression'>, targets?: ArrayLike<number>): TargetNorm {
  const t = config.regression?.targetNorm ?? 'auto';
  if (t === 'none') return { mean: 0, std: 1 };
  if (typeof t === 'object') return { mean: t.mean, std: t.std };
  if (!targets || targets.length === 0) throw new Error('regression.targetNorm auto needs the training targets');
  let sum = 0;
  for (let i = 0; i < targets.length; i++) sum += targets[i];
  const mean = sum / targets.length;
  let ss = 0;
  for (let i = 0; i < targets.length; i++) ss += (targets[i] - mean) ** 2;
  const std = Math.sqrt(ss / targets.length);
  return { mean, std: std > 0 ? std : 1 };
}

/** The range predictions are clamped to: regression.range, else [0, 192] months for the pet-age datasets. */
export function targetRange(config: Pick<TrainConfig, 'regression' | 'data'>): [number, number] | undefined {
  if (config.regression?.range) return config.regression.range;
  return config.data.name?.startsWith('pet-age') ? [0, PET_AGE_MAX_MONTHS] : undefined;
}

/**
 * Resuming a run whose checkpoint was made with another config is refused, listing what differs (key
 * paths, old → new), unless allowed; returns the allowed changes (none when nothing differs or nothing to
 * resume). Runs recorded before config.json existed are left to the checkpoint's recipe check.
 */
export function checkResumeConfig(outDir: string, resolved: TrainConfig, allow = false): ConfigChange[] {
  const run = path.resolve(outDir);
  const recorded = path.join(run, 'config.json');
  if (!findCheckpoint(path.join(run, 'checkpoints'), 'last') || !fs.existsSync(recorded)) return [];
  const changes = configDiff(readJsonFile(recorded), resolved);
  if (changes.length > 0 && !allow) {
    throw new Error(`cannot resume ${outDir}: the config differs from the one its checkpoints were made with ` +
      `(config.json): ${describeChanges(changes)}. Resume with the run's config (--config ${path.join(outDir, 'config.json')}), ` +
      'or pass --allow-config-change to continue with this one (the change is recorded in the run folder)');
  }
  return changes;
}

/** Resolves and runs a training config; returns the history and the final evaluation. */
export async function runFromConfig(configOrFile: string | TrainConfig, o: RunOptions = {}): Promise<RunResult> {
  const config = typeof configOrFile === 'string' ? loadConfigFile(configOrFile) : checkConfig(configOrFile);
  const log = o.log ?? ((l: string) => console.log(l));
  const outDir = o.out ?? config.out ?? path.join('runs', config.name);
  // The folder is this process's until the run is recorded whole (fit takes the same lock again).
  const release = lockRunFolder(outDir);
  try {
    return await runLocked(config, outDir, log, o);
  } finally {
    release();
  }
}

async function runLocked(config: TrainConfig, outDir: string, log: (l: string) => void, o: RunOptions): Promise<RunResult> {
  if (!o.resume && fs.existsSync(path.join(outDir, 'checkpoints'))) {
    throw new Error(`run folder ${outDir} already has checkpoints: pass --resume to continue it or --out for a new folder`);
  }
  const regression = taskOf(config) === 'regression';
  if (!regression) resolvedConfig(config); // a bad recipe fails before any data is loaded
  const data = await loadData(config.data, { progress: o.progress !== false, standIn: o.standIn });
  if (regression && data.classes.length > 0) {
    throw new Error(`task: regression needs real-valued targets, but the data has ${data.classes.length} classes (${data.classes.slice(0, 3).join(', ')} …)`);
  }
  const resolved = resolvedConfig(config, data.train.targets);
  const recipe = resolved.recipe as TrainRecipe;
  const configChanges = o.resume ? checkResumeConfig(outDir, resolved, o.allowConfigChange) : [];
  const numClasses = data.classes.length;
  const aug = augmentConfig(taskAugment(config));
  const t = transforms(taskAugment(config), numClasses);
  const micro = recipe.microBatch ?? recipe.batchSize;
  const train = new DataLoader({
    dataset: data.train, batchSize: micro, shuffle: true, seed: recipe.seed, dropLast: true,
    transform: t.train, batchTransform: t.batch, normalize: aug.normalize,
  });
  const val = data.val && new DataLoader({
    dataset: data.val, batchSize: config.data.evalBatchSize ?? micro, transform: t.eval, normalize: aug.normalize,
  });
  let model: Classifier | undefined;
  try {
    model = buildModel(config, numClasses);
    const targetNorm = regression ? resolved.regression!.targetNorm as TargetNorm : undefined;
    const range = regression ? targetRange(config) : undefined;
    log(`run ${config.name} → ${outDir}: ${train.numBatches} batches of ${micro} per epoch ` +
      `(${accumSteps(recipe)} per update), ${data.train.length} train / ${data.val?.length ?? 0} val images, ` +
      (regression ? `regression (${recipe.loss}; targets normalised by mean ${targetNorm!.mean.toFixed(2)}, std ${targetNorm!.std.toFixed(2)})` : `${numClasses} classes`));
    const res = await fit({
      targetNorm, targetRange: range,
      model, train, val, recipe, runDir: outDir, resume: o.resume, log, progress: o.progress,
      signal: o.signal, onEpoch: o.onEpoch, allowConfigChange: o.allowConfigChange,
      configChanges: configChanges.length > 0 ? configChanges : undefined,
      // The resolved config re-runs as is: `convnext train --config <run>/config.json`.
      config: resolved,
    });
    if (regression) {
      let regressionEvaluation: RegressionEvalResult | undefined;
      if (val && !res.interrupted) {
        const opts = { targetNorm, range, loss: recipe.loss as 'l1', huberDelta: recipe.huberDelta, trimFraction: recipe.trimFraction, progress: o.progress, log };
        regressionEvaluation = await evaluateRegression(model, val, { ...opts, label: 'final eval' });
        const ema = res.ema && recipe.evalEma ? await res.ema.withWeights(() => evaluateRegression(model!, val, { ...opts, label: 'final eval ema' })) : undefined;
        new RunDir(outDir).writeJson('eval.json', regressionEvalRecord(regressionEvaluation, config.regression?.buckets, ema));
      }
      res.ema?.dispose();
      return { ...res, config, regressionEvaluation, classes: [] };
    }
    new RunDir(outDir).writeJson('classes.json', data.classes);
    let evaluation: EvalResult | undefined;
    let emaEvaluation: EvalResult | undefined;
    if (val && !res.interrupted) {
      evaluation = await evaluate(model, val, { progress: o.progress, log, label: 'final eval' });
      if (res.ema && recipe.evalEma) emaEvaluation = await res.ema.withWeights(() => evaluate(model!, val, { progress: o.progress, log, label: 'final eval ema' }));
      const run = new RunDir(outDir);
      run.writeJson('eval.json', evalRecord(evaluation, data.classes, emaEvaluation));
    }
    res.ema?.dispose();
    return { ...res, config, evaluation, emaEvaluation, classes: data.classes };
  } finally {
    model?.dispose();
    await Promise.all([train.close(), val?.close()]);
  }
}

/** The JSON written for a regression evaluation: MAE / RMSE / R², loss, and the MAE and bias per target bucket. */
export function regressionEvalRecord(e: RegressionEvalResult, buckets: readonly number[] = AGE_BUCKETS_MONTHS, ema?: RegressionEvalResult): Record<string, unknown> {
  const one = (r: RegressionEvalResult) => ({
    task: 'regression', count: r.count, mae: r.mae, rmse: r.rmse, r2: r.r2, loss: r.loss, imagesPerSec: r.imagesPerSec, seconds: r.seconds,
    buckets: maeByBucket(r.pred, r.target, buckets),
  });
  return { task: 'regression', model: one(e), ema: ema ? one(ema) : undefined };
}

/** The JSON written for an evaluation: headline figures, per-class report and the confusion matrix. */
export function evalRecord(e: EvalResult, classes: string[], ema?: EvalResult): Record<string, unknown> {
  const one = (r: EvalResult) => ({
    count: r.count, top1: r.top1, top5: r.top5, loss: r.loss, imagesPerSec: r.imagesPerSec, seconds: r.seconds,
    perClass: classes.map((c, i) => ({
      class: c, precision: r.report.precision[i], recall: r.report.recall[i], f1: r.report.f1[i], support: r.report.support[i],
    })),
    macro: r.report.macro,
    weighted: r.report.weighted,
    confusion: Array.from({ length: classes.length }, (_, i) => Array.from(r.confusion.subarray(i * classes.length, (i + 1) * classes.length))),
  });
  return { classes, model: one(e), ema: ema ? one(ema) : undefined };
}
