/**
 * The reproduction study's pet-age regression (its Table 2): six models of five families trained the same way
 * to predict a dog's age in months (MAE, lower is better), plus what a robust loss does under label noise and
 * whether the transformers' gap closes with a longer schedule. Every run goes through the trainer's cached
 * runs (`<root>/<name>-<config hash>`), with `task: regression`; each finished run is then scored on the
 * clean test split (cached beside it as test-predictions.json). This file defines the configs and summarises the
 * records; src/notebook/pet-age.ts draws them.
 *
 * The data: the real competition dataset where `PET_AGE_ROOT` (or data/pet-age) holds it, otherwise the
 * pet-age STAND-IN built from flowers5 photos (src/data/regression-stand-in.ts), which is named as such in
 * every table and chart.
 */
import * as fs from 'fs';
import * as path from 'path';

import { complexity } from '../convnext/count';
import { createModel } from '../convnext/registry';
import { hasPetAge, PET_AGE_MAX_MONTHS } from '../data/pet-age';
import { petAgeStandIn, type PetAgeStandIn } from '../data/regression-stand-in';
import { DEFAULT_DATA_DIR } from '../data/prepare';
import { encodeImage } from '../image/decode';
import { AGE_BUCKETS_MONTHS, constantBaselineMae, maeByBucket, type BucketError } from '../metrics/regression';
import { withoutInit } from '../nn/init';
import type { AugmentSettings, TrainConfig } from '../train/config';
import type { RegressionLossName, TrainRecipe } from '../train/recipe';
import { evaluateRegressionRun } from '../train/regression-run';
import { loadData, type ResolvedData } from '../train/run-config';
import { escapeHtml } from '../util/html';
import type { Mode } from '../util/mode';
import { readJsonFile, writeFileAtomic } from '../util/fs';
import { cachedRun, type RunRecord } from './cached-run';
import { meanStd, type ClaimCheck, type Stat, type Verdict } from './study-ablation';

/** The study's Table 2 as it prints it (../shared/study/seed-figures.md). */
export const STUDY_TABLE2 = [
  { key: 'resnet18', label: 'ResNet-18', size: 224, params: '12M', flops: '1.8G', mae: 22.7002 },
  { key: 'resnet50', label: 'ResNet-50', size: 224, params: '26M', flops: '4.1G', mae: 21.9790 },
  { key: 'vit', label: 'ViT', size: 224, params: '86M', flops: '17.6G', mae: 29.6323 },
  { key: 'swin_b', label: 'Swin-B', size: 224, params: '88M', flops: '15.4G', mae: 29.8819 },
  { key: 'convnext_b', label: 'ConvNeXt-B', size: 224, params: '88M', flops: '15.4G', mae: 21.4573 },
  { key: 'convnext_l', label: 'ConvNeXt-L', size: 224, params: '198M', flops: '101.0G', mae: 20.6912 },
] as const;
/** "MAE 20.6 against a baseline of 26.5", quoted from the study's text. */
export const STUDY_BASELINE_MAE = 26.5;

export type RowKey = (typeof STUDY_TABLE2)[number]['key'];

/** Each row's model: the study's (full mode, 224 px) and the small member of the same family that quick mode trains. */
export const PET_AGE_MODELS: Record<RowKey, { full: string; quick: string; family: string; transformer: boolean }> = {
  resnet18: { full: 'resnet18', quick: 'resnet18', family: 'ResNet', transformer: false },
  resnet50: { full: 'resnet50', quick: 'roadmap_cifar_01_resnet50', family: 'ResNet (bottleneck)', transformer: false },
  vit: { full: 'vit_base_patch16_224', quick: 'vit_mini_patch8_64', family: 'ViT', transformer: true },
  swin_b: { full: 'swin_base_patch4_window7_224', quick: 'swin_mini_patch4_window4_64', family: 'Swin', transformer: true },
  convnext_b: { full: 'convnext_base', quick: 'convnext_atto', family: 'ConvNeXt', transformer: false },
  convnext_l: { full: 'convnext_large', quick: 'convnext_femto', family: 'ConvNeXt', transformer: false },
};

export const ROW_KEYS = STUDY_TABLE2.map((r) => r.key) as RowKey[];
export const rowLabel = (k: RowKey): string => STUDY_TABLE2.find((r) => r.key === k)!.label;

