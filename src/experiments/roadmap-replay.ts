/**
 * The trained replay of the roadmap: every step trained with one fixed recipe and seed, each run cached
 * in a folder named by its config hash (a finished run is read back, not retrained). Quick mode trains
 * the 32x32 adaptations (`roadmap_cifar_<step>`) on a CIFAR-10 subset; full mode trains the ImageNet
 * models (`roadmap_<step>`) with the paper's recipe.
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
import { ROADMAP, roadmapModelName, type RoadmapStep } from '../convnext/roadmap/steps';

export interface ReplayPlan {
  mode: Mode;
  steps: RoadmapStep[];
  /** Input resolution the models train and are counted at. */
  size: number;
  /** One line saying what is trained on what. */
  description: string;
  configs: TrainConfig[];
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

interface Scale {
  steps: string[] | 'all';
  perClass?: number;
  epochs: number;
  batchSize: number;
  warmupSteps: number;
}

/** The replay's data and budget in words, from the settings themselves so the caption cannot drift. */
function cifarDescription(s: Scale): string {
  const epochs = `${s.epochs} epoch${s.epochs === 1 ? '' : 's'}`;
  return `CIFAR-10 at 32x32: ${s.perClass} train images a class, ${epochs}, AdamW 3e-3, batch ${s.batchSize}, ` +
    `seed 0; top-1 on ${s.perClass} test images a class`;
}

/**
 * quick: 600 CIFAR-10 training images a class for 2 epochs (about 190 updates of 64), evaluated on 600 test
 * images a class; smoke: 2 images a class, 1 epoch, three steps only.
 */
const CIFAR_SCALES: Record<Exclude<Mode, 'full'>, Scale> = {
  smoke: { steps: ['01-resnet50', '07-move-up-dwconv', '16-convnext-t'], perClass: 2, epochs: 1, batchSize: 10, warmupSteps: 1 },
  quick: { steps: 'all', perClass: 600, epochs: 2, batchSize: 64, warmupSteps: 20 },
};

/** Stochastic depth of ConvNeXt-T in the paper (Table 5), used for every step in full mode. */
const PAPER_DROP_PATH_T = 0.1;

/** The replay's training config for one step: the same recipe and seed for every step. */
export function replayConfig(step: RoadmapStep, mode: Mode, dataDir?: string): TrainConfig {
  if (mode === 'full') {
    // ImageNet-1K at 224 with the paper's recipe (AdamW 4e-3 at batch 4096, 300 epochs, 20 warmup,
    // RandAugment, Mixup, CutMix, Random Erasing, label smoothing, EMA), as the trainer's defaults.
    const root = dataDir ?? path.join('data', 'imagenet');
    return {
      name: `roadmap-${step.id}`,
      model: { name: roadmapModelName(step), options: { dropPathRate: PAPER_DROP_PATH_T, layerScaleInitValue: 1e-6 } },
      data: { train: path.join(root, 'train'), val: path.join(root, 'val') },
      recipe: { microBatch: 128, seed: 0 },
    };
  }
  const s = CIFAR_SCALES[mode];
  return {
    name: `roadmap-${step.id}`,
    // Layer scale off for every step: in ~190 updates a γ starting at 1e-6 cannot grow (AdamW moves it
    // by about lr per update), and the same setting for all keeps the last step's diff to its layout.
    model: { name: roadmapModelName(step, 'cifar'), options: { dropPathRate: 0, layerScaleInitValue: 0 } },
    data: { name: 'cifar10', perClass: s.perClass, evalBatchSize: 250, ...(dataDir ? { dataDir } : {}) },
    augment: CIFAR_AUGMENT,
    recipe: {
      epochs: s.epochs, batchSize: s.batchSize, optimizer: 'adamw', lr: 3e-3, minLr: 1e-5, warmupEpochs: 0,
      warmupSteps: s.warmupSteps, weightDecay: 0.05, modelEma: false, evalEma: false, seed: 0, evalEvery: s.epochs,
    },
  };
}

export function replayPlan(mode: Mode, dataDir?: string): ReplayPlan {
  const wanted = mode === 'full' ? 'all' : CIFAR_SCALES[mode].steps;
  const steps = wanted === 'all' ? [...ROADMAP] : ROADMAP.filter((s) => wanted.includes(s.id));
  const configs = steps.map((s) => replayConfig(s, mode, dataDir));
  const description = mode === 'full'
    ? 'ImageNet-1K at 224x224, the paper\'s 300-epoch recipe, every step'
    : mode === 'quick'
      ? cifarDescription(CIFAR_SCALES.quick)
      : `${cifarDescription(CIFAR_SCALES.smoke)}, three steps (a pipeline check, not a result)`;
  const budget = mode === 'full'
    ? { trainImages: IMAGENET_IMAGES.train, valImages: IMAGENET_IMAGES.val, epochs: configs[0]?.recipe?.epochs ?? PAPER_RECIPE.epochs, batchSize: configs[0]?.recipe?.batchSize ?? PAPER_RECIPE.batchSize }
    : {
      trainImages: CIFAR_SCALES[mode].perClass! * CIFAR_CLASSES, valImages: CIFAR_SCALES[mode].perClass! * CIFAR_CLASSES,
      epochs: CIFAR_SCALES[mode].epochs, batchSize: CIFAR_SCALES[mode].batchSize,
    };
  return { mode, steps, size: mode === 'full' ? 224 : 32, description, configs, ...budget };
}

