/**
 * `budgetSchedule`: the cosine schedules fitted to `maxTrainMinutes` (src/train/budget.ts). After each epoch
 * the run's length in updates is planned anew from that epoch's speed and the schedules are rebuilt to end
 * there; within an epoch, training stops at the first update past the plan or the budget.
 */
import { planBudgetUpdates } from '../budget';
import { recipeSchedules } from '../schedule';
import type { BatchEnd, Callback, TrainState } from './callback';

export class BudgetSchedule implements Callback {
  private readonly budgetSeconds: number;
  /** Where this session's part of the epoch began: a resumed epoch's sums include the time before the restart. */
  private startBatch = 0;
  private startSeconds = 0;

  constructor(private readonly maxTrainMinutes: number) {
    this.budgetSeconds = 60 * maxTrainMinutes;
  }

  onEpochBegin(s: TrainState): void {
    this.startBatch = s.position.batchInEpoch;
    this.startSeconds = s.sums.seconds;
  }

  onBatchEnd(s: TrainState, batch: BatchEnd): void {
    if (batch.update && (s.position.step >= s.plannedUpdates || s.trainSeconds + s.sums.seconds >= this.budgetSeconds)) s.endEpoch = true;
  }

  onEpochTrained(s: TrainState): void {
    const pos = s.position;
    const recentUpdates = (pos.batchInEpoch - this.startBatch) / s.accum;
    const recentSeconds = s.sums.seconds - this.startSeconds;
    const before = s.plannedUpdates;
    s.plannedUpdates = planBudgetUpdates({
      budgetSeconds: this.budgetSeconds, usedSeconds: s.trainSeconds, doneUpdates: pos.step, maxUpdates: s.maxUpdates, recentUpdates, recentSeconds,
    });
    if (s.plannedUpdates !== before) s.schedules = recipeSchedules(s.recipe, s.updatesPerEpoch, s.plannedUpdates);
    if (pos.step >= s.maxUpdates) return;
    s.say(pos.step >= s.plannedUpdates
      ? `stopping after ${pos.step} updates: the ${this.maxTrainMinutes}-minute budget is spent (${(s.trainSeconds / 60).toFixed(1)} min)`
      : `budget: ${s.plannedUpdates} updates (${(s.plannedUpdates / s.updatesPerEpoch).toFixed(2)} epochs) end the schedule at ` +
        `${this.maxTrainMinutes} min at ${(recentUpdates / recentSeconds).toFixed(2)} updates/s`);
  }
}
