/**
 * The run's checkpoints (src/train/checkpoint.ts): `last` every `checkpointEverySteps` updates and after every
 * epoch, `best` after an epoch that improved the monitored metric; and resuming from `last`, as Keras's
 * BackupAndRestore does. Besides the tensors a checkpoint carries the records, so a resumed run continues them.
 */
import { tf } from '../../backend';
import { configDiff, configHash, describeChanges, type ConfigChange } from '../config';
import { NonFiniteStateError } from '../engine';
import { findCheckpoint, loadCheckpoint, restoreCheckpoint, saveCheckpoint, type TrainPosition } from '../checkpoint';
import type { TrainRecipe } from '../recipe';
import type { BatchEnd, BestEpoch, Callback, EpochRecord, EpochSums, TrainState } from './callback';

/** What a checkpoint carries besides tensors. */
export interface TrainExtra {
  recipe: TrainRecipe;
  history: EpochRecord[];
  best?: BestEpoch;
  /** Sums of the epoch in progress (mid-epoch checkpoints). */
  partial?: EpochSums;
  trainSeconds: number;
  /** The schedule's length in updates when it is fitted to a time budget. */
  plannedUpdates?: number;
}

/** Names of the model's parameters (and `ema` for the EMA weights) holding NaN or ±Infinity. */
export function nonFiniteWeights(s: Pick<TrainState, 'model' | 'ema'>): string[] {
  const named = s.model.namedParameters();
  const finite = tf.tidy(() => tf.stack(named.map(([, v]) => tf.all(tf.isFinite(v)))).dataSync());
  const bad = named.filter((_, i) => !finite[i]).map(([n]) => n);
  if (s.ema && Object.values(s.ema.state()).some((a) => !a.every(Number.isFinite))) bad.push('ema');
  return bad;
}

/** Throws NonFiniteStateError when any weight is NaN or infinite: such a state is never saved. */
export function assertFiniteWeights(s: Pick<TrainState, 'model' | 'ema' | 'position'>): void {
  const bad = nonFiniteWeights(s);
  if (bad.length > 0) {
    const shown = bad.slice(0, 5).join(', ') + (bad.length > 5 ? `, … (${bad.length - 5} more)` : '');
    throw new NonFiniteStateError(`weights are not finite (${shown})`, s.position.epoch, s.position.step);
  }
}

/**
 * Saves checkpoint `name` of the run at its current position (nothing without a run folder). Weights that
 * are not finite are refused (NonFiniteStateError), so `last` and `best` keep the last finite state.
 */
export function saveTrainCheckpoint(s: TrainState, name: string, partial?: EpochSums): void {
  if (!s.run) return;
  assertFiniteWeights(s);
  saveCheckpoint(s.run.checkpoints, name, {
    model: s.model, optimizer: s.optimizer, ema: s.ema, position: { ...s.position }, seed: s.recipe.seed,
    extra: {
      recipe: s.recipe, history: s.history, best: s.best, partial, trainSeconds: s.trainSeconds, plannedUpdates: s.plannedUpdates,
    } satisfies TrainExtra,
  });
}

/**
 * Restores the run folder's `last` checkpoint into the model, optimizer and EMA, and returns its position and
 * records; undefined when there is none. A checkpoint of another recipe is refused, naming what differs,
 * unless `allowChange` (then the differences are returned in `recipeChanges`).
 */
export function resume(
  s: Pick<TrainState, 'run' | 'recipe' | 'model' | 'optimizer' | 'ema' | 'say'>,
  allowChange = false,
): (TrainExtra & { position: TrainPosition; recipeChanges: ConfigChange[] }) | undefined {
  if (!s.run) throw new Error('resume needs a runDir');
  const dir = findCheckpoint(s.run.checkpoints, 'last');
  if (!dir) {
    s.say(`no checkpoint in ${s.run.checkpoints}; starting from scratch`);
    return undefined;
  }
  const ck = loadCheckpoint<TrainExtra>(dir);
  const saved = ck.meta.extra.recipe;
  const recipeChanges: ConfigChange[] = [];
  if (configHash(saved) !== configHash(s.recipe)) {
    const field = (r: TrainRecipe, k: string): string => JSON.stringify((r as unknown as Record<string, unknown>)[k]);
    const diff = Object.keys({ ...s.recipe, ...saved }).filter((k) => field(s.recipe, k) !== field(saved, k));
    if (!allowChange) throw new Error(`cannot resume ${s.run.dir}: its recipe differs from this one in ${diff.join(', ')}`);
    recipeChanges.push(...configDiff(saved, s.recipe).map((c) => ({ ...c, path: `recipe.${c.path}` })));
    s.say(`resuming with a changed recipe (allowed): ${describeChanges(recipeChanges)}`);
  }
  restoreCheckpoint(ck, s.model, s.optimizer, s.ema);
  const position = ck.meta.position;
  s.say(`resumed from ${dir}: epoch ${position.epoch}, batch ${position.batchInEpoch}, update ${position.step}`);
  return { ...ck.meta.extra, position, recipeChanges };
}

export class Checkpoints implements Callback {
  onBatchEnd(s: TrainState, batch: BatchEnd): void {
    const every = s.recipe.checkpointEverySteps;
    // An epoch that ends here is saved by onEpochEnd.
    if (batch.update && !s.endEpoch && every > 0 && s.position.step % every === 0) saveTrainCheckpoint(s, 'last', s.sums);
  }

  onEpochEnd(s: TrainState, record: EpochRecord): void {
    saveTrainCheckpoint(s, 'last');
    // `best` only ever moves to the epoch that improved on it.
    if (s.best?.epoch === record.epoch) saveTrainCheckpoint(s, 'best');
  }
}
