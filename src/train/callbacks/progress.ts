/** The console side of training: a progress bar over each epoch's batches, and one summary line per epoch. */
import { Progress } from '../progress';
import type { Callback, EpochRecord, TrainState } from './callback';

export class ProgressLogger implements Callback {
  private bar?: Progress;

  constructor(private readonly enabled?: boolean) {}

  onEpochBegin(s: TrainState): void {
    this.bar = new Progress({
      label: `epoch ${s.position.epoch + 1}/${s.recipe.epochs}`, total: s.updatesPerEpoch * s.accum, enabled: this.enabled, log: s.say,
    });
  }

  onBatchEnd(s: TrainState): void {
    const { sums } = s;
    this.bar?.update(s.position.batchInEpoch, { loss: sums.loss / sums.images, lr: s.lr, 'img/s': sums.images / sums.seconds });
  }

  /** The bar goes before evaluation draws its own. */
  onEpochTrained(): void {
    this.close();
  }

  onEpochEnd(s: TrainState, record: EpochRecord): void {
    s.say(epochLine(record, s.recipe.epochs));
  }

  close(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

function epochLine(r: EpochRecord, epochs: number): string {
  const pct = (v?: number | null): string => (typeof v === 'number' ? `${(100 * v).toFixed(2)}%` : '-');
  let s = `epoch ${r.epoch + 1}/${epochs}: loss ${r.trainLoss.toFixed(4)}`;
  if (r.trainTop1 !== null) s += ` train ${pct(r.trainTop1)}`;
  if (r.valTop1 !== undefined) s += ` | val loss ${r.valLoss!.toFixed(4)} top1 ${pct(r.valTop1)} top5 ${pct(r.valTop5)}`;
  if (r.emaTop1 !== undefined) s += ` | ema top1 ${pct(r.emaTop1)}`;
  s += ` | ${r.trainImagesPerSec.toFixed(0)} img/s, ${r.trainMinutes.toFixed(1)} min`;
  return s;
}
