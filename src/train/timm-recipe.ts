/**
 * The hand-off to an existing multi-GPU engine: a training config as the arguments of timm's `train.py`
 * (`torchrun --nproc_per_node=N train.py ...`, or the same as a YAML file for `train.py --config`). What timm
 * cannot express is refused, naming it, rather than silently dropped; what does not change training (how
 * often to evaluate or checkpoint) is listed as a note.
 */
import * as path from 'path';
import * as yaml from 'js-yaml';

import { augmentConfig } from '../augment/config';
import type { TrainConfig } from './config';
import { resolveRecipe } from './recipe';

/** Models timm has under the same name and architecture. */
const TIMM_MODELS = /^(convnext_(atto|femto|pico|nano|tiny|small|base|large|xlarge)|resnet(18|50|200))$/;

export interface TimmRecipe {
  /** train.py's arguments by their `--config` YAML names (argparse dests), in a readable order. */
  args: Record<string, string | number | boolean | number[] | Record<string, number>>;
  /** Settings not carried over because they do not change what is trained. */
  notes: string[];
}

/** Thrown for a setting timm's train.py cannot express. */
export class RecipeExportError extends Error {
  constructor(reasons: string[]) {
    super(`timm's train.py cannot express this config:\n${reasons.map((r) => `  - ${r}`).join('\n')}`);
    this.name = 'RecipeExportError';
  }
}

