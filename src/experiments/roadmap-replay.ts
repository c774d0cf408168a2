/**
 * The trained replay of the roadmap: each step trained with one fixed recipe over several seeds, each run cached
 * in a folder named by its config hash (a finished run is read back, not retrained). Quick mode trains the 32x32
 * adaptations (`roadmap_cifar_<step>`) on CIFAR-10, the paper's decisive transitions first (DECISIVE_TRANSITIONS);
 * full mode trains the ImageNet models (`roadmap_<step>`) with the paper's recipe. Each transition's change of
 * top-1 is judged over seeds with the rule of ./verdict.ts.
 */
import * as path from 'path';
import type { Mode } from '../util/mode';
import { cachedRun, cachedRunDir, readRun, type RunRecord } from './cached-run';
import type { Normalization } from '../image/normalize';
import type { TrainConfig } from '../train/config';
import { PAPER_RECIPE } from '../train/recipe';
import { complexity } from '../convnext/count';
import { withoutInit } from '../nn/init';
import { createModel } from '../convnext/registry';
import { ROADMAP, roadmapModelName, roadmapStep, type RoadmapStep } from '../convnext/roadmap/steps';
import { meanStd, type Stat } from './study-ablation';
import { seedDiff } from './verdict';

/**
 * The paper's decisive transitions (Section 2): each a step of Figure 2 or a run of consecutive ones, from → to.
 * Where 16 steps × 3 seeds do not fit a budget, these are replayed first; they need the 11 steps they name.
 */
export const DECISIVE_TRANSITIONS: ReadonlyArray<{ key: string; title: string; from: string; to: string }> = [
  { key: 'stage-ratio', title: 'stage ratio', from: '01-resnet50', to: '02-stage-ratio' },
  { key: 'patchify', title: '"patchify" stem', from: '02-stage-ratio', to: '03-patchify-stem' },
  { key: 'depthwise-width', title: 'depthwise conv + width 96', from: '03-patchify-stem', to: '05-width-96' },
  { key: 'inverted-bottleneck', title: 'inverted bottleneck', from: '05-width-96', to: '06-inverted-bottleneck' },
  { key: 'kernel-size', title: 'kernel size 3 → 7 (depthwise conv moved up)', from: '07-move-up-dwconv', to: '09-kernel-7' },
  { key: 'gelu-fewer-activations', title: 'GELU, fewer activations', from: '09-kernel-7', to: '13-fewer-activations' },
  { key: 'fewer-norms', title: 'fewer norms', from: '13-fewer-activations', to: '14-fewer-norms' },
  { key: 'bn-to-ln', title: 'BN → LN', from: '14-fewer-norms', to: '15-layer-norm' },
  { key: 'separate-downsampling', title: 'separate downsampling layers', from: '15-layer-norm', to: '16-convnext-t' },
];

/** The steps the decisive transitions need, in roadmap order. */
export const DECISIVE_STEPS: readonly string[] = ROADMAP.map((s) => s.id)
  .filter((id) => DECISIVE_TRANSITIONS.some((t) => t.from === id || t.to === id));

export interface Transition {
  key: string;
  title: string;
  from: RoadmapStep;
  to: RoadmapStep;
}

export interface ReplayPlan {
  mode: Mode;
  steps: RoadmapStep[];
  seeds: number[];
  /** The transitions whose two ends the plan trains. */
  transitions: Transition[];
  /** Input resolution the models train and are counted at. */
  size: number;
  /** One line saying what is trained on what. */
  description: string;
  /** Seed 0's config of every step (the models the plan trains), in step order. */
  configs: TrainConfig[];
  /** Every run: step × seed. */
  runs: Array<{ step: RoadmapStep; seed: number; config: TrainConfig }>;
  /** Training images of one epoch, validation images, epochs and batch size (undefined: the trainer's default). */
  trainImages: number;
  valImages: number;
  epochs: number;
  batchSize?: number;
}

/** ImageNet-1K's training and validation set sizes (full mode). */
const IMAGENET_IMAGES = { train: 1_281_167, val: 50_000 };
const CIFAR_CLASSES = 10;

const CIFAR_NORM: Normalization = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };

/** Mild augmentation for a run of a few epochs: the paper's heavy recipe underfits at this budget. */
const CIFAR_AUGMENT: TrainConfig['augment'] = {
  inputSize: 32, cropPadding: 4, hflip: 0.5, randAugment: '', reprob: 0, mixup: 0, cutmix: 0, smoothing: 0.1,
  normalize: CIFAR_NORM,
};

