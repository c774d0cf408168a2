/**
 * The training recipe as a plain object. Defaults are the paper's ImageNet-1K recipe (ConvNeXt Appendix
 * A.1, Table 5, and the official main.py defaults): AdamW lr 4e-3 at batch 4096, betas (0.9, 0.999),
 * eps 1e-8, weight decay 0.05, 300 epochs, 20 warmup epochs then cosine to 1e-6, EMA 0.9999, label
 * smoothing 0.1 and soft-target cross-entropy (Mixup / CutMix on). Augmentation lives in AugmentConfig.
 */

import { z } from 'zod';

import { nonNegative, nonNegativeInt, numberIn, pairIn, positiveInt, probability, schemaErrors, valueSchema } from '../augment/config';

/** The regression losses (src/train/loss.ts), for a one-output head. */
export const REGRESSION_LOSSES = ['l1', 'mse', 'smooth-l1', 'huber', 'trimmed-l1'] as const;
export type RegressionLossName = (typeof REGRESSION_LOSSES)[number];

export function isRegressionLoss(loss: string): loss is RegressionLossName {
  return (REGRESSION_LOSSES as readonly string[]).includes(loss);
}

const oneOf = <T extends string>(values: readonly T[]): z.ZodType<T> =>
  valueSchema<T>(`one of ${values.join(' | ')}`, (v) => typeof v === 'string' && (values as readonly string[]).includes(v));
const bool = valueSchema<boolean>('true or false', (v) => typeof v === 'boolean');
const positive = numberIn('a number > 0', (n) => n > 0 && n < Infinity);

