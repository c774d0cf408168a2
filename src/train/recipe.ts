/**
 * The training recipe as a plain object. Defaults are the paper's ImageNet-1K recipe (ConvNeXt Appendix
 * A.1, Table 5, and the official main.py defaults): AdamW lr 4e-3 at batch 4096, betas (0.9, 0.999),
 * eps 1e-8, weight decay 0.05, 300 epochs, 20 warmup epochs then cosine to 1e-6, EMA 0.9999, label
 * smoothing 0.1 and soft-target cross-entropy (Mixup / CutMix on). Augmentation lives in AugmentConfig.
 */

export type OptimizerName = 'adamw' | 'sgd';

export interface TrainRecipe {
  epochs: number;
  /** Images per optimizer update (the paper's 4096). */
  batchSize: number;
  /** Images per forward pass; batchSize / microBatch micro-batches are accumulated. Default batchSize. */
  microBatch?: number;
  optimizer: OptimizerName;
  /** Peak learning rate (not scaled by batch size: the official code uses --lr as given). */
  lr: number;
  minLr: number;
  warmupEpochs: number;
  /** Warmup length in updates; overrides warmupEpochs when > 0. */
  warmupSteps?: number;
  startWarmupLr?: number;
  weightDecay: number;
  /** Final weight decay of a cosine weight-decay schedule; absent: constant. */
  weightDecayEnd?: number;
  betas?: [number, number];
  eps?: number;
  /** SGD momentum (and Nesterov), for the optimizer ablation. */
  momentum?: number;
  nesterov?: boolean;
  /** Layer-wise learning-rate decay (fine-tuning); 1 = off. */
  layerDecay?: number;
  /** Global gradient-norm clipping; absent = none (the paper's setting). */
  clipGrad?: number;
  modelEma: boolean;
  emaDecay: number;
  /** Evaluate the EMA weights too each time the model is evaluated (official --model_ema_eval). */
  evalEma: boolean;
  /**
   * 'soft-target': SoftTargetCrossEntropy on the loader's targets (Mixup / CutMix, smoothing folded in);
   * 'label-smoothing': LabelSmoothingCrossEntropy on the hard labels with `smoothing`.
   */
  loss: 'soft-target' | 'label-smoothing';
  smoothing: number;
  seed: number;
  /** Evaluate every n epochs (and always after the last). */
  evalEvery: number;
  /** Also save the `last` checkpoint every n updates inside an epoch (0: only at epoch ends). */
  checkpointEverySteps: number;
  /** Metric choosing the `best` checkpoint. */
  monitor: 'valTop1' | 'emaTop1';
  /**
   * Wall-clock budget of training (evaluation excluded): training ends early, at an epoch boundary, when
   * the next epoch would end past it (its time estimated by the last epoch's). Absent: no limit.
   */
  maxTrainMinutes?: number;
  /**
   * Fit the cosine schedules (learning rate, and weight decay when it has one) to maxTrainMinutes
   * (src/train/budget.ts): after each epoch their length is planned anew from that epoch's speed, training
   * ends when they do (mid-epoch if need be) or when the budget is spent, and `epochs` becomes the most the
   * plan may take.
   */
  budgetSchedule?: boolean;
}

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
  const micro = r.microBatch ?? r.batchSize;
  const check = (ok: boolean, msg: string): void => {
    if (!ok) throw new Error(`recipe: ${msg}`);
  };
  check(Number.isInteger(r.epochs) && r.epochs > 0, `epochs must be a positive integer, got ${r.epochs}`);
  check(Number.isInteger(r.batchSize) && r.batchSize > 0, `batchSize must be a positive integer, got ${r.batchSize}`);
  check(Number.isInteger(micro) && micro > 0 && r.batchSize % micro === 0,
    `batchSize ${r.batchSize} must be a multiple of microBatch ${micro}`);
  check(r.lr >= 0 && r.minLr >= 0, 'learning rates must be >= 0');
  check(r.warmupEpochs >= 0 && r.warmupEpochs <= r.epochs, `warmupEpochs ${r.warmupEpochs} must be in [0, epochs]`);
  check(r.weightDecay >= 0, 'weightDecay must be >= 0');
  check(r.emaDecay >= 0 && r.emaDecay <= 1, `emaDecay must be in [0, 1], got ${r.emaDecay}`);
  check(r.smoothing >= 0 && r.smoothing < 1, `smoothing must be in [0, 1), got ${r.smoothing}`);
  check(['adamw', 'sgd'].includes(r.optimizer), `unknown optimizer "${r.optimizer}" (adamw | sgd)`);
  check(['soft-target', 'label-smoothing'].includes(r.loss), `unknown loss "${r.loss}" (soft-target | label-smoothing)`);
  check(Number.isInteger(r.evalEvery) && r.evalEvery > 0, 'evalEvery must be a positive integer');
  check(r.maxTrainMinutes === undefined || r.maxTrainMinutes > 0, 'maxTrainMinutes must be > 0');
  check(!r.budgetSchedule || r.maxTrainMinutes !== undefined, 'budgetSchedule needs maxTrainMinutes');
  check(!(r.monitor === 'emaTop1' && !(r.modelEma && r.evalEma)), 'monitor emaTop1 needs modelEma and evalEma');
  return r;
}

/** Micro-batches per optimizer update. */
export function accumSteps(r: TrainRecipe): number {
  return r.batchSize / (r.microBatch ?? r.batchSize);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