export interface ReplayScale {
  /** 'decisive': the steps of DECISIVE_TRANSITIONS; 'all': every step; or step ids. */
  steps: string[] | 'all' | 'decisive';
  seeds: number[];
  /** CIFAR-10 training images per class, and test images per class evaluated (1000: the whole test set). */
  perClass: number;
  valPerClass: number;
  epochs: number;
  batchSize: number;
  warmupSteps: number;
}

/** The replay's data and budget in words, from the settings themselves so the caption cannot drift. */
function cifarDescription(s: ReplayScale): string {
  const epochs = `${s.epochs} epoch${s.epochs === 1 ? '' : 's'}`;
  return `CIFAR-10 at 32x32: ${s.perClass} train images a class, ${epochs}, AdamW 3e-3, batch ${s.batchSize}, ` +
    `seeds ${s.seeds.join(', ')}; top-1 on ${s.valPerClass} test images a class`;
}

/**
 * The budget of each CPU mode. quick: the 11 steps of the decisive transitions × 3 seeds, each run the earlier
 * replay's budget (600 CIFAR-10 training images a class for 2 epochs, about 190 updates of 64, about a minute on this
 * CPU), so the notebook stays near half an hour; scored on the whole test set (10,000 images, so one run's binomial
 * ±2σ is about ±1 point). The earlier single-seed replay of every step had most steps within its noise; the seeds
 * give each step a spread to judge the transitions by. smoke: three steps, two seeds, 2 images a class (a pipeline
 * check).
 */
export const REPLAY_SCALES: Record<Exclude<Mode, 'full'>, ReplayScale> = {
  smoke: { steps: ['01-resnet50', '02-stage-ratio', '03-patchify-stem'], seeds: [0, 1], perClass: 2, valPerClass: 2, epochs: 1, batchSize: 10, warmupSteps: 1 },
  quick: { steps: 'decisive', seeds: [0, 1, 2], perClass: 600, valPerClass: 1000, epochs: 2, batchSize: 64, warmupSteps: 20 },
};

/** Seeds of full mode (three 300-epoch ImageNet runs per step). */
const FULL_SEEDS = [0, 1, 2];

/** Stochastic depth of ConvNeXt-T in the paper (Table 5), used for every step in full mode. */
const PAPER_DROP_PATH_T = 0.1;

/** The replay's training config for one step and seed: the same recipe for every step. */
export function replayConfig(step: RoadmapStep, mode: Mode, dataDir?: string, seed = 0, scale?: ReplayScale): TrainConfig {
  if (mode === 'full') {
    // ImageNet-1K at 224 with the paper's recipe (AdamW 4e-3 at batch 4096, 300 epochs, 20 warmup,
    // RandAugment, Mixup, CutMix, Random Erasing, label smoothing, EMA), as the trainer's defaults.
    const root = dataDir ?? path.join('data', 'imagenet');
    return {
      name: `roadmap-${step.id}-seed${seed}`,
      model: { name: roadmapModelName(step), options: { dropPathRate: PAPER_DROP_PATH_T, layerScaleInitValue: 1e-6 } },
      data: { train: path.join(root, 'train'), val: path.join(root, 'val') },
      recipe: { microBatch: 128, seed },
    };
  }
  const s = scale ?? REPLAY_SCALES[mode];
  return {
    name: `roadmap-${step.id}-seed${seed}`,
    // Layer scale off for every step: in a few hundred updates a γ starting at 1e-6 cannot grow (AdamW moves it
    // by about lr per update), and the same setting for all keeps the last step's diff to its layout.
    model: { name: roadmapModelName(step, 'cifar'), options: { dropPathRate: 0, layerScaleInitValue: 0 } },
    data: { name: 'cifar10', perClass: s.perClass, valPerClass: s.valPerClass, evalBatchSize: 250, ...(dataDir ? { dataDir } : {}) },
    augment: CIFAR_AUGMENT,
    recipe: {
      epochs: s.epochs, batchSize: s.batchSize, optimizer: 'adamw', lr: 3e-3, minLr: 1e-5, warmupEpochs: 0,
      warmupSteps: s.warmupSteps, weightDecay: 0.05, modelEma: false, evalEma: false, seed, evalEvery: s.epochs,
    },
  };
}

function stepsOf(wanted: ReplayScale['steps']): RoadmapStep[] {
  if (wanted === 'all') return [...ROADMAP];
  const ids = wanted === 'decisive' ? DECISIVE_STEPS : wanted;
  for (const id of ids) roadmapStep(id);
  return ROADMAP.filter((s) => ids.includes(s.id));
}

