/**
 * The training loop's callbacks, as tfjs-layers' `fitDataset` drives a callback list: `fit` and
 * `trainOneEpoch` own the loop and its state; everything around it (progress, TensorBoard, run records,
 * checkpoints, the time budget, early stopping) is a Callback reading that state. Callbacks run in list
 * order, and each hook awaits the previous callback's.
 */
import type { RegressionSums } from '../../metrics/regression';
import type { TrainPosition } from '../checkpoint';
import type { ModelEma } from '../ema';
import type { Optimizer } from '../optimizer';
import type { TrainRecipe } from '../recipe';
import type { MetricRow, RunDir } from '../run-dir';
import type { Classifier } from '../../convnext/model';

export interface EpochRecord extends MetricRow {
  epoch: number;
  /** Optimizer updates so far. */
  step: number;
  /** Learning rate of the epoch's last update (before layer-decay scales). */
  lr: number;
  trainLoss: number;
  /** Training top-1 on hard labels (null with mixed targets, where it means nothing). */
  trainTop1: number | null;
  trainSeconds: number;
  trainImagesPerSec: number;
  valLoss?: number;
  valTop1?: number;
  valTop5?: number;
  emaLoss?: number;
  emaTop1?: number;
  emaTop5?: number;
  /** Regression: MAE, RMSE and R² over the epoch's training batches (target units, train mode) … */
  trainMae?: number;
  trainRmse?: number;
  trainR2?: number;
  /** … and of the evaluation after it (and of the EMA weights when evaluated). */
  valMae?: number;
  valRmse?: number;
  valR2?: number;
  emaMae?: number;
  emaRmse?: number;
  emaR2?: number;
  evalSeconds?: number;
  evalImagesPerSec?: number;
  /** Cumulative training time (minutes, evaluation excluded). */
  trainMinutes: number;
}

/** The best epoch by the recipe's `monitor` metric (the highest top-1, or the lowest MAE). */
export interface BestEpoch {
  epoch: number;
  metric: string;
  value: number;
}

/** Sums over the epoch in progress (saved in mid-epoch checkpoints, so a resumed epoch reports whole). */
export interface EpochSums {
  loss: number;
  correct: number;
  images: number;
  seconds: number;
  batches: number;
  /** Regression: the sums MAE, RMSE and R² of the epoch's batches follow from. */
  regression?: RegressionSums;
}

export const emptySums = (): EpochSums => ({ loss: 0, correct: 0, images: 0, seconds: 0, batches: 0 });

/** The state of a run: what the loop updates, what callbacks read, and what a checkpoint saves. */
export interface TrainState {
  readonly recipe: TrainRecipe;
  readonly model: Classifier;
  readonly optimizer: Optimizer;
  readonly ema?: ModelEma;
  readonly run?: RunDir;
  /** Logs a line, to the run's log.txt too. */
  readonly say: (line: string) => void;
  /** Micro-batches per update. */
  readonly accum: number;
  readonly updatesPerEpoch: number;
  /** epochs × updatesPerEpoch: the schedule's length unless a time budget shortens it. */
  readonly maxUpdates: number;
  /** Where the run stands: the epoch in progress and the batches of it done. */
  position: TrainPosition;
  /** The schedule's length in updates: maxUpdates, or the budget's latest plan. */
  plannedUpdates: number;
  schedules: { lr: Float64Array; wd?: Float64Array };
  /** Learning rate of the latest update. */
  lr: number;
  sums: EpochSums;
  history: EpochRecord[];
  best?: BestEpoch;
  /** Seconds of the finished epochs' training (evaluation excluded). */
  trainSeconds: number;
  /** Set by a callback in onBatchEnd: the epoch ends after this batch. */
  endEpoch: boolean;
  /** The abort signal stopped training mid-epoch (the `last` checkpoint holds the position). */
  interrupted: boolean;
  /** A callback ended training after an epoch. */
  stoppedEarly: boolean;
}

/** The micro-batch just done. */
export interface BatchEnd {
  loss: number;
  /** Whether it completed an optimizer update. */
  update: boolean;
}

export interface Callback {
  /** Before the first epoch, after a resume. */
  onTrainBegin?(s: TrainState): void | Promise<void>;
  onEpochBegin?(s: TrainState): void | Promise<void>;
  /** After every micro-batch; may set `endEpoch`. */
  onBatchEnd?(s: TrainState, batch: BatchEnd): void | Promise<void>;
  /** After an epoch's last update (not when interrupted), before its evaluation. */
  onEpochTrained?(s: TrainState): void | Promise<void>;
  /** After the epoch's record (with its evaluation) joined the history; may set `stoppedEarly`. */
  onEpochEnd?(s: TrainState, record: EpochRecord): void | Promise<void>;
  /** After the last epoch, when training did not fail. */
  onTrainEnd?(s: TrainState): void | Promise<void>;
  /** Releases what the callback holds; always called, also when training fails. */
  close?(): void;
}

export class CallbackList {
  constructor(private readonly callbacks: readonly Callback[]) {}

  async onTrainBegin(s: TrainState): Promise<void> {
    for (const c of this.callbacks) await c.onTrainBegin?.(s);
  }

  async onEpochBegin(s: TrainState): Promise<void> {
    for (const c of this.callbacks) await c.onEpochBegin?.(s);
  }

  async onBatchEnd(s: TrainState, batch: BatchEnd): Promise<void> {
    for (const c of this.callbacks) await c.onBatchEnd?.(s, batch);
  }

  async onEpochTrained(s: TrainState): Promise<void> {
    for (const c of this.callbacks) await c.onEpochTrained?.(s);
  }

  async onEpochEnd(s: TrainState, record: EpochRecord): Promise<void> {
    for (const c of this.callbacks) await c.onEpochEnd?.(s, record);
  }

  async onTrainEnd(s: TrainState): Promise<void> {
    for (const c of this.callbacks) await c.onTrainEnd?.(s);
  }

  close(): void {
    for (const c of this.callbacks) c.close?.();
  }
}
