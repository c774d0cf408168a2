/**
 * Fitting the learning-rate schedule to a wall-clock budget (`budgetSchedule`): a cosine schedule planned
 * for a fixed number of epochs either ends early, when the budget runs out first, or leaves minutes unused.
 * Instead, after each epoch the schedule's length is planned anew from that epoch's speed, so that its
 * last update lands at the budget on whatever machine runs it ("budgeted training", Li et al., ICLR 2020).
 */

export interface BudgetPlanInput {
  budgetSeconds: number;
  /** Training seconds used so far (evaluation excluded). */
  usedSeconds: number;
  /** Updates done so far. */
  doneUpdates: number;
  /** Updates and seconds of the last epoch: the speed the rest of the run is expected to keep. */
  recentUpdates: number;
  recentSeconds: number;
  /** The recipe's epochs × updates per epoch: the plan never goes past it. */
  maxUpdates: number;
}

/** Total updates of the run: those done plus as many as the time left holds at the recent speed. */
export function planBudgetUpdates(o: BudgetPlanInput): number {
  if (!(o.recentUpdates > 0 && o.recentSeconds > 0)) return Math.min(o.maxUpdates, o.doneUpdates);
  const left = Math.max(0, o.budgetSeconds - o.usedSeconds);
  return Math.min(o.maxUpdates, o.doneUpdates + Math.floor((left * o.recentUpdates) / o.recentSeconds));
}
