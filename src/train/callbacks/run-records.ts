/**
 * The run folder's records: config.json, recipe.json and environment.json at the start, metrics.csv /
 * metrics.json after every epoch (rewritten whole, so a resumed run has no duplicates), summary.json at the end.
 */
import { environmentInfo, type RunDir } from '../run-dir';
import type { Callback, TrainState } from './callback';

export class RunRecords implements Callback {
  constructor(private readonly run: RunDir, private readonly config?: unknown) {}

  onTrainBegin(s: TrainState): void {
    if (this.config !== undefined) this.run.writeJson('config.json', this.config);
    this.run.writeJson('recipe.json', s.recipe);
    const pos = s.position;
    this.run.writeJson('environment.json', { ...environmentInfo(), resumedAt: pos.step > 0 ? pos : undefined });
  }

  onEpochEnd(s: TrainState): void {
    this.run.writeMetrics(s.history);
  }

  onTrainEnd(s: TrainState): void {
    const final = s.history[s.history.length - 1];
    if (!final) return;
    this.run.writeJson('summary.json', {
      final, best: s.best, trainMinutes: s.trainSeconds / 60, epochsDone: s.history.length, updates: s.position.step,
      stoppedEarly: s.stoppedEarly,
    });
  }
}
