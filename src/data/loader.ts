/**
 * Batches a Dataset into float32 NHWC tensors, the counterpart of torch's DataLoader + timm's collate.
 *
 * Work per batch: decode (sharp, in libuv's thread pool) → per-sample transform on Uint8 HWC (crop, flip,
 * RandAugment …) → collate + normalise into one Float32Array → batch transform on typed arrays (random
 * erasing, mixup / cutmix, label smoothing) → tensors. Up to `prefetch` batches are prepared ahead while the
 * caller trains on the current one. Tensors are only created when a batch is handed out, so breaking out
 * of an epoch leaks nothing; the caller disposes each Batch's tensors.
 *
 * Determinism: the epoch's order comes from (seed, epoch) and each sample's augmentation draws from
 * (seed, epoch, dataset index), each batch transform's from (seed, epoch, batch index). Nothing depends on
 * decode completion order, so `setEpoch(e, b)` resumes a run exactly at batch b of epoch e.
 */
import { tf } from '../backend';
import type { Dataset, Sample } from './dataset';
import { deriveSeed, Rng, Stream } from './rng';

export interface Batch {
  /** float32 NHWC, normalised. */
  x: tf.Tensor4D;
  /** Soft targets [B, numClasses] (or [B, 1] regression targets). */
  y: tf.Tensor2D;
  /** Hard labels (Int32Array) or regression targets (Float32Array). */
  labels: Int32Array | Float32Array;
  /** Dataset indices of the batch's samples. */
  indices: Int32Array;
}

/** A batch before it becomes tensors: what batch transforms edit in place. */
export interface HostBatch {
  /** float32 NHWC, normalised, length B*H*W*C. */
  x: Float32Array;
  shape: [number, number, number, number];
  /** Row-major [B, yWidth] targets: one-hot (classification) or the target (regression). */
  y: Float32Array;
  yWidth: number;
  labels: Int32Array | Float32Array;
  indices: Int32Array;
}

/** Per-sample transform on Uint8 HWC images; `rng` is private to this sample in this epoch. */
export type SampleTransform = (sample: Sample, rng: Rng) => Sample | Promise<Sample>;
/** Batch-level transform on typed arrays (edits in place); `rng` is private to this batch in this epoch. */
export type BatchTransform = (batch: HostBatch, rng: Rng) => void;

export interface Normalization {
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/** torchvision / timm IMAGENET_DEFAULT_MEAN / STD (the paper's normalisation). */
export const IMAGENET_NORM: Normalization = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
/** CIFAR-10 training-set channel statistics (optional; the paper's fine-tuning recipe keeps ImageNet's). */
export const CIFAR10_NORM: Normalization = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };
/** x / 255 only. */
export const NO_NORM: Normalization = { mean: [0, 0, 0], std: [1, 1, 1] };

export interface LoaderOptions {
  dataset: Dataset;
  batchSize: number;
  /** Reshuffle every epoch (training). Default false. */
  shuffle?: boolean;
  seed?: number;
  /** Drop the last incomplete batch. Default false. */
  dropLast?: boolean;
  transform?: SampleTransform;
  batchTransform?: BatchTransform;
  /** Batches prepared ahead of the one being consumed. Default 2. */
  prefetch?: number;
  /** Width of y: the class count (default dataset.classes.length), or 0 / absent for regression ([B,1]). */
  numClasses?: number;
  /** Per-channel normalisation applied to x / 255. Default ImageNet mean / std. */
  normalize?: Normalization;
}

export class DataLoader implements AsyncIterable<Batch> {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly numClasses: number;
  private readonly opts: LoaderOptions;
  private epoch = 0;
  private startBatch = 0;