export interface PetAgeSettings {
  mode: Mode;
  /** 'real': the competition folder at `root`; 'stand-in': the flowers5 zoom stand-in. */
  data: { kind: 'real'; root: string } | { kind: 'stand-in'; imageSize: number; labelNoise: number; limit?: number; seed: number };
  /** Which model of each row: the study's ('full') or the small member of its family ('quick'). */
  models: 'full' | 'quick';
  inputSize: number;
  epochs: number;
  batchSize: number;
  lr: number;
  warmupEpochs: number;
  weightDecay: number;
  loss: RegressionLossName;
  seeds: number[];
  augment: AugmentSettings;
  /** The robust-loss comparison under label noise: one model, these losses, these seeds (undefined: skipped). */
  noise?: { row: RowKey; losses: RegressionLossName[]; seeds: number[] };
  /** The transformer rows trained again for this many epochs (undefined: skipped). */
  longer?: { epochs: number; seeds: number[] };
}

/** No augmentation that changes the scale: on the stand-in the zoom IS the target. Flips only. */
const STAND_IN_AUGMENT: AugmentSettings = { scale: null, hflip: 0.5, randAugment: '', reprob: 0, cropPct: 1 };
/** Real photos: mild crops (a dog's age does not change with the crop), flips, no RandAugment at 20 epochs. */
const REAL_AUGMENT: AugmentSettings = { scale: [0.35, 1], hflip: 0.5, randAugment: '', reprob: 0, cropPct: 0.875 };

/** Where the real dataset is looked for: PET_AGE_ROOT, else data/pet-age. */
export function realDataRoot(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const root = env.PET_AGE_ROOT ?? path.join(DEFAULT_DATA_DIR, 'pet-age');
  return hasPetAge(root) ? root : undefined;
}

export function petAgeSettings(mode: Mode, realRoot: string | undefined = realDataRoot()): PetAgeSettings {
  if (mode === 'smoke') {
    return {
      mode, data: { kind: 'stand-in', imageSize: 64, labelNoise: 0.06, limit: 16, seed: 0 }, models: 'quick', inputSize: 64,
      epochs: 1, batchSize: 8, lr: 2e-3, warmupEpochs: 0, weightDecay: 0.05, loss: 'l1', seeds: [0, 1],
      augment: { ...STAND_IN_AUGMENT, inputSize: 64 },
      noise: { row: 'resnet18', losses: ['mse', 'l1', 'huber', 'trimmed-l1'], seeds: [0, 1] }, longer: { epochs: 2, seeds: [0] },
    };
  }
  if (mode === 'quick') {
    // The six rows × 3 seeds, the noise comparison and the two longer transformer runs: 38 min on the idle 2-core
    // CPU, nothing cached (2026-12-07, NOTEBOOK_TIMINGS). The losses are compared
    // on ResNet-18, as in full mode: ConvNeXt-atto does not learn the stand-in's zoom in this budget (pilot
    // 2026-12-07: 20 epochs, validation R² ≈ 0), so on it every loss would only fit the mean.
    return {
      mode, data: { kind: 'stand-in', imageSize: 64, labelNoise: 0.06, limit: 2000, seed: 0 }, models: 'quick', inputSize: 64,
      epochs: 6, batchSize: 32, lr: 2e-3, warmupEpochs: 1, weightDecay: 0.05, loss: 'l1', seeds: [0, 1, 2],
      augment: { ...STAND_IN_AUGMENT, inputSize: 64 },
      noise: { row: 'resnet18', losses: ['mse', 'l1', 'huber', 'trimmed-l1'], seeds: [0, 1, 2] }, longer: { epochs: 12, seeds: [0] },
    };
  }
  // The study's settings: the B/L models at 224 px for 20 epochs, on the real dataset when it is there.
  return {
    mode, data: realRoot ? { kind: 'real', root: realRoot } : { kind: 'stand-in', imageSize: 224, labelNoise: 0.06, seed: 0 },
    models: 'full', inputSize: 224, epochs: 20, batchSize: 64, lr: 5e-4, warmupEpochs: 2, weightDecay: 0.05, loss: 'l1', seeds: [0, 1, 2],
    augment: realRoot ? { ...REAL_AUGMENT, inputSize: 224 } : { ...STAND_IN_AUGMENT, inputSize: 224 },
    noise: { row: 'resnet18', losses: ['mse', 'l1', 'huber', 'trimmed-l1'], seeds: [0, 1, 2] }, longer: { epochs: 60, seeds: [0] },
  };
}