/** The transitions to judge: the decisive ones whose ends are trained, and (every step trained) each step against its parent. */
export function transitionsOf(steps: RoadmapStep[]): Transition[] {
  const have = new Set(steps.map((s) => s.id));
  const decisive = DECISIVE_TRANSITIONS.filter((t) => have.has(t.from) && have.has(t.to))
    .map((t) => ({ key: t.key, title: t.title, from: roadmapStep(t.from), to: roadmapStep(t.to) }));
  if (have.size < ROADMAP.length) return decisive;
  return ROADMAP.filter((s) => s.parent).map((s) => ({ key: s.id, title: s.title, from: roadmapStep(s.parent!), to: s }));
}

export function replayPlan(mode: Mode, dataDir?: string, scale?: ReplayScale): ReplayPlan {
  const sc = mode === 'full' ? undefined : scale ?? REPLAY_SCALES[mode];
  const steps = stepsOf(sc ? sc.steps : 'all');
  const seeds = sc ? sc.seeds : FULL_SEEDS;
  const runs = steps.flatMap((step) => seeds.map((seed) => ({ step, seed, config: replayConfig(step, mode, dataDir, seed, sc) })));
  const configs = steps.map((step) => replayConfig(step, mode, dataDir, seeds[0], sc));
  const description = !sc
    ? `ImageNet-1K at 224x224, the paper's 300-epoch recipe, every step, seeds ${seeds.join(', ')}`
    : mode === 'smoke' ? `${cifarDescription(sc)}, three steps (a pipeline check, not a result)` : cifarDescription(sc);
  const budget = !sc
    ? { trainImages: IMAGENET_IMAGES.train, valImages: IMAGENET_IMAGES.val, epochs: configs[0]?.recipe?.epochs ?? PAPER_RECIPE.epochs, batchSize: configs[0]?.recipe?.batchSize ?? PAPER_RECIPE.batchSize }
    : { trainImages: sc.perClass * CIFAR_CLASSES, valImages: sc.valPerClass * CIFAR_CLASSES, epochs: sc.epochs, batchSize: sc.batchSize };
  return { mode, steps, seeds, transitions: transitionsOf(steps), size: mode === 'full' ? 224 : 32, description, configs, runs, ...budget };
}

/**
 * Measured on the idle 2-core machine in quick mode's replay (2026-12-07, 33 runs, nothing cached; notebook 02 took
 * 15.7 min after the native depthwise conv and GELU, 17.7 before): training took 0.22 ms an image on the fastest step
 * (16, ConvNeXt-T; 0.30 before) to 1.71 ms on the slowest (06, the inverted bottleneck; 1.84 before); evaluation is
 * taken as a third of a training image's cost (a forward pass of three).
 */
export const RECORDED_REPLAY_RATE = {
  source: 'notebook 02 in quick mode, 2026-12-07: 0.22–1.71 ms per training image over the 11 steps',
  msPerTrainImage: { low: 0.22, high: 1.71 },
  evalFraction: 1 / 3,
} as const;

/** Estimated minutes of a plan's training when nothing is cached: low (fastest step's rate) to high (slowest's). */
export function estimateReplayMinutes(plan: ReplayPlan, r = RECORDED_REPLAY_RATE): { runs: number; low: number; high: number } {
  const images = plan.trainImages * plan.epochs + plan.valImages * r.evalFraction;
  const per = (ms: number) => (plan.runs.length * images * ms) / 60_000;
  return { runs: plan.runs.length, low: per(r.msPerTrainImage.low), high: per(r.msPerTrainImage.high) };
}

export interface ReplayResult {
  step: RoadmapStep;
  config: TrainConfig;
  runDir: string;
  /** True when every seed's finished run was read from its cache folder instead of trained now. */
  cached: boolean;
  params: number;
  /** MACs of the trained model at the plan's input size. */
  macs: number;
  /** Mean top-1 (%) of the final models on the validation set, over seeds. */
  top1: number;
  /** Top-1 (%) over seeds: mean, sample std, count. */
  top1Stat: Stat;
  /** Top-1 (%) of each seed's run, in seed order. */
  top1Seeds: number[];
  /** Training time of all the step's runs (evaluation excluded), as measured when each was trained. */
  trainMinutes: number;
  /** Runs of the step read from the cache. */
  cachedRuns: number;
  /** Validation images per second of the final evaluation (mean over seeds). */
  evalImagesPerSec: number;
}

