/** TensorBoard scalars under the run's events/: loss and learning rate per update, the epoch's metrics per epoch. */
import type { RunDir } from '../run-dir';
import type { BatchEnd, Callback, EpochRecord, TrainState } from './callback';

const EPOCH_SCALARS = [
  'trainLoss', 'valLoss', 'valTop1', 'valTop5', 'emaTop1', 'trainImagesPerSec',
  'trainMae', 'trainRmse', 'trainR2', 'valMae', 'valRmse', 'valR2', 'emaMae',
] as const;

export class TensorBoard implements Callback {
  constructor(private readonly run: RunDir) {}

  onBatchEnd(s: TrainState, batch: BatchEnd): void {
    if (!batch.update) return;
    this.run.scalar('train/loss', batch.loss, s.position.step);
    this.run.scalar('train/lr', s.lr, s.position.step);
  }

  onEpochEnd(_s: TrainState, record: EpochRecord): void {
    for (const k of EPOCH_SCALARS) {
      const v = record[k];
      if (typeof v === 'number') this.run.scalar(`epoch/${k}`, v, record.epoch + 1);
    }
    this.run.flush();
  }
}