/** What the data is, in words (the stand-in says it is one). */
export function dataLabel(s: PetAgeSettings): string {
  return s.data.kind === 'real' ? 'pet-age (real data)' : 'pet-age STAND-IN (flowers5 zoom, not pet ages)';
}

export function modelName(s: PetAgeSettings, row: RowKey): string {
  return PET_AGE_MODELS[row][s.models];
}

function recipe(s: PetAgeSettings, seed: number, o: { epochs?: number; loss?: RegressionLossName } = {}): Partial<TrainRecipe> {
  const epochs = o.epochs ?? s.epochs;
  return {
    epochs, batchSize: s.batchSize, lr: s.lr, minLr: 1e-5, warmupEpochs: Math.min(s.warmupEpochs, epochs), weightDecay: s.weightDecay,
    modelEma: false, evalEma: false, loss: o.loss ?? s.loss, seed,
  };
}

/** The training config of one row and seed (optionally with another loss or length). */
export function petAgeRowConfig(s: PetAgeSettings, row: RowKey, seed: number, o: { epochs?: number; loss?: RegressionLossName } = {}): TrainConfig {
  const model = modelName(s, row);
  const data: TrainConfig['data'] = s.data.kind === 'real'
    ? { name: 'pet-age', root: s.data.root, evalBatchSize: 128 }
    : { name: 'pet-age-stand-in', imageSize: s.data.imageSize, labelNoise: s.data.labelNoise, splitSeed: s.data.seed, limit: s.data.limit, evalBatchSize: 128 };
  const loss = o.loss ?? s.loss;
  const epochs = o.epochs ?? s.epochs;
  return {
    name: `pet-age-${s.data.kind}-${model}-${loss}-e${epochs}-seed${seed}`,
    task: 'regression',
    regression: { targetNorm: 'auto', range: [0, PET_AGE_MAX_MONTHS] },
    // Short CPU schedules start ConvNeXt's residual branches at 1 instead of 1e-6 (see notebook 04).
    model: { name: model, options: model.startsWith('convnext') && s.mode !== 'full' ? { layerScaleInitValue: 1 } : {} },
    data,
    augment: s.augment,
    recipe: recipe(s, seed, o),
  };
}

/** A run with its clean-test evaluation. */
export interface AgeRun extends RunRecord {
  test: TestEval;
  cached: boolean;
}

/** What test-predictions.json holds: the test MAE / RMSE / R², buckets, and every prediction. */
export interface TestEval {
  checkpoint: string;
  count: number;
  mae: number;
  rmse: number;
  r2: number;
  buckets: BucketError[];
  pred: number[];
  target: number[];
  indices: number[];
}

export interface PetAgeRuns {
  rows: Record<RowKey, AgeRun[]>;
  /** The robust-loss comparison: runs per loss. */
  noise: Partial<Record<RegressionLossName, AgeRun[]>>;
  /** The transformer rows trained longer. */
  longer: Partial<Record<RowKey, AgeRun[]>>;
  data: ResolvedData;
}

export interface PetAgeRunOptions {
  log?: (line: string) => void;
  progress?: boolean;
  /** Only these rows (default all six). */
  rows?: RowKey[];
  skipNoise?: boolean;
  skipLonger?: boolean;
}

/** The settings' data (the stand-in, or the real dataset), loaded once for every run. */
export async function loadPetAgeData(s: PetAgeSettings): Promise<ResolvedData> {
  return loadData(petAgeRowConfig(s, 'resnet18', 0).data, { progress: false, standIn: s.mode === 'smoke' });
}

/** Trains (or reuses) one config and scores its best checkpoint on the clean test split (cached in test-predictions.json). */
export async function runWithTest(s: PetAgeSettings, config: TrainConfig, root: string, data: ResolvedData, log: (l: string) => void, progress = false): Promise<AgeRun> {
  const t0 = Date.now();
  const r = await cachedRun(config, root, { log: () => undefined, progress, standIn: s.mode === 'smoke' });
  // Not eval-test.json: that is where `convnext eval --run DIR --split test` writes its summary.
  const file = path.join(r.dir, 'test-predictions.json');
  let test = fs.existsSync(file) ? readJsonFile<TestEval>(file) : undefined;
  if (!test) {
    if (!data.test) throw new Error('the pet-age data has no test split');
    const e = await evaluateRegressionRun(r.dir, { checkpoint: 'best', dataset: data.test, progress: false });
    test = {
      checkpoint: e.source, count: e.result.count, mae: e.result.mae, rmse: e.result.rmse, r2: e.result.r2, buckets: e.buckets,
      pred: Array.from(e.result.pred), target: Array.from(e.result.target), indices: Array.from(e.result.indices),
    };
    writeFileAtomic(file, `${JSON.stringify(test)}\n`);
  }
  log(`${r.cached ? 'reused' : 'trained'} ${config.name}: test MAE ${test.mae.toFixed(2)}` +
    `${r.cached ? '' : `, ${((Date.now() - t0) / 60000).toFixed(1)} min`}`);
  return { ...r, test };
}

