/**
 * What notebook 03 shows about training, computed here so the notebook stays prose and short calls:
 * the recipe beside the paper's, schedules as traces, curves and confusion matrices from run folders,
 * augmentation views as an image grid, and the recipe ablation's configs.
 */
import * as fs from 'fs';
import * as path from 'path';

import { augmentConfig, PAPER_AUGMENT } from '../augment/config';
import type { Dataset } from '../data/dataset';
import { encodeImage } from '../image/decode';
import { ImageFolder } from '../data/image-folder';
import { cifar10Root } from '../data/datasets';
import { deriveSeed, Rng, Stream } from '../util/rng';
import { cachedRun, evalFilePath, readRun, type EvalFile, type EvalSummary, type RunRecord } from './cached-run';
import type { Mode } from '../util/mode';
import { setPath, type AugmentSettings, type TrainConfig } from '../train/config';
import { PAPER_RECIPE, type TrainRecipe } from '../train/recipe';
import { transforms } from '../train/run-config';
import { cosineSchedule } from '../train/schedule';
import { readJsonFile } from '../util/fs';

/** CIFAR-10 as an image folder (extracted on first use, nothing decoded up front): for a few images. */
export async function cifar10Folder(split: 'train' | 'test', o: { standIn?: boolean } = {}): Promise<ImageFolder> {
  const { root } = await cifar10Root({ progress: false, standIn: o.standIn });
  return new ImageFolder(path.join(root, split));
}

/** A chart trace (structurally the notebook's Plotly `Trace`). */
export interface TraceData {
  type?: string;
  name?: string;
  x?: number[] | string[];
  y?: number[] | string[];
  [key: string]: unknown;
}

/** Rows of "setting: paper | ours" for a recipe and augmentation. */
export function recipeRows(recipe: TrainRecipe, augment: AugmentSettings): Array<{ setting: string; paper: string; ours: string }> {
  const a = augmentConfig(augment);
  const p = PAPER_AUGMENT;
  const r = PAPER_RECIPE;
  const onOff = (v: number, s: string) => (v > 0 ? s : 'off');
  const rows: Array<[string, string, string]> = [
    ['optimizer', `${r.optimizer}, betas ${r.betas}, eps ${r.eps}`, recipe.optimizer === 'adamw' ? `adamw, betas ${recipe.betas ?? [0.9, 0.999]}, eps ${recipe.eps ?? 1e-8}` : `sgd, momentum ${recipe.momentum ?? 0.9}, nesterov`],
    ['peak learning rate', `${r.lr} (batch ${r.batchSize})`, `${recipe.lr} (batch ${recipe.batchSize})`],
    ['weight decay', String(r.weightDecay), String(recipe.weightDecay)],
    ['epochs', String(r.epochs), String(recipe.epochs)],
    ['warmup', `${r.warmupEpochs} epochs, linear`, recipe.warmupSteps ? `${recipe.warmupSteps} updates, linear` : `${recipe.warmupEpochs} epochs, linear`],
    ['schedule', `cosine to ${r.minLr}`, `cosine to ${recipe.minLr}`],
    ['EMA', String(r.emaDecay), recipe.modelEma ? String(recipe.emaDecay) : 'off'],
    ['label smoothing', String(p.smoothing), String(a.smoothing)],
    ['crop', `RandomResizedCrop ${p.inputSize}, scale ${p.scale}`, augment.cropPadding ? `pad ${augment.cropPadding} + random crop ${a.inputSize}` : `RandomResizedCrop ${a.inputSize}, scale ${a.scale}`],
    ['RandAugment', p.randAugment, a.randAugment || 'off'],
    ['Mixup / CutMix', `${p.mixup} / ${p.cutmix}`, a.mixup > 0 || a.cutmix > 0 ? `${a.mixup} / ${a.cutmix}` : 'off'],
    ['Random Erasing', String(p.reprob), onOff(a.reprob, String(a.reprob))],
  ];
  return rows.map(([setting, paper, ours]) => ({ setting, paper, ours }));
}

/** The learning rate (relative to its peak) of every update against the fraction of training done. */
export function scheduleTrace(recipe: TrainRecipe, itersPerEpoch: number, name: string, points = 400): TraceData {
  const s = cosineSchedule({
    base: recipe.lr, final: recipe.minLr, epochs: recipe.epochs, itersPerEpoch,
    warmupEpochs: recipe.warmupEpochs, warmupSteps: recipe.warmupSteps, startWarmupValue: recipe.startWarmupLr,
  });
  const stride = Math.max(1, Math.floor(s.length / points));
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < s.length; i += stride) {
    x.push(i / s.length);
    y.push(s[i] / recipe.lr);
  }
  return { type: 'scatter', mode: 'lines', name, x, y };
}

