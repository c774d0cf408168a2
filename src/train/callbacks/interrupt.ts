/** Stopping on an abort signal: after the current update, the `last` checkpoint is saved and training returns. */
import { saveTrainCheckpoint } from './checkpoint';
import type { BatchEnd, Callback, TrainState } from './callback';

export class Interrupt implements Callback {
  constructor(private readonly signal: AbortSignal) {}

  onBatchEnd(s: TrainState, batch: BatchEnd): void {
    // Only between updates: a checkpoint cannot hold a half-accumulated gradient.
    if (!batch.update || !this.signal.aborted) return;
    saveTrainCheckpoint(s, 'last', s.sums);
    s.interrupted = true;
    s.endEpoch = true;
    s.say(`interrupted at epoch ${s.position.epoch}, batch ${s.position.batchInEpoch}; saved the last checkpoint`);
  }
}