/** Every row × seed, the noise comparison and the longer transformer runs. */
export async function runPetAge(s: PetAgeSettings, root: string, o: PetAgeRunOptions = {}): Promise<PetAgeRuns> {
  const log = o.log ?? ((l: string) => console.log(l));
  const data = await loadPetAgeData(s);
  const run = (c: TrainConfig) => runWithTest(s, c, root, data, log, o.progress);
  const rows = {} as Record<RowKey, AgeRun[]>;
  for (const row of o.rows ?? ROW_KEYS) {
    rows[row] = [];
    for (const seed of s.seeds) rows[row].push(await run(petAgeRowConfig(s, row, seed)));
  }
  const noise: PetAgeRuns['noise'] = {};
  if (s.noise && !o.skipNoise) {
    for (const loss of s.noise.losses) {
      noise[loss] = [];
      // The main recipe's loss reuses the row's own runs (same config, same cache folder).
      for (const seed of s.noise.seeds) noise[loss]!.push(await run(petAgeRowConfig(s, s.noise.row, seed, { loss })));
    }
  }
  const longer: PetAgeRuns['longer'] = {};
  if (s.longer && !o.skipLonger) {
    for (const row of ROW_KEYS.filter((k) => PET_AGE_MODELS[k].transformer && (o.rows ?? ROW_KEYS).includes(k))) {
      longer[row] = [];
      for (const seed of s.longer.seeds) longer[row]!.push(await run(petAgeRowConfig(s, row, seed, { epochs: s.longer.epochs })));
    }
  }
  return { rows, noise, longer, data };
}

export interface AgeRowSummary {
  key: RowKey;
  label: string;
  model: string;
  params: number;
  macs: number;
  testMae: Stat;
  testRmse: Stat;
  testR2: Stat;
  /** Best validation MAE (noisy labels) of each run. */
  valMae: Stat;
  /** Training minutes per run (as measured when each run trained). */
  minutes: Stat;
  trainImagesPerSec: Stat;
}

/** Params and MACs of a model with a one-output head at `size` px (shapes only). */
export function regressionComplexity(model: string, size: number, numClasses = 1): { params: number; macs: number } {
  const m = withoutInit(() => createModel(model, { numClasses }));
  try {
    const c = complexity(m, size);
    return { params: c.params, macs: c.macs };
  } finally {
    m.dispose();
  }
}

/** One row over its seeds. */
export function summarizeAgeRow(s: PetAgeSettings, key: RowKey, runs: AgeRun[]): AgeRowSummary {
  const model = modelName(s, key);
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    key, label: rowLabel(key), model, ...regressionComplexity(model, s.inputSize),
    testMae: meanStd(runs.map((r) => r.test.mae)),
    testRmse: meanStd(runs.map((r) => r.test.rmse)),
    testR2: meanStd(runs.map((r) => r.test.r2)),
    valMae: meanStd(runs.map((r) => Math.min(...r.metrics.map((e) => e.valMae ?? Infinity)))),
    minutes: meanStd(runs.map((r) => r.summary?.trainMinutes ?? NaN)),
    trainImagesPerSec: meanStd(runs.map((r) => avg(r.metrics.map((e) => e.trainImagesPerSec)))),
  };
}

export function summarizePetAge(s: PetAgeSettings, runs: PetAgeRuns): AgeRowSummary[] {
  return (Object.keys(runs.rows) as RowKey[]).map((k) => summarizeAgeRow(s, k, runs.rows[k]));
}

/** The study's six models at 224 px: exact params (1000-class head as the study counts, and one output) and MACs; ConvNeXt-L also at 384. */
export interface StudySizeRow {
  key: RowKey;
  label: string;
  model: string;
  params1000: number;
  params1: number;
  macs224: number;
  macs384?: number;
}