/** Training loss and test top-1 per epoch of a run. */
export function curveTraces(run: RunRecord, label = ''): TraceData[] {
  const m = run.metrics;
  const x = m.map((r) => r.epoch + 1);
  const traces: TraceData[] = [
    { type: 'scatter', mode: 'lines+markers', name: `${label}train loss`, x, y: m.map((r) => r.trainLoss), yaxis: 'y2' },
  ];
  const withVal = m.filter((r) => r.valTop1 !== undefined);
  traces.push({ type: 'scatter', mode: 'lines+markers', name: `${label}test top-1 (%)`, x: withVal.map((r) => r.epoch + 1), y: withVal.map((r) => 100 * r.valTop1!) });
  const withEma = m.filter((r) => r.emaTop1 !== undefined);
  if (withEma.length > 0) {
    traces.push({ type: 'scatter', mode: 'lines+markers', name: `${label}EMA top-1 (%)`, x: withEma.map((r) => r.epoch + 1), y: withEma.map((r) => 100 * r.emaTop1!) });
  }
  return traces;
}

/** A confusion-matrix heatmap trace (rows: true class, columns: predicted), as row percentages. */
export function confusionTrace(ev: EvalFile): TraceData {
  const z = ev.model.confusion.map((row) => {
    const n = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (n > 0 ? (100 * v) / n : 0));
  });
  return {
    type: 'heatmap', x: ev.classes, y: ev.classes, z, colorscale: CONFUSION_COLORSCALE, zmin: 0, zmax: 100,
    colorbar: { title: { text: '% of the<br>true class', side: 'top' }, ticksuffix: '%' },
    text: ev.model.confusion.map((row) => row.map(String)), texttemplate: '%{text}', hovertemplate: 'true %{y}<br>predicted %{x}<br>%{z:.1f}% of the class<extra></extra>',
  };
}

/**
 * A sequential scale from white (0%) to dark blue (100%): ColorBrewer's "Blues". An explicit list, because
 * plotly.js's built-in 'Blues' runs the other way (dark at 0), which painted empty cells dark and the diagonal pale.
 */
export const CONFUSION_COLORSCALE: Array<[number, string]> = [
  [0, '#f7fbff'], [0.125, '#deebf7'], [0.25, '#c6dbef'], [0.375, '#9ecae1'], [0.5, '#6baed6'],
  [0.625, '#4292c6'], [0.75, '#2171b5'], [0.875, '#08519c'], [1, '#08306b'],
];

/** Per-class precision / recall / F1 rows of an evaluation. */
export function perClassRows(ev: EvalFile): Array<Record<string, string | number>> {
  return ev.model.perClass.map((c) => ({ class: c.class, precision: c.precision, recall: c.recall, f1: c.f1, support: c.support }));
}

/**
 * Training views of a few images under an augmentation (column 0: the image itself), drawn with the
 * loader's per-sample seeds of epochs 0..draws-1, as HTML `<img>` grid rows.
 */
export async function augmentationViewsHtml(
  dataset: Dataset, augment: AugmentSettings, opts: { indices?: number[]; draws?: number; seed?: number; scale?: number; title?: string } = {},
): Promise<string> {
  const indices = opts.indices ?? [0, 1, 2, 3];
  const draws = opts.draws ?? 6;
  const scale = opts.scale ?? 3;
  const t = transforms(augment, dataset.classes.length);
  const cell = async (s: { image: Uint8Array; height: number; width: number }): Promise<string> => {
    const png = await encodeImage({ ...s, channels: 3 }, 'png');
    return `<img src="data:image/png;base64,${png.toString('base64')}" width="${s.width * scale}" height="${s.height * scale}" style="image-rendering:pixelated;margin:2px">`;
  };
  const rows: string[] = [];
  for (const index of indices) {
    const sample = await dataset.get(index);
    const cells = [await cell(sample)];
    for (let e = 0; e < draws; e++) {
      cells.push(await cell(await t.train(sample, new Rng(deriveSeed(opts.seed ?? 0, e, Stream.sample, index)))));
    }
    rows.push(`<div>${cells.join('')} <span style="vertical-align:middle">${dataset.classes[sample.label] ?? ''}</span></div>`);
  }
  const title = opts.title ? `<p style="font-weight:bold;margin:6px 0 2px">${opts.title}</p>` : '';
  return `${title}${rows.join('\n')}`;
}

