/**
 * The console side of training: progress over each epoch's batches, and one summary line per epoch.
 *
 * On a terminal (stderr a TTY) the progress is a live bar. Elsewhere (piped, `nohup`, `> log`, a scheduler's
 * log file) it is a plain line every 30 seconds of an epoch (`everySeconds`), to the output and the run's
 * log.txt; an epoch shorter than that prints only its summary. A CIFAR-10 epoch of 390 batches writes a few
 * lines, not one per batch.
 */
import { Progress } from '../progress';
import type { Callback, EpochRecord, TrainState } from './callback';

export interface ProgressLoggerOptions {
  /** Draw the live bar; default: whether stderr (where the bar goes) is a terminal. */
  tty?: boolean;
  /** Seconds between the plain lines off a terminal; default 30. */
  everySeconds?: number;
  /** Clock in milliseconds (tests). */
  now?: () => number;
}

export class ProgressLogger implements Callback {
  private bar?: Progress;
  /** Off a terminal: when the epoch began and when its last line was written. */
  private plain?: { last: number };

  constructor(private readonly enabled?: boolean, private readonly o: ProgressLoggerOptions = {}) {}

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  onEpochBegin(s: TrainState): void {
    if (this.enabled === false) return;
    if (this.o.tty ?? process.stderr.isTTY === true) {
      this.bar = new Progress({ label: label(s), total: total(s), log: s.say });
    } else {
      this.plain = { last: this.now() };
    }
  }

  onBatchEnd(s: TrainState): void {
    const { sums } = s;
    const status = { loss: sums.loss / sums.images, lr: s.lr, 'img/s': sums.images / sums.seconds };
    this.bar?.update(s.position.batchInEpoch, status);
    if (this.plain) {
      const now = this.now();
      if (now - this.plain.last < (this.o.everySeconds ?? 30) * 1000) return;
      this.plain.last = now;
      const done = s.position.batchInEpoch;
      s.say(`${label(s)} ${done}/${total(s)} (${Math.floor((100 * done) / total(s))}%): loss ${status.loss.toFixed(4)}, ` +
        `lr ${status.lr.toExponential(2)}, ${status['img/s'].toFixed(0)} img/s, ${sums.seconds.toFixed(0)}s`);
    }
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
    this.plain = undefined;
  }
}

const label = (s: TrainState): string => `epoch ${s.position.epoch + 1}/${s.recipe.epochs}`;
const total = (s: TrainState): number => s.updatesPerEpoch * s.accum;

function epochLine(r: EpochRecord, epochs: number): string {
  const pct = (v?: number | null): string => (typeof v === 'number' ? `${(100 * v).toFixed(2)}%` : '-');
  let s = `epoch ${r.epoch + 1}/${epochs}: loss ${r.trainLoss.toFixed(4)}`;
  if (r.trainTop1 !== null) s += ` train ${pct(r.trainTop1)}`;
  if (r.trainMae !== undefined) s += ` train MAE ${r.trainMae.toFixed(2)}`;
  if (r.valMae !== undefined) s += ` | val loss ${r.valLoss!.toFixed(4)} MAE ${r.valMae.toFixed(2)} RMSE ${r.valRmse!.toFixed(2)} R² ${r.valR2!.toFixed(3)}`;
  if (r.emaMae !== undefined) s += ` | ema MAE ${r.emaMae.toFixed(2)}`;
  if (r.valTop1 !== undefined) s += ` | val loss ${r.valLoss!.toFixed(4)} top1 ${pct(r.valTop1)} top5 ${pct(r.valTop5)}`;
  if (r.emaTop1 !== undefined) s += ` | ema top1 ${pct(r.emaTop1)}`;
  s += ` | ${r.trainImagesPerSec.toFixed(0)} img/s, ${r.trainMinutes.toFixed(1)} min`;
  return s;
}