function resultOf(step: RoadmapStep, runs: Array<{ config: TrainConfig; run: RunRecord; cached: boolean }>, size: number): ReplayResult {
  for (const { run } of runs) if (!run.eval || !run.summary) throw new Error(`replay run ${run.dir} has no final evaluation`);
  const config = runs[0].config;
  const model = withoutInit(() => createModel(config.model.name!, { numClasses: runs[0].run.eval!.classes.length, ...config.model.options }));
  const c = complexity(model, size);
  model.dispose();
  const top1Seeds = runs.map(({ run }) => run.eval!.model.top1 * 100);
  const top1Stat = meanStd(top1Seeds);
  return {
    step, config, runDir: runs[0].run.dir, cached: runs.every((r) => r.cached), cachedRuns: runs.filter((r) => r.cached).length,
    params: c.params, macs: c.macs, top1: top1Stat.mean, top1Stat, top1Seeds,
    trainMinutes: runs.reduce((a, { run }) => a + run.summary!.trainMinutes, 0),
    evalImagesPerSec: runs.reduce((a, { run }) => a + run.eval!.model.imagesPerSec, 0) / runs.length,
  };
}

export interface ReplayOptions {
  /** Folder holding the cached run folders (default runs/roadmap-replay/<mode>). */
  root?: string;
  dataDir?: string;
  log?: (line: string) => void;
  progress?: boolean;
  scale?: ReplayScale;
}

/** Trains (or reads back) every step × seed of the mode's plan, in roadmap order. */
export async function runReplay(mode: Mode, o: ReplayOptions = {}): Promise<ReplayResult[]> {
  const plan = replayPlan(mode, o.dataDir, o.scale);
  const root = o.root ?? path.join('runs', 'roadmap-replay', mode);
  const log = o.log ?? ((l: string) => console.log(l));
  const out: ReplayResult[] = [];
  let i = 0;
  for (const step of plan.steps) {
    const runs: Array<{ config: TrainConfig; run: RunRecord; cached: boolean }> = [];
    for (const { config, seed } of plan.runs.filter((r) => r.step === step)) {
      i++;
      const dir = cachedRunDir(config, root);
      const before = readRun(dir);
      const what = `[${i}/${plan.runs.length}] ${step.id} seed ${seed}`;
      if (before?.finished) log(`${what}: cached run reused (${dir}), not retrained`);
      else log(`${what}: ${before ? 'resuming' : 'training'} → ${dir}`);
      const run = await cachedRun(config, root, { log, progress: o.progress ?? false, standIn: mode === 'smoke' });
      runs.push({ config, run, cached: run.cached });
    }
    out.push(resultOf(step, runs, plan.size));
  }
  return out;
}

export interface TrendRow {
  key: string;
  title: string;
  step: RoadmapStep;
  parent: RoadmapStep;
  /** Mean top-1 change over seeds, percentage points. */
  oursDelta: number;
  /** Its standard error over seeds (Welch). */
  se: number;
  paperDelta: number;
  /** Two standard errors of the change: the band a change must leave to be resolved. */
  noise: number;
  /**
   * By the rule of ./verdict.ts: 'reproduces' (resolved, the paper's direction), 'reverses' (resolved, the other
   * direction), 'paper flat' (resolved where the paper moved less than 0.1 point), 'not resolved' (within 2·SE).
   */
  verdict: 'reproduces' | 'reverses' | 'paper flat' | 'not resolved';
}

/** Each planned transition's change of top-1 over seeds, ours against the paper's, with its verdict. */
export function compareTrends(results: ReplayResult[], transitions: Transition[]): TrendRow[] {
  const byId = new Map(results.map((r) => [r.step.id, r]));
  return transitions.flatMap((t) => {
    const to = byId.get(t.to.id);
    const from = byId.get(t.from.id);
    if (!to || !from) return [];
    const d = seedDiff(to.top1Stat, from.top1Stat);
    const paperDelta = (t.to.paper.top1 ?? NaN) - (t.from.paper.top1 ?? NaN);
    const paperSign = Math.abs(paperDelta) < 0.1 ? 0 : Math.sign(paperDelta);
    const verdict: TrendRow['verdict'] = !d.resolved ? 'not resolved'
      : paperSign === 0 ? 'paper flat' : Math.sign(d.diff) === paperSign ? 'reproduces' : 'reverses';
    return [{ key: t.key, title: t.title, step: t.to, parent: t.from, oursDelta: d.diff, se: d.se, paperDelta, noise: 2 * d.se, verdict }];
  });
}
