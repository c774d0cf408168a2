/**
 * Batches a Dataset into float32 NHWC tensors, the counterpart of torch's DataLoader + timm's collate.
 *
 * Work per batch: decode (sharp, in libuv's thread pool) → per-sample transform on Uint8 HWC (crop, flip,
 * RandAugment …) → collate + normalise into one Float32Array → batch transform on typed arrays (random
 * erasing, mixup / cutmix, label smoothing) → tensors. Up to `prefetch` batches are prepared ahead while the
 * caller trains on the current one; with `workers` the transforms and collate run in worker threads
 * (./transform-pool), since on the main thread they would wait for each synchronous training step.
 * Tensors are only created when a batch is handed out, so breaking out of an epoch leaks nothing; the
 * caller disposes each Batch's tensors. Workers stay up from one epoch to the next (as torch's
 * persistent_workers): starting one costs ~0.2 s and ~0.5 s of CPU to load and warm up the transform code,
 * every epoch, on the cores the training step needs. They end `workerIdleMs` after the last epoch, when an
 * epoch is left with batches still in flight, or on `close()`.
 *
 * Determinism: the epoch's order comes from (seed, epoch) and each sample's augmentation draws from
 * (seed, epoch, dataset index), each batch transform's from (seed, epoch, batch index). Nothing depends on
 * decode completion order, so `setEpoch(e, b)` resumes a run exactly at batch b of epoch e.
 */
import { tf } from '../backend';
import { batchSpecOf, sampleSpecOf } from '../augment/spec';
import { finishBatch, transformSample, type BatchRecipe } from './collate';
import type { Dataset } from './dataset';
import { IMAGENET_NORM, type Normalization } from '../image/normalize';
import { deriveSeed, Rng, Stream } from '../util/rng';
import { defaultWorkers, TransformPool, type WorkerSetup } from './transform-pool';
import type { BatchTransform, HostBatch, SampleTransform } from '../image/batch';


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
  /**
   * Worker threads that transform and collate batches while the caller trains; 0 runs them in-process.
   * They need transforms built by the augment builders (buildTrainTransform, buildEvalTransform,
   * buildBatchTransform …), which workers can rebuild. Default: defaultWorkers() when there is such a
   * transform and no other, else 0.
   */
  workers?: number;
  /** How long workers wait for the next epoch after one finishes, in ms; 0 ends them with each epoch. Default 10 s. */
  workerIdleMs?: number;
}

const DEFAULT_WORKER_IDLE_MS = 10_000;

export class DataLoader implements AsyncIterable<Batch> {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly numClasses: number;
  /** Worker threads (0: transforms run in-process). */
  readonly workers: number;
  private readonly opts: LoaderOptions;
  private readonly recipe: BatchRecipe;
  private epoch = 0;
  private startBatch = 0;
  private pool?: TransformPool;
  private idleTimer?: NodeJS.Timeout;
  private iterating = 0;