/** One ablation: a name, what it changes, and the config. */
export interface Ablation {
  name: string;
  change: string;
  config: TrainConfig;
}

/**
 * The recipe ablation: the paper's full recipe scaled to a small budget, then one part removed at a time
 * (Mixup / CutMix, drop path, EMA), AdamW swapped for SGD, and the mild CIFAR recipe of the main run.
 * `base` fixes model, data and budget; its augment / recipe are replaced by each variant's.
 */
export function ablationConfigs(base: TrainConfig, mild: { augment: AugmentSettings; recipe: Partial<TrainRecipe> }, emaDecay: number): Ablation[] {
  const inputSize = base.augment?.inputSize ?? mild.augment.inputSize ?? 32;
  // The paper's augmentation as is, at the dataset's size (no resize-then-crop at eval: cropPct 1).
  const paperAug: AugmentSettings = { ...PAPER_AUGMENT, inputSize, cropPct: 1, normalize: mild.augment.normalize ?? PAPER_AUGMENT.normalize };
  const paper: TrainConfig = {
    ...base,
    augment: paperAug,
    recipe: { ...base.recipe, modelEma: true, emaDecay, evalEma: true, loss: 'soft-target' },
    model: setPath(base.model, 'options.dropPathRate', 0.1),
  };
  const named = (name: string, change: string, c: TrainConfig): Ablation => ({ name, change, config: { ...c, name: `ablation-${name}` } });
  return [
    named('paper', 'the paper\'s recipe (RandAugment, Mixup, CutMix, Random Erasing, smoothing, drop path 0.1, EMA)', paper),
    named('no-mixup', 'without Mixup / CutMix (label-smoothed cross-entropy)', setPath(setPath(setPath(paper, 'augment.mixup', 0), 'augment.cutmix', 0), 'recipe.loss', 'label-smoothing')),
    named('no-droppath', 'without drop path', setPath(paper, 'model.options.dropPathRate', 0)),
    named('no-ema', 'without EMA (the live weights are evaluated)', setPath(setPath(paper, 'recipe.modelEma', false), 'recipe.evalEma', false)),
    named('sgd', 'SGD (momentum 0.9, Nesterov, lr 0.1, L2 5e-4) instead of AdamW', setPath(setPath(setPath(paper, 'recipe.optimizer', 'sgd'), 'recipe.lr', 0.1), 'recipe.weightDecay', 5e-4)),
    named('ls-1e-6', 'layer scale initialised at the paper\'s 1e-6 instead of the base model\'s value', setPath(paper, 'model.options.layerScaleInitValue', 1e-6)),
    named('mild', 'the CIFAR recipe of the main run: pad-and-crop + flip, smoothing 0.1, no Mixup / CutMix / RandAugment / erasing / drop path / EMA', {
      ...base,
      augment: mild.augment,
      recipe: { ...base.recipe, ...pick(mild.recipe, ['optimizer', 'lr', 'weightDecay', 'modelEma', 'evalEma']), loss: 'label-smoothing' },
      model: setPath(base.model, 'options.dropPathRate', 0),
    }),
  ];
}

function pick<T extends object>(o: T, keys: Array<keyof T>): Partial<T> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]])) as Partial<T>;
}

/** One run of the GPU sweep that chose the CIFAR-10 benchmark's model (configs/cifar10-sweep). */
export interface SweepRun {
  cfg: { name: string; model: string; epochs: number; lr?: number; ls?: number; arch?: { k?: number; dims?: number[]; depths?: number[] }; [k: string]: unknown };
  final: number;
  hist: Array<[number, number, number | null, number]>;
  sec: number;
}

const SWEEP_MODELS: Record<string, { stem: number; depths: number[]; dims: number[]; k: number }> = {
  s4: { stem: 4, depths: [2, 2, 2, 2], dims: [64, 128, 256, 512], k: 7 },
  s4w: { stem: 4, depths: [2, 2, 2, 2], dims: [96, 192, 384, 768], k: 7 },
  s4x3: { stem: 4, depths: [2, 2, 2], dims: [128, 256, 512], k: 5 },
  nano: { stem: 2, depths: [2, 2, 2], dims: [64, 128, 256], k: 7 },
  pico: { stem: 2, depths: [2, 2, 2], dims: [32, 64, 128], k: 7 },
  s2x4: { stem: 2, depths: [1, 1, 3, 1], dims: [32, 64, 128, 256], k: 7 },
};