export function studySizes(): StudySizeRow[] {
  return STUDY_TABLE2.map((r) => {
    const model = PET_AGE_MODELS[r.key].full;
    const m = withoutInit(() => createModel(model, { numClasses: 1000 }));
    try {
      const c224 = complexity(m, 224);
      const macs384 = r.key === 'convnext_l' ? complexity(m, 384).macs : undefined;
      const head = regressionComplexity(model, 224);
      return { key: r.key, label: r.label, model, params1000: c224.params, params1: head.params, macs224: c224.macs, macs384 };
    } finally {
      m.dispose();
    }
  });
}

/** The MAE of always predicting the median training label, on the test split (the floor a model must beat). */
export function baselineMae(data: ResolvedData): { value: number; mae: number } {
  if (!data.test) return { value: NaN, mae: NaN };
  return constantBaselineMae(data.train.targets, data.test.targets);
}

/** Pooled MAE per age bucket of a row's runs (every seed's test predictions together). */
export function rowBuckets(runs: AgeRun[], edges: readonly number[] = AGE_BUCKETS_MONTHS): BucketError[] {
  return maeByBucket(runs.flatMap((r) => r.test.pred), runs.flatMap((r) => r.test.target), edges);
}

/** Welch comparison of two rows' mean test MAE: difference, its standard error, and whether it exceeds 2 SE. */
export function compareMae(a: Stat, b: Stat): { diff: number; se: number; beyondNoise: boolean } {
  const diff = a.mean - b.mean;
  const se = Math.sqrt(a.std ** 2 / a.n + b.std ** 2 / b.n);
  return { diff, se, beyondNoise: Math.abs(diff) > 2 * se };
}

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '—');

/**
 * The study's ranking checked on our rows: ConvNeXt best, the ResNets close behind, ViT and Swin far behind.
 * "holds" needs the effect beyond twice its standard error over seeds; the opposite beyond noise is "does not
 * hold"; anything within the seed spread is "inconclusive".
 */
export function checkRanking(rows: AgeRowSummary[]): ClaimCheck[] {
  const convnext = rows.filter((r) => PET_AGE_MODELS[r.key].family === 'ConvNeXt');
  const resnets = rows.filter((r) => r.key === 'resnet18' || r.key === 'resnet50');
  const transformers = rows.filter((r) => PET_AGE_MODELS[r.key].transformer);
  const cnns = [...convnext, ...resnets];
  const out: ClaimCheck[] = [];
  const verdictOf = (v: Verdict): Verdict => v;
  const best = (rs: AgeRowSummary[]) => rs.reduce((a, b) => (b.testMae.mean < a.testMae.mean ? b : a));
  if (convnext.length && rows.length > convnext.length) {
    const c = best(convnext);
    const o = best(rows.filter((r) => !convnext.includes(r)));
    const cmp = compareMae(c.testMae, o.testMae);
    out.push({
      claim: 'ConvNeXt has the lowest MAE',
      verdict: verdictOf(!cmp.beyondNoise ? 'inconclusive' : cmp.diff < 0 ? 'holds' : 'does not hold'),
      evidence: `best ConvNeXt row ${c.label} ${f2(c.testMae.mean)} vs best other row ${o.label} ${f2(o.testMae.mean)} ` +
        `(difference ${f2(cmp.diff)}, SE ${f2(cmp.se)})`,
    });
  }
  if (convnext.length && resnets.length) {
    const c = best(convnext);
    const r = best(resnets);
    const gap = (r.testMae.mean - c.testMae.mean) / c.testMae.mean;
    const cmp = compareMae(r.testMae, c.testMae);
    // The study: the best ResNet within 3% of the best ConvNeXt (21.98 vs 21.46), both far ahead of the transformers.
    out.push({
      claim: 'the ResNets are close to ConvNeXt (within a few percent)',
      verdict: Math.abs(gap) <= 0.05 ? 'holds' : cmp.beyondNoise ? 'does not hold' : 'inconclusive',
      evidence: `best ResNet ${r.label} ${f2(r.testMae.mean)} vs best ConvNeXt ${c.label} ${f2(c.testMae.mean)}: ` +
        `${(100 * gap).toFixed(1)}% (study: ${(100 * (21.9790 - 20.6912) / 20.6912).toFixed(1)}%)`,
    });
  }
  if (transformers.length && cnns.length) {
    const worstCnn = cnns.reduce((a, b) => (b.testMae.mean > a.testMae.mean ? b : a));
    const checks = transformers.map((t) => ({ t, cmp: compareMae(t.testMae, worstCnn.testMae) }));
    const all = checks.every((c) => c.cmp.beyondNoise && c.cmp.diff > 0);
    const against = checks.some((c) => c.cmp.beyondNoise && c.cmp.diff < 0);
    out.push({
      claim: 'ViT and Swin are far behind every CNN after the short schedule',
      verdict: all ? 'holds' : against ? 'does not hold' : 'inconclusive',
      evidence: checks.map((c) => `${c.t.label} ${f2(c.t.testMae.mean)} (${c.cmp.diff >= 0 ? '+' : ''}${f2(c.cmp.diff)} vs the worst CNN, ${worstCnn.label}; SE ${f2(c.cmp.se)})`).join('; '),
    });
  }
  return out;
}