  constructor(opts: LoaderOptions) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) {
      throw new Error(`batchSize must be a positive integer, got ${opts.batchSize}`);
    }
    if (opts.prefetch !== undefined && (!Number.isInteger(opts.prefetch) || opts.prefetch < 0)) {
      throw new Error(`prefetch must be a non-negative integer, got ${opts.prefetch}`);
    }
    if (opts.dataset.length === 0) throw new Error('DataLoader: the dataset is empty');
    this.opts = opts;
    this.dataset = opts.dataset;
    this.batchSize = opts.batchSize;
    this.numClasses = opts.numClasses ?? opts.dataset.classes.length;
    if (this.numBatches === 0) {
      throw new Error(`dropLast with batchSize ${opts.batchSize} > ${opts.dataset.length} samples leaves no batch`);
    }
  }

  get numBatches(): number {
    const n = this.dataset.length / this.batchSize;
    return this.opts.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /** Selects the epoch to iterate next (its order and draws), optionally resuming at batch `startBatch`. */
  setEpoch(epoch: number, startBatch = 0): void {
    if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`epoch must be a non-negative integer, got ${epoch}`);
    if (!Number.isInteger(startBatch) || startBatch < 0 || startBatch > this.numBatches) {
      throw new Error(`startBatch must be in [0, ${this.numBatches}], got ${startBatch}`);
    }
    this.epoch = epoch;
    this.startBatch = startBatch;
  }

  /** Dataset indices in this epoch's order. */
  order(epoch = this.epoch): Int32Array {
    const n = this.dataset.length;
    if (!this.opts.shuffle) return Int32Array.from({ length: n }, (_, i) => i);
    return new Rng(deriveSeed(this.opts.seed ?? 0, epoch, Stream.shuffle)).permutation(n);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    const epoch = this.epoch;
    const order = this.order(epoch);
    const ahead = this.opts.prefetch ?? 2;
    const pending: Promise<HostBatch>[] = [];
    let next = this.startBatch;
    const fill = (): void => {
      while (pending.length <= ahead && next < this.numBatches) {
        const p = this.loadBatch(order, epoch, next++);
        // Errors surface when the batch is awaited; this only stops Node flagging them as unhandled meanwhile.
        p.catch(() => undefined);
        pending.push(p);
      }
    };
    fill();
    while (pending.length > 0) {
      const host = await pending.shift()!;
      fill();
      yield toTensors(host);
    }
  }

  /** Decodes, transforms and collates batch `b` of an epoch (no tensors yet). */
  async loadBatch(order: Int32Array, epoch: number, b: number): Promise<HostBatch> {
    const seed = this.opts.seed ?? 0;
    const indices = order.subarray(b * this.batchSize, Math.min(order.length, (b + 1) * this.batchSize));
    const transform = this.opts.transform;
    const samples = await Promise.all(
      Array.from(indices, async (index) => {
        const s = await this.dataset.get(index);
        return transform ? transform(s, new Rng(deriveSeed(seed, epoch, Stream.sample, index))) : s;
      }),
    );
    const host = collate(samples, Int32Array.from(indices), this.numClasses, this.opts.normalize ?? IMAGENET_NORM);
    this.opts.batchTransform?.(host, new Rng(deriveSeed(seed, epoch, Stream.batch, b)));
    return host;
  }
}

/** Stacks same-sized Uint8 HWC samples into a normalised float32 NHWC batch with one-hot / regression y. */
export function collate(samples: Sample[], indices: Int32Array, numClasses: number, norm: Normalization): HostBatch {
  const B = samples.length;
  const { height: H, width: W } = samples[0];
  const hw = H * W;
  for (const s of samples) {
    if (s.height !== H || s.width !== W || s.image.length !== s.height * s.width * 3) {
      throw new Error(
        `cannot batch a ${s.height}x${s.width} image (${s.path ?? 'unnamed'}) with ${H}x${W} ones; ` +
          'add a resize/crop transform',
      );
    }
  }
  // x = (u8 / 255 - mean) / std as one multiply-add per value.
  const [s0, s1, s2] = norm.std.map((s) => 1 / (255 * s));
  const [b0, b1, b2] = norm.mean.map((m, c) => -m / norm.std[c]);
  const x = new Float32Array(B * hw * 3);
  for (let b = 0; b < B; b++) {
    const img = samples[b].image;
    const off = b * hw * 3;
    for (let p = 0; p < hw * 3; p += 3) {
      x[off + p] = img[p] * s0 + b0;
      x[off + p + 1] = img[p + 1] * s1 + b1;
      x[off + p + 2] = img[p + 2] * s2 + b2;
    }
  }
  if (numClasses > 0) {
    const labels = new Int32Array(B);
    const y = new Float32Array(B * numClasses);
    samples.forEach((s, b) => {
      if (!Number.isInteger(s.label) || s.label < 0 || s.label >= numClasses) {
        throw new Error(`label ${s.label} of ${s.path ?? `sample ${indices[b]}`} is not a class index < ${numClasses}`);
      }
      labels[b] = s.label;
      y[b * numClasses + s.label] = 1;
    });
    return { x, shape: [B, H, W, 3], y, yWidth: numClasses, labels, indices };
  }
  const labels = Float32Array.from(samples, (s) => s.label);
  return { x, shape: [B, H, W, 3], y: labels.slice(), yWidth: 1, labels, indices };
}

export function toTensors(host: HostBatch): Batch {
  return {
    x: tf.tensor4d(host.x, host.shape, 'float32'),
    y: tf.tensor2d(host.y, [host.shape[0], host.yWidth], 'float32'),
    labels: host.labels,
    indices: host.indices,
  };
}
