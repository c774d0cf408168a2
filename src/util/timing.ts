/**
 * The one timing module: a lap stopwatch (the trainer's seconds per batch), a pausable images-per-second
 * timer (evaluation, the input pipeline) and the measurement of repeated calls that the benchmark and the
 * notebooks' inference timing share: untimed warm-up calls, then timed calls until both a minimum count
 * and a minimum time are reached, summarised by the median with its min / max spread. Every clock here is
 * process.hrtime, Node's monotonic one.
 */

const nowNs = (): bigint => process.hrtime.bigint();

/** Seconds from one lap to the next. */
export class Stopwatch {
  private last = nowNs();

  /** Seconds since the previous lap (or since the stopwatch was made). */
  lap(): number {
    const t = nowNs();
    const seconds = Number(t - this.last) / 1e9;
    this.last = t;
    return seconds;
  }
}

export class ThroughputTimer {
  private images = 0;
  private elapsedNs = 0n;
  private started: bigint | null = null;

  start(): void {
    if (this.started === null) this.started = nowNs();
  }

  /** Stops the clock (pauses; start() resumes). */
  stop(): void {
    if (this.started !== null) {
      this.elapsedNs += nowNs() - this.started;
      this.started = null;
    }
  }

  /** Counts images processed. */
  add(images: number): void {
    this.images += images;
  }

  get seconds(): number {
    const running = this.started !== null ? nowNs() - this.started : 0n;
    return Number(this.elapsedNs + running) / 1e9;
  }

  get count(): number {
    return this.images;
  }

  get imagesPerSecond(): number {
    const s = this.seconds;
    return s > 0 ? this.images / s : 0;
  }

  reset(): void {
    this.images = 0;
    this.elapsedNs = 0n;
    this.started = null;
  }
}

export interface TimingOptions {
  /** Untimed calls first (graph warm-up, allocator growth, oneDNN primitive caches). */
  warmup: number;
  /** Timed calls: at least minIters and at least minSeconds of them, at most maxIters. */
  minIters: number;
  maxIters: number;
  minSeconds: number;
}

export interface TimingStats {
  timesMs: number[];
  minMs: number;
  medianMs: number;
  maxMs: number;
  /** Images per second at the median time. */
  imagesPerSecond: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function timingStats(timesMs: number[], imagesPerCall: number): TimingStats {
  const med = median(timesMs);
  return {
    timesMs,
    minMs: Math.min(...timesMs),
    medianMs: med,
    maxMs: Math.max(...timesMs),
    imagesPerSecond: (imagesPerCall * 1000) / med,
  };
}

/** Images per second over the total time of the calls, so that slow calls count in full (a median hides them). */
export function totalImagesPerSecond(imagesPerCall: number, timesMs: readonly number[]): number {
  return (imagesPerCall * timesMs.length * 1000) / timesMs.reduce((a, b) => a + b, 0);
}

/** Whether another timed call is due after `done` of them, begun at `startNs`. */
function moreCalls(done: number, startNs: bigint, o: TimingOptions): boolean {
  return done < o.maxIters && (done < o.minIters || Number(nowNs() - startNs) / 1e6 < o.minSeconds * 1000);
}

/** Milliseconds of each timed call of `step`, which must finish its work before returning (e.g. by reading a value back). */
export async function timeSteps(step: () => void | Promise<void>, o: TimingOptions): Promise<number[]> {
  for (let i = 0; i < o.warmup; i++) await step();
  const times: number[] = [];
  const start = nowNs();
  while (moreCalls(times.length, start, o)) {
    const t = nowNs();
    await step();
    times.push(Number(nowNs() - t) / 1e6);
  }
  return times;
}

/** timeSteps for a synchronous step, for callers that cannot wait (the notebooks' inference timing). */
export function timeStepsSync(step: () => void, o: TimingOptions): number[] {
  for (let i = 0; i < o.warmup; i++) step();
  const times: number[] = [];
  const start = nowNs();
  while (moreCalls(times.length, start, o)) {
    const t = nowNs();
    step();
    times.push(Number(nowNs() - t) / 1e6);
  }
  return times;
}