export const OPTIMIZERS = ['adamw', 'sgd'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** The recipe's keys, types and allowed values: the one definition TrainRecipe and its checks come from. */
export const trainRecipeSchema = z.strictObject({
  epochs: positiveInt,
  /** Images per optimizer update (the paper's 4096). */
  batchSize: positiveInt,
  /** Images per forward pass; batchSize / microBatch micro-batches are accumulated. Default batchSize. */
  microBatch: positiveInt.optional(),
  optimizer: oneOf(OPTIMIZERS),
  /** Peak learning rate (not scaled by batch size: the official code uses --lr as given). */
  lr: nonNegative,
  minLr: nonNegative,
  warmupEpochs: nonNegative,
  /** Warmup length in updates; overrides warmupEpochs when > 0. */
  warmupSteps: nonNegativeInt.optional(),
  startWarmupLr: nonNegative.optional(),
  weightDecay: nonNegative,
  /** Final weight decay of a cosine weight-decay schedule; absent: constant. */
  weightDecayEnd: nonNegative.optional(),
  betas: pairIn('0 <= beta < 1', (a, b) => a >= 0 && a < 1 && b >= 0 && b < 1).optional(),
  eps: positive.optional(),
  /** SGD momentum (and Nesterov), for the optimizer ablation. */
  momentum: probability.optional(),
  nesterov: bool.optional(),
  /** Layer-wise learning-rate decay (fine-tuning); 1 = off. */
  layerDecay: numberIn('in (0, 1]', (n) => n > 0 && n <= 1).optional(),
  /** Global gradient-norm clipping; absent = none (the paper's setting). */
  clipGrad: positive.optional(),
  modelEma: bool,
  emaDecay: probability,
  /** Evaluate the EMA weights too each time the model is evaluated (official --model_ema_eval). */
  evalEma: bool,
  /**
   * 'soft-target': SoftTargetCrossEntropy on the loader's targets (Mixup / CutMix, smoothing folded in);
   * 'label-smoothing': LabelSmoothingCrossEntropy on the hard labels with `smoothing`.
   * Regression (`task: regression`, a one-output head): 'l1' | 'mse' | 'smooth-l1' | 'huber' | 'trimmed-l1'
   * (src/train/loss.ts), on the normalised targets when the config normalises them.
   */
  loss: oneOf(['soft-target', 'label-smoothing', ...REGRESSION_LOSSES] as const),
  /** β of smooth L1, δ of Huber (regression; in normalised target units when targets are normalised). Default 1. */
  huberDelta: positive.optional(),
  /** Fraction of each batch's largest residuals the trimmed L1 leaves out (regression). Default 0.1. */
  trimFraction: numberIn('in [0, 1)', (n) => n >= 0 && n < 1).optional(),
  smoothing: numberIn('in [0, 1)', (n) => n >= 0 && n < 1),
  seed: numberIn('an integer', (n) => Number.isSafeInteger(n)),
  /** Evaluate every n epochs (and always after the last). */
  evalEvery: positiveInt,
  /** Also save the `last` checkpoint every n updates inside an epoch (0: only at epoch ends). */
  checkpointEverySteps: nonNegativeInt,
  /**
   * Metric choosing the `best` checkpoint: the highest top-1 (classification), the lowest MAE (regression;
   * the default with a regression loss).
   */
  monitor: oneOf(['valTop1', 'emaTop1', 'valMae', 'emaMae'] as const),
  /**
   * Wall-clock budget of training (evaluation excluded): training ends early, at an epoch boundary, when
   * the next epoch would end past it (its time estimated by the last epoch's). Absent: no limit.
   */
  maxTrainMinutes: positive.optional(),
  /**
   * Fit the cosine schedules (learning rate, and weight decay when it has one) to maxTrainMinutes
   * (src/train/budget.ts): after each epoch their length is planned anew from that epoch's speed, training
   * ends when they do (mid-epoch if need be) or when the budget is spent, and `epochs` becomes the most the
   * plan may take.
   */
  budgetSchedule: bool.optional(),
});

export type TrainRecipe = z.infer<typeof trainRecipeSchema>;

export const PAPER_RECIPE: TrainRecipe = {
  epochs: 300,
  batchSize: 4096,
  optimizer: 'adamw',
  lr: 4e-3,
  minLr: 1e-6,
  warmupEpochs: 20,
  weightDecay: 0.05,
  betas: [0.9, 0.999],
  eps: 1e-8,
  layerDecay: 1,
  modelEma: true,
  emaDecay: 0.9999,
  evalEma: true,
  loss: 'soft-target',
  smoothing: 0.1,
  seed: 0,
  evalEvery: 1,
  checkpointEverySteps: 0,
  monitor: 'valTop1',
};

export function resolveRecipe(overrides: Partial<TrainRecipe> = {}): TrainRecipe {
  const r: TrainRecipe = { ...PAPER_RECIPE, ...stripUndefined(overrides) };
  if (overrides.monitor === undefined && isRegressionLoss(r.loss)) r.monitor = 'valMae';
  const check = (ok: boolean, msg: string): void => {
    if (!ok) throw new Error(`recipe: ${msg}`);
  };
  // Keys, types and ranges from the schema; then what relates one value to another.
  const parsed = trainRecipeSchema.safeParse(r, { reportInput: true });
  if (!parsed.success) throw new Error(`recipe: ${schemaErrors(trainRecipeSchema, parsed.error).join('; ')}`);
  const micro = r.microBatch ?? r.batchSize;
  check(Number.isInteger(micro) && micro > 0 && r.batchSize % micro === 0,
    `batchSize ${r.batchSize} must be a multiple of microBatch ${micro}`);
  check(r.warmupEpochs >= 0 && r.warmupEpochs <= r.epochs, `warmupEpochs ${r.warmupEpochs} must be in [0, epochs]`);
  check(!r.budgetSchedule || r.maxTrainMinutes !== undefined, 'budgetSchedule needs maxTrainMinutes');
  check(!(r.monitor === 'emaTop1' && !(r.modelEma && r.evalEma)), 'monitor emaTop1 needs modelEma and evalEma');
  check(!(r.monitor === 'emaMae' && !(r.modelEma && r.evalEma)), 'monitor emaMae needs modelEma and evalEma');
  const regression = isRegressionLoss(r.loss);
  check(regression === (r.monitor === 'valMae' || r.monitor === 'emaMae'),
    regression ? `monitor ${r.monitor} is a classification metric; the regression loss ${r.loss} is monitored by valMae or emaMae`
      : `monitor ${r.monitor} is a regression metric; the classification loss ${r.loss} is monitored by valTop1 or emaTop1`);
  return r;
}

/** Whether the recipe trains a regression head (its loss is a regression loss). */
export function isRegressionRecipe(r: Pick<TrainRecipe, 'loss'>): boolean {
  return isRegressionLoss(r.loss);
}

/** Lower is better for the monitored metric (MAE), higher for top-1. */
export function monitorLowerIsBetter(monitor: TrainRecipe['monitor']): boolean {
  return monitor === 'valMae' || monitor === 'emaMae';
}

/** Micro-batches per optimizer update. */
export function accumSteps(r: TrainRecipe): number {
  return r.batchSize / (r.microBatch ?? r.batchSize);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
