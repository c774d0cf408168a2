/**
 * Inference speed of registry models on random images, measured with the benchmark's own timing code
 * (util/timing: untimed warm-up calls, then timed calls until both a minimum count and a minimum time are
 * reached, summarised by the median with its min / max spread), in rounds: with several rounds every model
 * takes its turn once per round, so the machine's drift over minutes falls on all models alike instead of on
 * whichever ran last. The 1-minute load average is read as each round begins, so a table can show how busy
 * the machine was. Notebook 01's family and Transformer sections use it.
 */
import * as os from 'os';
import { tf } from '../backend';
import { type Classifier, createModel } from '../convnext';
import { type TimingOptions, type TimingStats, timeStepsSync, timingStats } from '../util/timing';

export interface SpeedPlan {
  /** Registry names. */
  models: string[];
  /** Input height and width in pixels. */
  size: number;
  batches: number[];
  /** Passes through every model and batch size; each round runs `timing` (warm-up included) once per case. */
  rounds: number;
  timing: TimingOptions;
}

export interface SpeedResult {
  model: string;
  size: number;
  batchSize: number;
  /** Over the timed calls of all rounds. */
  stats: TimingStats;
  /** 1-minute load average as each round of this case began. */
  load: number[];
}

/** The images/s of the slowest and the fastest timed call: [min, max]. */
export function imagesPerSecondRange(r: SpeedResult): [number, number] {
  return [(r.batchSize * 1000) / r.stats.maxMs, (r.batchSize * 1000) / r.stats.minMs];
}

/** "58.1 (55.0–61.2)": the median with the min–max range. */
export function medianRange(median: number, min: number, max: number, digits = 1): string {
  const f = (x: number) => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return `${f(median)} (${f(min)}–${f(max)})`;
}

/** "4.02–7.84" (or one figure): the range of the load averages read while measuring. */
export function loadRange(loads: readonly number[]): string {
  if (loads.length === 0) return '—';
  const lo = Math.min(...loads);
  const hi = Math.max(...loads);
  return lo.toFixed(2) === hi.toFixed(2) ? lo.toFixed(2) : `${lo.toFixed(2)}–${hi.toFixed(2)}`;
}

/** Every load average read in a set of results. */
export function allLoads(results: readonly SpeedResult[]): number[] {
  return results.flatMap((r) => r.load);
}

/** One forward pass in eval mode, synchronised by reading the logits back. */
function forwardOnce(model: Classifier, x: tf.Tensor4D): void {
  const logits = tf.tidy(() => model.forward(x));
  logits.dataSync();
  logits.dispose();
}

/**
 * Times every model of `plan` at every batch size (see the file's comment); throws if the runs leaked
 * tensors. With one round each model is built, timed and disposed in turn; with more, all are built first.
 */
export function measureSpeeds(plan: SpeedPlan, create: (name: string) => Classifier = (n) => createModel(n)): SpeedResult[] {
  if (!(plan.rounds >= 1 && plan.size >= 1 && plan.batches.every((b) => b >= 1))) {
    throw new Error(`rounds, size and batch sizes must be at least 1 (got ${plan.rounds}, ${plan.size}, ${plan.batches.join(', ')})`);
  }
  const before = tf.memory().numTensors;
  const times = new Map<string, { ms: number[]; load: number[] }>();
  const key = (model: string, batch: number) => `${model}@${batch}`;
  const inputs = new Map(plan.batches.map((b) => [b, tf.randomNormal([b, plan.size, plan.size, 3]) as tf.Tensor4D]));
  const timeModel = (name: string, model: Classifier) => {
    const wasTraining = model.training;
    model.eval();
    try {
      for (const b of plan.batches) {
        const k = key(name, b);
        const entry = times.get(k) ?? { ms: [], load: [] };
        entry.load.push(os.loadavg()[0]);
        entry.ms.push(...timeStepsSync(() => forwardOnce(model, inputs.get(b)!), plan.timing));
        times.set(k, entry);
      }
    } finally {
      model.train(wasTraining);
    }
  };
  try {
    if (plan.rounds === 1) {
      for (const name of plan.models) {
        const model = create(name);
        try {
          timeModel(name, model);
        } finally {
          model.dispose();
        }
      }
    } else {
      const models: Array<[string, Classifier]> = [];
      try {
        for (const name of plan.models) models.push([name, create(name)]);
        for (let round = 0; round < plan.rounds; round++) {
          for (const [name, model] of models) timeModel(name, model);
        }
      } finally {
        for (const [, model] of models) model.dispose();
      }
    }
  } finally {
    for (const x of inputs.values()) x.dispose();
  }
  if (tf.memory().numTensors !== before) throw new Error('the throughput runs leaked tensors');
  return plan.models.flatMap((model) => plan.batches.map((batchSize) => {
    const t = times.get(key(model, batchSize))!;
    return { model, size: plan.size, batchSize, stats: timingStats(t.ms, batchSize), load: t.load };
  }));
}