export interface LongerCheck {
  key: RowKey;
  label: string;
  shortEpochs: number;
  longEpochs: number;
  /** Test MAE: the row's short-schedule mean over seeds, and the longer run(s). */
  short: Stat;
  long: Stat;
  /** Gap to the best CNN (short schedule) before and after. */
  gapShort: number;
  gapLong: number;
}

/** The transformer rows' MAE after the short and the longer schedule, and their gap to the best CNN row. */
export function longerChecks(s: PetAgeSettings, runs: PetAgeRuns, rows: AgeRowSummary[]): LongerCheck[] {
  const cnns = rows.filter((r) => !PET_AGE_MODELS[r.key].transformer);
  if (!s.longer || cnns.length === 0) return [];
  const bestCnn = Math.min(...cnns.map((r) => r.testMae.mean));
  return (Object.keys(runs.longer) as RowKey[]).map((k) => {
    const short = rows.find((r) => r.key === k)!.testMae;
    const long = meanStd(runs.longer[k]!.map((r) => r.test.mae));
    return { key: k, label: rowLabel(k), shortEpochs: s.epochs, longEpochs: s.longer!.epochs, short, long, gapShort: short.mean - bestCnn, gapLong: long.mean - bestCnn };
  });
}

/** The stand-in itself (its true ages and noise mask), when the settings use it. */
export async function standInFor(s: PetAgeSettings): Promise<PetAgeStandIn | undefined> {
  if (s.data.kind !== 'stand-in') return undefined;
  return petAgeStandIn({ imageSize: s.data.imageSize, labelNoise: s.data.labelNoise, seed: s.data.seed, limit: s.data.limit, progress: false, standIn: s.mode === 'smoke' });
}

/** An HTML grid of test images with their true and predicted ages (red frame: off by more than `tolerance` months). */
export async function ageGridHtml(run: AgeRun, data: ResolvedData, count: number, title: string, tolerance = 24): Promise<string> {
  if (!data.test) return '<p>no test split</p>';
  const n = Math.min(count, run.test.indices.length);
  const step = Math.max(1, Math.floor(run.test.indices.length / n));
  const cells: string[] = [];
  let off = 0;
  for (let j = 0; j < n; j++) {
    const k = j * step;
    const sample = await data.test.get(run.test.indices[k]);
    const t = run.test.target[k];
    const p = run.test.pred[k];
    const bad = Math.abs(p - t) > tolerance;
    if (bad) off++;
    const src = `data:image/png;base64,${(await encodeImage(sample, 'png')).toString('base64')}`;
    cells.push(`<figure style="margin:4px;width:104px;text-align:center;font-size:11px">` +
      `<img src="${src}" width="96" height="96" style="border:4px solid ${bad ? '#d22' : '#2a2'};image-rendering:pixelated">` +
      `<figcaption>true ${t.toFixed(0)} · pred ${p.toFixed(0)}</figcaption></figure>`);
  }
  return `<p style="font-weight:bold">${escapeHtml(title)}: ${off} of ${n} off by more than ${tolerance} months (red)</p>` +
    `<div style="display:flex;flex-wrap:wrap">${cells.join('')}</div>`;
}

/** Total training minutes of every run (as measured when each trained), and how many were reused. */
export function petAgeMinutes(runs: PetAgeRuns): { runs: number; minutes: number; cached: number } {
  const seen = new Map<string, AgeRun>();
  for (const r of [...Object.values(runs.rows).flat(), ...Object.values(runs.noise).flat(), ...Object.values(runs.longer).flat()]) seen.set(r!.dir, r!);
  const all = [...seen.values()];
  return { runs: all.length, minutes: all.reduce((a, r) => a + (r.summary?.trainMinutes ?? 0), 0), cached: all.filter((r) => r.cached).length };
}