/** The sweep's runs as table rows: architecture, recipe changes, epochs and test top-1 (%). */
export function sweepRows(runs: SweepRun[]): Array<Record<string, string | number>> {
  return runs.map((r) => {
    const base = SWEEP_MODELS[r.cfg.model];
    const a = { ...base, ...(r.cfg.arch ?? {}) };
    const changes = Object.entries(r.cfg)
      .filter(([k]) => !['name', 'model', 'epochs', 'arch', 'lr', 'ls'].includes(k))
      .map(([k, v]) => `${k} ${JSON.stringify(v)}`);
    return {
      run: r.cfg.name,
      'stem / depths / dims / kernel': `${a.stem} / ${a.depths.join(',')} / ${a.dims[0]}-${a.dims[a.dims.length - 1]} / ${a.k}×${a.k}`,
      'lr, layer scale': `${r.cfg.lr ?? 2e-3}, ${r.cfg.ls ?? 1}`,
      other: changes.join(', ') || '—',
      epochs: r.cfg.epochs,
      'top-1 (%)': 100 * r.final,
    };
  });
}

/**
 * A tiny version of `c` for smoke runs: a two-stage 8/16-channel model on `perClass` training and
 * `valPerClass` test images read straight from the image folders, one epoch of batch 20.
 */
export function tinyConfig(c: TrainConfig, trainRoot: string, perClass: number, valPerClass: number): TrainConfig {
  return {
    ...c,
    model: { arch: { depths: [1, 1], dims: [8, 16], stemPatchSize: 2, kernelSize: 3 } },
    data: { train: trainRoot, val: trainRoot.replace(/train$/, 'test'), perClass, valPerClass },
    recipe: { ...c.recipe, epochs: 1, batchSize: 20, warmupSteps: 1 },
  };
}

/** The commands that make the CIFAR-10 benchmark run README quotes, and the report option that runs them first. */
export const BENCHMARK_COMMANDS = {
  train: 'npx convnext train --config configs/cifar10-quick.yaml --out runs/cifar10-quick',
  evalTta: 'npx convnext eval --run runs/cifar10-quick --checkpoint last --dataset cifar10 --flip-tta',
  report: 'npm run report -- --with-benchmarks',
} as const;

export interface BenchmarkRun {
  run: RunRecord;
  /** True when the finished benchmark run folder was reused instead of training. */
  reused: boolean;
  /**
   * True when this is a shorter stand-in, not the benchmark: the tiny model in smoke mode, one epoch of the
   * benchmark in quick mode (full mode trains the whole benchmark when its folder holds no finished run).
   */
  standIn: boolean;
  /** One line saying which run this is and why. */
  message: string;
  /** Flip test-time augmentation results (`convnext eval --flip-tta`), when that file exists. */
  tta?: EvalSummary;
}

export interface BenchmarkRunOptions {
  /** The benchmark's own run folder (from `convnext train --config configs/cifar10-quick.yaml`). */
  mainDir: string;
  /** Where a stand-in run is cached by config hash. */
  cacheRoot: string;
  /** The CIFAR-10 training folder (smoke mode reads a few images from it). */
  trainRoot: string;
}

/**
 * The CIFAR-10 benchmark's run: the finished run in `mainDir` when there is one (not in smoke mode);
 * otherwise a stand-in trained into `cacheRoot` and reused from there: the tiny model on 40 images in
 * smoke mode, one epoch of the benchmark in quick mode, the whole benchmark in full mode.
 */
export async function benchmarkRun(benchmark: TrainConfig, mode: Mode, o: BenchmarkRunOptions): Promise<BenchmarkRun> {
  const finished = readRun(o.mainDir);
  let run: RunRecord;
  let message: string;
  let reused = false;
  if (mode !== 'smoke' && finished?.finished) {
    run = finished;
    reused = true;
    message = `reusing the finished benchmark run in ${o.mainDir} (trained ${finished.summary!.trainMinutes.toFixed(1)} min); not retraining`;
  } else {
    const stand: TrainConfig = mode === 'smoke' ? tinyConfig(benchmark, o.trainRoot, 4, 2)
      : mode === 'quick' ? setPath(benchmark, 'recipe.epochs', 1) : benchmark;
    message = standInMessage(mode, o.mainDir, stand.recipe?.epochs, finished !== undefined && finished.finished !== true);
    run = await cachedRun({ ...stand, name: `benchmark-${mode}` }, o.cacheRoot, { progress: false, log: () => undefined, standIn: mode === 'smoke' });
  }
  if (!run.eval || !run.summary) throw new Error(`the benchmark run ${run.dir} has no final evaluation`);
  const ttaFile = evalFilePath(run.dir, 'cifar10', { flipTta: true });
  const tta = fs.existsSync(ttaFile) ? readJsonFile<EvalFile>(ttaFile).model : undefined;
  return { run, reused, standIn: !reused && mode !== 'full', message, tta };
}

