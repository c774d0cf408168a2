/** Timing loops and summary statistics shared by the TypeScript and PyTorch sides of the bench. */

export interface TimingOptions {
  /** Untimed calls first (graph warm-up, allocator growth, oneDNN primitive caches). */
  warmup: number;
  /** Timed calls: at least minIters and at least minSeconds of them, at most maxIters. */
  minIters: number;
  maxIters: number;
  minSeconds: number;
}

export interface Stats {
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

export function stats(timesMs: number[], imagesPerCall: number): Stats {
  const med = median(timesMs);
  return {
    timesMs,
    minMs: Math.min(...timesMs),
    medianMs: med,
    maxMs: Math.max(...timesMs),
    imagesPerSecond: (imagesPerCall * 1000) / med,
  };
}

/** Times `step` (which must finish its work before returning, e.g. by reading a value back). */
export async function timeSteps(step: () => void | Promise<void>, o: TimingOptions): Promise<number[]> {
  for (let i = 0; i < o.warmup; i++) await step();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < o.maxIters && (times.length < o.minIters || performance.now() - start < o.minSeconds * 1000)) {
    const t = performance.now();
    await step();
    times.push(performance.now() - t);
  }
  return times;
}