  constructor(opts: LoaderOptions) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) {
      throw new Error(`batchSize must be a positive integer, got ${opts.batchSize}`);
    }
    if (opts.prefetch !== undefined && (!Number.isInteger(opts.prefetch) || opts.prefetch < 0)) {
      throw new Error(`prefetch must be a non-negative integer, got ${opts.prefetch}`);
    }
    if (opts.workers !== undefined && (!Number.isInteger(opts.workers) || opts.workers < 0)) {
      throw new Error(`workers must be a non-negative integer, got ${opts.workers}`);
    }
    if (opts.workerIdleMs !== undefined && !(opts.workerIdleMs >= 0)) {
      throw new Error(`workerIdleMs must be >= 0, got ${opts.workerIdleMs}`);
    }
    if (opts.dataset.length === 0) throw new Error('DataLoader: the dataset is empty');
    this.opts = opts;
    this.dataset = opts.dataset;
    this.batchSize = opts.batchSize;
    this.numClasses = opts.numClasses ?? opts.dataset.classes.length;
    if (this.numBatches === 0) {
      throw new Error(`dropLast with batchSize ${opts.batchSize} > ${opts.dataset.length} samples leaves no batch`);
    }
    this.recipe = {
      seed: opts.seed ?? 0, numClasses: this.numClasses, normalize: opts.normalize ?? IMAGENET_NORM,
      transform: opts.transform, batchTransform: opts.batchTransform,
    };
    this.workers = this.resolveWorkers(opts);
  }

  /** The worker count, checking that workers can rebuild the transforms. */
  private resolveWorkers(opts: LoaderOptions): number {
    const sample = opts.transform && sampleSpecOf(opts.transform);
    const batch = opts.batchTransform && batchSpecOf(opts.batchTransform);
    const portable = (!opts.transform || sample) && (!opts.batchTransform || batch);
    if (opts.workers === undefined) return portable && (sample || batch) ? defaultWorkers() : 0;
    if (opts.workers > 0 && !portable) {
      throw new Error(
        'DataLoader workers need transforms built by the augment builders (buildTrainTransform, buildEvalTransform, ' +
          'buildBatchTransform …): other functions cannot be sent to a thread. Pass workers: 0',
      );
    }
    return opts.workers;
  }

  /** What a worker needs to rebuild this loader's transforms. */
  private workerSetup(): WorkerSetup {
    const { seed, numClasses, normalize, transform, batchTransform } = this.recipe;
    return {
      seed, numClasses, normalize,
      sample: transform && sampleSpecOf(transform), batch: batchTransform && batchSpecOf(batchTransform),
    };
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
    const pool = this.takePool();
    const pending: Promise<HostBatch>[] = [];
    let next = this.startBatch;
    const fill = (): void => {
      while (pending.length <= ahead && next < this.numBatches) {
        const p = this.loadBatch(order, epoch, next++, pool);
        // Errors surface when the batch is awaited; this only stops Node flagging them as unhandled meanwhile.
        p.catch(() => undefined);
        pending.push(p);
      }
    };
    try {
      fill();
      while (pending.length > 0) {
        const host = await pending.shift()!;
        fill();
        yield toTensors(host);
      }
    } finally {
      await this.releasePool(pending.length > 0);
    }
  }

  /** Ends the worker threads now (a later iteration starts new ones). */
  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }

  private takePool(): TransformPool | undefined {
    if (this.workers === 0) return undefined;
    clearTimeout(this.idleTimer);
    this.iterating++;
    if (!this.pool?.usable) this.pool = new TransformPool(this.workers, this.workerSetup());
    return this.pool;
  }

  /** After an iteration: batches still in flight belong to a cut-short epoch, and go with their workers. */
  private async releasePool(inFlight: boolean): Promise<void> {
    if (this.workers === 0 || --this.iterating > 0) return;
    const idleMs = this.opts.workerIdleMs ?? DEFAULT_WORKER_IDLE_MS;
    if (inFlight || idleMs === 0) return this.close();
    // Unref'd: waiting workers never keep the process alive.
    this.idleTimer = setTimeout(() => void this.close(), idleMs).unref();
  }

  /** Decodes, transforms and collates batch `b` of an epoch (no tensors yet), in `pool` when given. */
  async loadBatch(order: Int32Array, epoch: number, b: number, pool?: TransformPool): Promise<HostBatch> {
    const indices = Int32Array.from(order.subarray(b * this.batchSize, Math.min(order.length, (b + 1) * this.batchSize)));
    if (pool) return pool.run(await Promise.all(Array.from(indices, (i) => this.dataset.get(i))), indices, { epoch, b });
    const samples = await Promise.all(
      Array.from(indices, async (index) => transformSample(await this.dataset.get(index), index, epoch, this.recipe)),
    );
    return finishBatch(samples, indices, { epoch, b }, this.recipe);
  }
}

export function toTensors(host: HostBatch): Batch {
  return {
    x: tf.tensor4d(host.x, host.shape, 'float32'),
    y: tf.tensor2d(host.y, [host.shape[0], host.yWidth], 'float32'),
    labels: host.labels,
    indices: host.indices,
  };
}
