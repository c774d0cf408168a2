/**
 * `runFromConfig`: resolves a TrainConfig (file or object) into a model, data loaders and a recipe, trains
 * it with `fit` into a run folder and writes the final evaluation (top-1 / top-5, per-class P/R/F1,
 * confusion matrix). The CLI's `train` command and the notebooks call this.
 */
import * as fs from 'fs';
import * as path from 'path';

import { augmentConfig } from '../augment/config';
import { buildBatchTransform, buildCropPadTransform, buildEvalTransform, buildTrainTransform } from '../augment/transforms';
import { ConvNeXt } from '../convnext/convnext';
import { createModel } from '../convnext/registry';
import type { LabelledDataset } from '../data/dataset';
import { cifar10, flowers5 } from '../data/datasets';
import { ImageFolder } from '../data/image-folder';
import { DataLoader } from '../data/loader';
import type { SampleTransform } from '../image/batch';
import { takePerClass } from '../data/split';
import { loadWeights } from '../convnext/weights';
import { checkConfig, configDiff, describeChanges, loadConfigFile, type AugmentSettings, type ConfigChange, type TrainConfig } from './config';
import { findCheckpoint } from './checkpoint';
import { WeightsError } from '../convnext/weights';
import { accumSteps, resolveRecipe, type TrainRecipe } from './recipe';
import { lockRunFolder, RunDir } from './run-dir';
import { withSeed } from './seed';
import type { Classifier } from '../convnext/model';
import { evaluate, type EvalResult } from './engine';
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
  classes: string[];
}

export interface ResolvedData {
  train: LabelledDataset;
  val?: LabelledDataset;
  classes: string[];
}

/** The config's datasets (prepared and decoded into memory for the project's named datasets). */
export async function loadData(
  c: TrainConfig['data'],
  o: { progress?: boolean; standIn?: boolean } = {},
): Promise<ResolvedData> {
  const { progress = true, standIn } = o;
  let train: LabelledDataset;
  let val: LabelledDataset | undefined;
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

/** Builds the config's model (seeded initialisation) and loads its initial weights if any. */
export function buildModel(config: TrainConfig, numClasses: number): Classifier {
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

/** What a run folder records as config.json: the config with its augmentation and recipe resolved. */
export function resolvedConfig(config: TrainConfig): TrainConfig {
  const aug = augmentConfig(config.augment);
  const recipe = resolveRecipe(config.recipe);
  const mixing = aug.mixup > 0 || aug.cutmix > 0;
  if (config.recipe?.loss === undefined) recipe.loss = mixing ? 'soft-target' : 'label-smoothing';
  if (config.recipe?.smoothing === undefined) recipe.smoothing = aug.smoothing;
  return { ...config, augment: { ...aug, cropPadding: config.augment?.cropPadding }, recipe };
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
  const resolved = resolvedConfig(config);
  const recipe = resolved.recipe as TrainRecipe;
  if (!o.resume && fs.existsSync(path.join(outDir, 'checkpoints'))) {
    throw new Error(`run folder ${outDir} already has checkpoints: pass --resume to continue it or --out for a new folder`);
  }
  const configChanges = o.resume ? checkResumeConfig(outDir, resolved, o.allowConfigChange) : [];
  const data = await loadData(config.data, { progress: o.progress !== false, standIn: o.standIn });
  const numClasses = data.classes.length;
  const aug = augmentConfig(config.augment);
  const t = transforms(config.augment, numClasses);
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
    log(`run ${config.name} → ${outDir}: ${train.numBatches} batches of ${micro} per epoch ` +
      `(${accumSteps(recipe)} per update), ${data.train.length} train / ${data.val?.length ?? 0} val images, ${numClasses} classes`);
    const res = await fit({
      model, train, val, recipe, runDir: outDir, resume: o.resume, log, progress: o.progress,
      signal: o.signal, onEpoch: o.onEpoch, allowConfigChange: o.allowConfigChange,
      configChanges: configChanges.length > 0 ? configChanges : undefined,
      // The resolved config re-runs as is: `convnext train --config <run>/config.json`.
      config: resolved,
    });
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