/** Why the benchmark cell trains instead of reading `mainDir`, and what it trains. */
export function standInMessage(mode: Mode, mainDir: string, epochs: number | undefined, unfinished = false): string {
  if (mode === 'full') return `${mainDir} holds no finished run: training the whole benchmark (${epochs} epoch(s)) instead`;
  const why = mode === 'smoke' ? 'smoke mode never reads the benchmark run'
    : `${mainDir} ${unfinished ? 'holds an unfinished run' : 'holds no finished run'}`;
  const what = mode === 'smoke' ? 'a tiny model on 40 images' : `a shorter version (${epochs} epoch(s) of the benchmark config)`;
  return `STAND-IN, not the benchmark: ${why}, so this trains ${what} instead`;
}

/** Images of one epoch of a run, from its first epoch's rate and duration. */
export function epochImages(run: RunRecord): number {
  const e = run.metrics[0];
  return e ? Math.round(e.trainImagesPerSec * e.trainSeconds) : 0;
}

/** Mean of a run's per-epoch training rates (images/s). */
export function meanTrainRate(run: RunRecord): number {
  return run.metrics.length ? run.metrics.reduce((a, r) => a + r.trainImagesPerSec, 0) / run.metrics.length : NaN;
}

/** The recipe ablation's budget: the benchmark cut to a few hundred updates (smoke: the tiny model on 40 images). */
export function ablationBudget(benchmark: TrainConfig, mode: Mode, trainRoot: string): TrainConfig {
  if (mode === 'smoke') return tinyConfig(benchmark, trainRoot, 4, 2);
  if (mode === 'quick') {
    return setPath(setPath(setPath(setPath(benchmark, 'data.perClass', 1000), 'data.valPerClass', 300), 'recipe.epochs', 3), 'recipe.warmupSteps', 30);
  }
  return setPath(setPath(benchmark, 'data.perClass', 2000), 'recipe.warmupSteps', 100);
}

/** The ablation's EMA decay per mode: an average over about a tenth of the run's updates. */
export const ABLATION_EMA_DECAY: Record<Mode, number> = { smoke: 0.9, quick: 0.99, full: 0.999 };

export interface AblationResult {
  a: Ablation;
  r: RunRecord & { cached: boolean };
  /** Test top-1 (fraction): the better of live and EMA weights for runs that evaluate the EMA. */
  top1: number;
}

/** The reported top-1 of a run: the better of live and EMA weights when it evaluates the EMA, as the official code does. */
export function reportedTop1(r: RunRecord, evalEma: boolean | undefined): number {
  const ev = r.eval;
  if (!ev) throw new Error(`run ${r.dir} has no final evaluation`);
  return ev.ema?.top1 !== undefined && evalEma ? Math.max(ev.model.top1, ev.ema.top1) : ev.model.top1;
}

/** Trains (or reads back from `root`) every ablation in turn, one log line each. */
export async function runRecipeAblation(
  ablations: Ablation[], root: string, o: { standIn?: boolean; log?: (line: string) => void } = {},
): Promise<AblationResult[]> {
  const log = o.log ?? ((l: string) => console.log(l));
  const results: AblationResult[] = [];
  for (const a of ablations) {
    const t0 = Date.now();
    const r = await cachedRun(a.config, root, { progress: false, log: () => undefined, standIn: o.standIn });
    const top1 = reportedTop1(r, a.config.recipe?.evalEma);
    results.push({ a, r, top1 });
    log(`${a.name.padEnd(12)} top-1 ${(100 * top1).toFixed(2)}%  ${r.cached ? '(cached)' : `(${((Date.now() - t0) / 60000).toFixed(1)} min)`}`);
  }
  return results;
}

/** A sweep run's final test top-1 (%) by name; throws for an unknown name. */
export function sweepTop1(runs: SweepRun[], name: string): number {
  const r = runs.find((x) => x.cfg.name === name);
  if (!r) throw new Error(`no sweep run "${name}"`);
  return 100 * r.final;
}