export interface ReplayResult {
  step: RoadmapStep;
  config: TrainConfig;
  runDir: string;
  /** True when the finished run was read from its cache folder instead of trained now. */
  cached: boolean;
  params: number;
  /** MACs of the trained model at the plan's input size. */
  macs: number;
  /** Top-1 (%) of the final model on the validation set. */
  top1: number;
  /** Training time (evaluation excluded), as measured when the run was trained. */
  trainMinutes: number;
  /** Validation images per second of the final evaluation. */
  evalImagesPerSec: number;
}

function resultOf(step: RoadmapStep, config: TrainConfig, run: RunRecord, cached: boolean, size: number): ReplayResult {
  if (!run.eval || !run.summary) throw new Error(`replay run ${run.dir} has no final evaluation`);
  const model = withoutInit(() => createModel(config.model.name!, { numClasses: run.eval!.classes.length, ...config.model.options }));
  const c = complexity(model, size);
  model.dispose();
  return {
    step, config, runDir: run.dir, cached, params: c.params, macs: c.macs, top1: run.eval.model.top1 * 100,
    trainMinutes: run.summary.trainMinutes, evalImagesPerSec: run.eval.model.imagesPerSec,
  };
}

export interface ReplayOptions {
  /** Folder holding the cached run folders (default runs/roadmap-replay/<mode>). */
  root?: string;
  dataDir?: string;
  log?: (line: string) => void;
  progress?: boolean;
}

/** Trains (or reads back) every step of the mode's plan, in roadmap order. */
export async function runReplay(mode: Mode, o: ReplayOptions = {}): Promise<ReplayResult[]> {
  const plan = replayPlan(mode, o.dataDir);
  const root = o.root ?? path.join('runs', 'roadmap-replay', mode);
  const log = o.log ?? ((l: string) => console.log(l));
  const out: ReplayResult[] = [];
  for (const [i, step] of plan.steps.entries()) {
    const config = plan.configs[i];
    const dir = cachedRunDir(config, root);
    const before = readRun(dir);
    if (before?.finished) {
      log(`[${i + 1}/${plan.steps.length}] ${step.id}: cached run reused (${dir}), not retrained`);
    } else {
      log(`[${i + 1}/${plan.steps.length}] ${step.id}: ${before ? 'resuming' : 'training'} → ${dir}`);
    }
    const run = await cachedRun(config, root, { log, progress: o.progress ?? false, standIn: mode === 'smoke' });
    out.push(resultOf(step, config, run, run.cached, plan.size));
  }
  return out;
}

export interface TrendRow {
  step: RoadmapStep;
  parent: RoadmapStep;
  /** Top-1 change from the parent step, percentage points. */
  oursDelta: number;
  paperDelta: number;
  /** Two standard errors of a difference of two accuracies on the validation set (binomial). */
  noise: number;
  /**
   * 'agrees': same direction as the paper, beyond the noise; 'opposite': the other direction beyond
   * the noise; 'within noise': ours moved less than `noise`; 'paper flat': ours moved beyond the noise
   * where the paper moved less than 0.1 point.
   */
  verdict: 'agrees' | 'opposite' | 'within noise' | 'paper flat';
}

/** Each step's top-1 change from its parent, ours against the paper's, for the steps whose parent ran. */
export function compareTrends(results: ReplayResult[], valImages: number): TrendRow[] {
  const byId = new Map(results.map((r) => [r.step.id, r]));
  return results.flatMap((r) => {
    const parentResult = r.step.parent ? byId.get(r.step.parent) : undefined;
    if (!parentResult) return [];
    const oursDelta = r.top1 - parentResult.top1;
    const paperDelta = (r.step.paper.top1 ?? NaN) - (parentResult.step.paper.top1 ?? NaN);
    const p = (r.top1 + parentResult.top1) / 200;
    const noise = 2 * 100 * Math.sqrt((2 * p * (1 - p)) / valImages);
    const paperSign = Math.abs(paperDelta) < 0.1 ? 0 : Math.sign(paperDelta);
    const verdict: TrendRow['verdict'] = Math.abs(oursDelta) < noise ? 'within noise'
      : paperSign === 0 ? 'paper flat' : Math.sign(oursDelta) === paperSign ? 'agrees' : 'opposite';
    return [{ step: r.step, parent: parentResult.step, oursDelta, paperDelta, noise, verdict }];
  });
}
