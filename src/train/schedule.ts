/**
 * Per-iteration schedules, as the official ConvNeXt `utils.cosine_scheduler`: a linear warmup over
 * `warmupEpochs * itersPerEpoch` updates (np.linspace from startWarmupValue to base, both ends included),
 * then a half cosine from base to final over the remaining updates, i ∈ [0, n):
 *   value(i) = final + (base − final)/2 · (1 + cos(π i / n)).
 * The learning rate and (optionally) the weight decay each get one. An iteration is one optimizer update
 * (with gradient accumulation, `accumSteps` micro-batches).
 */
import type { TrainRecipe } from './recipe';

export interface CosineScheduleOptions {
  base: number;
  final: number;
  epochs: number;
  itersPerEpoch: number;
  warmupEpochs?: number;
  /** Overrides warmupEpochs when > 0, as the official `--warmup_steps`. */
  warmupSteps?: number;
  startWarmupValue?: number;
  /** Length in updates, when it is not `epochs * itersPerEpoch` (a schedule fitted to a time budget). */
  totalIters?: number;
}

/** Warmup length in updates: warmupSteps when > 0, else warmupEpochs of itersPerEpoch. */
export function warmupIters(o: Pick<CosineScheduleOptions, 'itersPerEpoch' | 'warmupEpochs' | 'warmupSteps'>): number {
  return (o.warmupSteps ?? -1) > 0 ? o.warmupSteps! : Math.round((o.warmupEpochs ?? 0) * o.itersPerEpoch);
}

export function cosineSchedule(o: CosineScheduleOptions): Float64Array {
  const total = o.totalIters ?? o.epochs * o.itersPerEpoch;
  if (!Number.isInteger(total) || total <= 0) {
    throw new Error(`schedule needs a positive whole number of updates, got ${o.totalIters ?? `${o.epochs} epochs × ${o.itersPerEpoch}`}`);
  }
  const warmupEpochs = o.warmupEpochs ?? 0;
  const warmup = warmupIters(o);
  if (warmup > total) throw new Error(`warmup (${warmup} updates) is longer than the schedule (${total})`);
  const start = o.startWarmupValue ?? 0;
  const out = new Float64Array(total);
  // (The official code needs warmup_epochs > 0 for warmup_steps to take effect; here either suffices.)
  const doWarmup = warmupEpochs > 0 || (o.warmupSteps ?? -1) > 0;
  const w = doWarmup ? warmup : 0;
  for (let i = 0; i < w; i++) out[i] = w === 1 ? start : start + ((o.base - start) * i) / (w - 1);
  const n = total - w;
  for (let i = 0; i < n; i++) out[w + i] = o.final + 0.5 * (o.base - o.final) * (1 + Math.cos((Math.PI * i) / n));
  return out;
}

/** A schedule's value at an update, holding the last value past the end (a resumed run can overshoot by one). */
export function scheduleAt(schedule: Float64Array, it: number): number {
  return schedule[Math.min(Math.max(it, 0), schedule.length - 1)];
}

/**
 * The recipe's learning-rate schedule, and its weight-decay schedule when it has one, over `totalUpdates`
 * (the recipe's epochs, or fewer when fitted to a time budget; never shorter than the warmup).
 */
export function recipeSchedules(r: TrainRecipe, updatesPerEpoch: number, totalUpdates: number): { lr: Float64Array; wd?: Float64Array } {
  const warmup = warmupIters({ itersPerEpoch: updatesPerEpoch, warmupEpochs: r.warmupEpochs, warmupSteps: r.warmupSteps });
  const lr = cosineSchedule({
    base: r.lr, final: r.minLr, epochs: r.epochs, itersPerEpoch: updatesPerEpoch, totalIters: Math.max(totalUpdates, warmup, 1),
    warmupEpochs: r.warmupEpochs, warmupSteps: r.warmupSteps, startWarmupValue: r.startWarmupLr,
  });
  const wd = r.weightDecayEnd === undefined ? undefined : cosineSchedule({
    base: r.weightDecay, final: r.weightDecayEnd, epochs: r.epochs, itersPerEpoch: updatesPerEpoch, totalIters: Math.max(totalUpdates, 1),
  });
  return { lr, wd };
}
