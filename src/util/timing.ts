/** Images-per-second timing for training, evaluation and the input pipeline. */

export class ThroughputTimer {
  private images = 0;
  private elapsedNs = 0n;
  private started: bigint | null = null;

  start(): void {
    if (this.started === null) this.started = process.hrtime.bigint();
  }

  /** Stops the clock (pauses; start() resumes). */
  stop(): void {
    if (this.started !== null) {
      this.elapsedNs += process.hrtime.bigint() - this.started;
      this.started = null;
    }
  }

  /** Counts images processed. */
  add(images: number): void {
    this.images += images;
  }

  get seconds(): number {
    const running = this.started !== null ? process.hrtime.bigint() - this.started : 0n;
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
