/**
 * Finished regression runs (`task: regression`) read back: the trained head with its run's target
 * normalisation and evaluation transform, scored on a split (MAE / RMSE / R², MAE per target bucket) or used
 * to predict the target of image files. `convnext eval` and `convnext predict` call these for regression
 * runs, and notebook 06 scores its runs on the clean test split with them.
 */
import * as fs from 'fs';
import * as path from 'path';

import { tf } from '../backend';
import { augmentConfig } from '../augment/config';
import type { Classifier } from '../convnext/model';
import type { Dataset, LabelledDataset } from '../data/dataset';
import { DataLoader } from '../data/loader';
import { decodeImageFile } from '../image/decode';
import type { Sample } from '../image/sample';
import { AGE_BUCKETS_MONTHS, maeByBucket, type BucketError } from '../metrics/regression';
import { readJsonFile } from '../util/fs';
import { findCheckpoint, loadCheckpointWeights } from './checkpoint';
import { checkConfig, taskOf, type TrainConfig } from './config';
import { evaluateRegression, type RegressionEvalResult } from './engine';
import type { RegressionLossName, TrainRecipe } from './recipe';
import { buildModel, loadData, resolveTargetNorm, targetRange, taskAugment, transforms, type ResolvedData } from './run-config';
import type { TargetNorm } from './step';

export interface RegressionRunModel {
  model: Classifier;
  config: TrainConfig;
  targetNorm: TargetNorm;
  range?: [number, number];
  /** The checkpoint folder the weights came from, and its epoch. */
  checkpoint: string;
  epoch: number;
}

/** The run folder's config.json, checked; throws when it is not a regression run. */
export function readRunConfig(runDir: string): TrainConfig {
  const file = path.join(runDir, 'config.json');
  if (!fs.existsSync(file)) throw new Error(`${runDir} is not a run folder (no config.json)`);
  return checkConfig(readJsonFile(file), file);
}

/** Whether a run folder holds a regression run. */
export function isRegressionRun(runDir: string): boolean {
  const file = path.join(runDir, 'config.json');
  if (!fs.existsSync(file)) return false;
  const c = readJsonFile<{ task?: string }>(file);
  return c?.task === 'regression';
}

