/**
 * Seeded random numbers for the input pipeline. Every random draw of an epoch is derived from
 * (seed, epoch, index) by hashing, never from a shared stream, so that a run resumed at any batch of any
 * epoch sees exactly the draws it would have seen without the interruption, whatever the prefetch depth
 * or completion order of the asynchronous decodes.
 */

/** 32-bit integer mixing (the murmur3 finaliser); spreads nearby inputs over the whole range. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hashes a list of integers (seed, epoch, index, stream tag …) into one 32-bit seed. */
export function deriveSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    if (!Number.isInteger(p)) throw new Error(`deriveSeed: parts must be integers, got ${p}`);
    // Fold values beyond 32 bits in too, so seed 2^32 + 1 is not seed 1.
    h = mix32(h ^ (p >>> 0));
    h = mix32(h ^ Math.floor(p / 2 ** 32));
  }
  return h;
}

export interface RngState {
  words: [number, number, number, number];
  spare: number | null;
}

/** Streams tagging which part of the pipeline a derived generator belongs to. */
export const Stream = { shuffle: 1, sample: 2, batch: 3 } as const;

/**
 * A small, fast generator (sfc32) with the distributions the augmentations need. Its whole state (four
 * 32-bit words and Box–Muller's spare normal) is exposed by `state()` / `Rng.fromState()`.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.a = mix32(seed ^ 0x243f6a88);
    this.b = mix32(seed ^ 0x85a308d3);
    this.c = mix32(seed ^ 0x13198a2e);
    this.d = 1;
    // Warm up so that close seeds diverge immediately.
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  static fromState(s: RngState): Rng {
    const r = new Rng(0);
    [r.a, r.b, r.c, r.d] = s.words;
    r.spare = s.spare;
    return r;
  }

  state(): RngState {
    return { words: [this.a, this.b, this.c, this.d], spare: this.spare };
  }

  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  random(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.random();
  }

  /** Integer in [lo, hi), like numpy.random.randint / torch.randint. */
  int(lo: number, hi: number): number {
    if (hi <= lo) throw new Error(`Rng.int: empty range [${lo}, ${hi})`);
    return lo + Math.floor(this.random() * (hi - lo));
  }

  /** True with probability p. */
  bernoulli(p: number): boolean {
    return this.random() < p;
  }

  /** Standard normal (Box–Muller; each pair of uniforms gives two normals, the second kept for the next call). */
  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return mean + std * z;
    }
    let u = this.random();
    while (u === 0) u = this.random();
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** Gamma(shape, 1) by Marsaglia–Tsang, with the shape < 1 boost. */
  gamma(shape: number): number {
    if (shape <= 0) throw new Error(`Rng.gamma: shape must be > 0, got ${shape}`);
    if (shape < 1) return this.gamma(shape + 1) * Math.pow(this.random() || Number.MIN_VALUE, 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.random();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** Beta(alpha, beta), as numpy.random.beta (the mixup / cutmix lambda). */
  beta(alpha: number, beta: number): number {
    const x = this.gamma(alpha);
    const y = this.gamma(beta);
    return x / (x + y);
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** One element of `items`, uniformly. */
  choice<T>(items: readonly T[]): T {
    return items[this.int(0, items.length)];
  }
}
