/**
 * Ending training between epochs: when the caller's onEpoch returns 'stop', or (with maxTrainMinutes and no
 * budgetSchedule) when another epoch as long as the last would pass the training-time budget.
 */
import type { Callback, EpochRecord, TrainState } from './callback';

export type OnEpoch = (record: EpochRecord, history: EpochRecord[]) => void | 'stop' | Promise<void | 'stop'>;

export class EarlyStop implements Callback {
  constructor(private readonly onEpoch?: OnEpoch) {}

  async onEpochEnd(s: TrainState, record: EpochRecord): Promise<void> {
    const r = s.recipe;
    if ((await this.onEpoch?.(record, s.history)) === 'stop') {
      s.stoppedEarly = true;
      s.say(`stopped by onEpoch after epoch ${record.epoch}`);
      return;
    }
    const epochSeconds = s.sums.seconds;
    if (r.maxTrainMinutes !== undefined && !r.budgetSchedule && record.epoch + 1 < r.epochs &&
      s.trainSeconds + epochSeconds > 60 * r.maxTrainMinutes) {
      s.stoppedEarly = true;
      s.say(`stopping after epoch ${record.epoch + 1} of ${r.epochs}: another epoch (~${(epochSeconds / 60).toFixed(1)} min) would pass ` +
        `the ${r.maxTrainMinutes}-minute training budget (${(s.trainSeconds / 60).toFixed(1)} min used)`);
    }
  }
}