/** A regression run's model with the weights of its `best` (by validation MAE) or `last` checkpoint, in eval mode. */
export function loadRegressionRun(runDir: string, o: { checkpoint?: string; ema?: boolean } = {}): RegressionRunModel {
  const config = readRunConfig(runDir);
  if (taskOf(config) !== 'regression') throw new Error(`${runDir} is a classification run (task: ${taskOf(config)})`);
  const which = o.checkpoint ?? 'best';
  const dir = findCheckpoint(path.join(runDir, 'checkpoints'), which);
  if (!dir) throw new Error(`${runDir} has no ${which} checkpoint`);
  const model = buildModel({ ...config, model: { ...config.model, weights: undefined } }, 1);
  try {
    const meta = loadCheckpointWeights(model, dir, { ema: o.ema });
    const norm = config.regression?.targetNorm;
    // config.json records the resolved numbers; an unresolved 'auto' could only come from a hand-written file.
    if (norm === 'auto') throw new Error(`${runDir}/config.json has regression.targetNorm auto: expected the resolved { mean, std }`);
    return { model: model.eval(), config, targetNorm: resolveTargetNorm(config), range: targetRange(config), checkpoint: dir, epoch: meta.position.epoch };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/** The evaluation loader of a run's config for a dataset (its eval transform and normalisation). */
export function runEvalLoader(config: TrainConfig, dataset: Dataset, batchSize?: number): DataLoader {
  const a = taskAugment(config);
  const aug = augmentConfig(a);
  return new DataLoader({
    dataset, batchSize: batchSize ?? config.data.evalBatchSize ?? 64, transform: transforms(a, 0).eval, normalize: aug.normalize, numClasses: 0,
  });
}

export interface RegressionRunEval {
  result: RegressionEvalResult;
  buckets: BucketError[];
  source: string;
  split: string;
  config: TrainConfig;
}

/**
 * Scores a regression run on a split of its dataset (`val`, or `test` where the dataset has one: pet-age and
 * its stand-in) or on a given dataset: MAE / RMSE / R², the run's loss, and the MAE per bucket.
 */
export async function evaluateRegressionRun(runDir: string, o: {
  checkpoint?: string; ema?: boolean; split?: 'val' | 'test'; dataset?: LabelledDataset; data?: ResolvedData;
  batchSize?: number; flipTta?: boolean; progress?: boolean; standIn?: boolean;
} = {}): Promise<RegressionRunEval> {
  const run = loadRegressionRun(runDir, o);
  try {
    const split = o.split ?? 'val';
    let ds = o.dataset;
    if (!ds) {
      const data = o.data ?? await loadData(run.config.data, { progress: o.progress ?? false, standIn: o.standIn });
      ds = split === 'test' ? data.test : data.val;
      if (!ds) throw new Error(`the run's dataset (${run.config.data.name ?? run.config.data.train}) has no ${split} split`);
    }
    const loader = runEvalLoader(run.config, ds, o.batchSize);
    const recipe = run.config.recipe as Partial<TrainRecipe>;
    try {
      const result = await evaluateRegression(run.model, loader, {
        targetNorm: run.targetNorm, range: run.range, loss: (recipe.loss ?? 'l1') as RegressionLossName,
        huberDelta: recipe.huberDelta, trimFraction: recipe.trimFraction, flipTta: o.flipTta, progress: o.progress, label: `eval ${split}`,
      });
      const buckets = maeByBucket(result.pred, result.target, run.config.regression?.buckets ?? AGE_BUCKETS_MONTHS);
      return { result, buckets, source: `${run.checkpoint}${o.ema ? ' (EMA)' : ''}, epoch ${run.epoch}`, split: o.dataset ? 'given' : split, config: run.config };
    } finally {
      await loader.close();
    }
  } finally {
    run.model.dispose();
  }
}

/** The lines `convnext eval` prints for a regression evaluation. */
export function describeRegressionEval(e: RegressionRunEval, unit = 'months'): string[] {
  const r = e.result;
  const lines = [
    `${e.source} on ${r.count} ${e.split} images: MAE ${r.mae.toFixed(3)} ${unit}  RMSE ${r.rmse.toFixed(3)}  R² ${r.r2.toFixed(4)}  ` +
      `loss ${r.loss.toFixed(4)}  ${r.imagesPerSec.toFixed(0)} images/s`,
    `${'bucket'.padEnd(10)} ${'count'.padStart(6)} ${'MAE'.padStart(8)} ${'bias'.padStart(8)}`,
  ];
  for (const b of e.buckets) {
    lines.push(`${b.label.padEnd(10)} ${String(b.count).padStart(6)} ${(Number.isFinite(b.mae) ? b.mae.toFixed(2) : '—').padStart(8)} ` +
      `${(Number.isFinite(b.bias) ? b.bias.toFixed(2) : '—').padStart(8)}`);
  }
  return lines;
}

/** Image files as an unlabelled regression dataset. */
class FileList implements Dataset {
  readonly classes: string[] = [];
  constructor(readonly files: string[]) {}
  get length(): number {
    return this.files.length;
  }
  async get(i: number): Promise<Sample> {
    return { ...(await decodeImageFile(this.files[i])), label: NaN, path: this.files[i] };
  }
}

/** A regression run's prediction (target units, clamped to its range) for each image file. */
export async function predictRegressionRun(runDir: string, images: string[], o: { checkpoint?: string; ema?: boolean; batchSize?: number } = {}): Promise<Array<{ image: string; prediction: number }>> {
  for (const f of images) if (!fs.existsSync(f)) throw new Error(`image not found: ${f}`);
  const run = loadRegressionRun(runDir, o);
  const loader = runEvalLoader(run.config, new FileList(images), o.batchSize ?? 8);
  const out: Array<{ image: string; prediction: number }> = [];
  try {
    for await (const batch of loader) {
      const head = tf.tidy(() => tf.reshape(run.model.forward(batch.x), [-1]));
      const raw = (await head.data()) as Float32Array;
      tf.dispose([head, batch.x, batch.y]);
      raw.forEach((v, b) => {
        const p = v * run.targetNorm.std + run.targetNorm.mean;
        out.push({ image: images[batch.indices[b]], prediction: run.range ? Math.min(run.range[1], Math.max(run.range[0], p)) : p });
      });
    }
  } finally {
    run.model.dispose();
    await loader.close();
  }
  return out;
}