/** The timm train.py arguments equivalent to `config` on `gpus` processes. */
export function timmRecipe(config: TrainConfig, gpus: number): TimmRecipe {
  if (!Number.isInteger(gpus) || gpus < 1) throw new Error(`gpus must be a positive integer, got ${gpus}`);
  const r = resolveRecipe(config.recipe ?? {});
  const a = augmentConfig(config.augment ?? {});
  const refuse: string[] = [];
  const notes: string[] = [];
  const args: TimmRecipe['args'] = {};

  // Model.
  const m = config.model;
  if (m.arch) refuse.push('model.arch: an architecture given by depths and dims has no timm model name');
  else if (!m.name || !TIMM_MODELS.test(m.name)) {
    refuse.push(`model.name "${m.name}": not a timm model (the study's modules, the roadmap's steps and the 32x32 variants are this project's own)`);
  } else args.model = m.name;
  if (m.weights) refuse.push('model.weights: a convnext-ts weights file; convert it for timm with `--initial-checkpoint` by hand');
  const o = m.options ?? {};
  if (o.numClasses !== undefined) args.num_classes = o.numClasses;
  if (o.inChans !== undefined && o.inChans !== 3) args.in_chans = o.inChans;
  if (o.dropPathRate) args.drop_path = o.dropPathRate;
  // timm's ConvNeXt defaults are the paper's (ls_init_value 1e-6, head_init_scale 1); pass only changes.
  const modelKwargs: Record<string, number> = {};
  if (o.layerScaleInitValue !== undefined && o.layerScaleInitValue !== 1e-6) modelKwargs.ls_init_value = o.layerScaleInitValue;
  if (o.headInitScale !== undefined && o.headInitScale !== 1) modelKwargs.head_init_scale = o.headInitScale;
  if (Object.keys(modelKwargs).length) {
    if (m.name?.startsWith('convnext_')) args.model_kwargs = modelKwargs;
    else refuse.push(`model.options ${Object.keys(modelKwargs).join(', ')}: timm's ${m.name} has no such option`);
  }

  // Data: timm reads <data_dir>/<split>/<class>/ image folders.
  const d = config.data;
  if (d.name === 'cifar10') {
    Object.assign(args, { dataset: 'torch/cifar10', dataset_download: true, train_split: 'train', val_split: 'validation' });
  } else if (d.name) {
    refuse.push(`data.name "${d.name}": no timm dataset; prepare it as <root>/train and <root>/val folders and give data.train / data.val`);
  } else if (d.train && d.val && path.dirname(d.train) === path.dirname(d.val)) {
    Object.assign(args, { data_dir: path.dirname(d.train), train_split: path.basename(d.train), val_split: path.basename(d.val) });
  } else {
    refuse.push('data.train and data.val must be two folders of one parent (timm takes --data-dir and the split names)');
  }
  if (d.perClass || d.valPerClass) refuse.push('data.perClass / data.valPerClass: timm trains on whole folders');
  if (d.evalBatchSize) args.validation_batch_size = Math.max(1, Math.round(d.evalBatchSize));

  // Batch: per-process batch x processes x accumulation = the recipe's images per update.
  const micro = r.microBatch ?? r.batchSize / gpus;
  const accum = r.batchSize / (micro * gpus);
  if (!Number.isInteger(micro) || !Number.isInteger(accum)) {
    refuse.push(`recipe.batchSize ${r.batchSize} is not microBatch (${r.microBatch ?? 'unset'}) x ${gpus} GPUs x a whole number of accumulation steps`);
  } else {
    args.batch_size = micro;
    if (accum > 1) args.grad_accum_steps = accum;
  }

  // Optimizer and schedule (timm's --lr is used as given, like the official --lr).
  if (r.optimizer === 'adamw') {
    Object.assign(args, { opt: 'adamw', opt_eps: r.eps ?? 1e-8, opt_betas: r.betas ?? [0.9, 0.999] });
  } else {
    // timm's 'sgd' is Nesterov momentum; 'momentum' is plain momentum.
    Object.assign(args, { opt: r.nesterov === false ? 'momentum' : 'sgd', momentum: r.momentum ?? 0.9 });
  }
  Object.assign(args, {
    lr: r.lr, weight_decay: r.weightDecay, epochs: r.epochs, sched: 'cosine', sched_on_updates: true,
    min_lr: r.minLr, warmup_epochs: r.warmupEpochs, warmup_lr: r.startWarmupLr ?? 0, cooldown_epochs: 0,
  });
  if (r.warmupSteps) refuse.push('recipe.warmupSteps: timm counts warmup in epochs; give recipe.warmupEpochs');
  if (r.weightDecayEnd !== undefined) refuse.push('recipe.weightDecayEnd: timm has no weight-decay schedule');
  if (r.clipGrad) Object.assign(args, { clip_grad: r.clipGrad, clip_mode: 'norm' });
  if ((r.layerDecay ?? 1) !== 1) args.layer_decay = r.layerDecay!;
  if (r.modelEma) Object.assign(args, { model_ema: true, model_ema_decay: r.emaDecay });
  if (r.budgetSchedule || r.maxTrainMinutes) refuse.push('recipe.maxTrainMinutes / budgetSchedule: timm trains for a number of epochs');
  args.seed = r.seed;
  if (r.evalEvery !== 1) notes.push(`recipe.evalEvery ${r.evalEvery}: timm evaluates after every epoch`);
  if (r.checkpointEverySteps) notes.push(`recipe.checkpointEverySteps ${r.checkpointEverySteps}: timm saves at epoch ends (--checkpoint-hist)`);

  // Augmentation: the same timm transforms the paper used.
  args.input_size = [3, a.inputSize, a.inputSize];
  if (a.scale) Object.assign(args, { scale: [...a.scale], ratio: [...a.ratio] });
  else refuse.push('augment.scale null (resize + centre crop in training): timm trains with RandomResizedCrop');
  if ((config.augment?.cropPadding ?? 0) > 0) refuse.push('augment.cropPadding: timm has no pad-and-crop');
  if (a.geometric) refuse.push('augment.geometric: the study\'s extra random affine is not a timm transform');
  Object.assign(args, { hflip: a.hflip, train_interpolation: 'bicubic', interpolation: 'bicubic', crop_pct: a.cropPct });
  if (a.randAugment) args.aa = a.randAugment;
  if (a.reprob) Object.assign(args, { reprob: a.reprob, remode: 'pixel', recount: 1 });
  const mixing = a.mixup > 0 || a.cutmix > 0;
  if (mixing) {
    Object.assign(args, { mixup: a.mixup, cutmix: a.cutmix, mixup_prob: a.mixupProb, mixup_switch_prob: a.mixupSwitchProb, mixup_mode: 'batch' });
  }
  // timm picks the loss from these: SoftTargetCrossEntropy with Mixup / CutMix (smoothing folded into the
  // targets), LabelSmoothingCrossEntropy without; each equals ours for the same settings.
  const smoothing = r.loss === 'label-smoothing' ? r.smoothing : a.smoothing;
  if (smoothing) args.smoothing = smoothing;
  if (r.loss === 'label-smoothing' && mixing) refuse.push('recipe.loss label-smoothing with Mixup / CutMix: timm uses the soft-target loss then');
  Object.assign(args, { mean: [...a.normalize.mean], std: [...a.normalize.std] });

  if (refuse.length) throw new RecipeExportError(refuse);
  return { args, notes };
}

/** `torchrun --nproc_per_node=N train.py --flag value ...`, one flag a line. */
export function timmCommand(recipe: TimmRecipe, gpus: number): string {
  const flags = Object.entries(recipe.args).map(([k, v]) => {
    const flag = `--${k.replace(/_/g, '-')}`;
    if (v === true) return flag;
    if (Array.isArray(v)) return `${flag} ${v.join(' ')}`;
    if (typeof v === 'object') return `${flag} ${Object.entries(v).map(([kk, vv]) => `${kk}=${vv}`).join(' ')}`;
    return `${flag} ${String(v)}`;
  });
  return [`torchrun --nproc_per_node=${gpus} train.py`, ...flags].join(' \\\n    ');
}

/** The same arguments as a YAML file for `train.py --config FILE` (keys are train.py's argparse dests). */
export function timmYaml(recipe: TimmRecipe): string {
  return yaml.dump(recipe.args, { flowLevel: 1, lineWidth: 120 });
}
