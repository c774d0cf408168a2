/**
 * Throughput of the input pipeline alone (decode → per-sample augmentation → collate → batch
 * augmentation → tensors), with no model, so it can be compared with the model's training speed: the
 * pipeline should be faster, or the model waits for data.
 */
import { tf } from '../backend';
import type { AugmentConfig } from '../augment/config';
import { buildBatchTransform, buildEvalTransform, buildTrainTransform } from '../augment/transforms';
import { ThroughputTimer } from '../util/timing';
import type { Dataset } from '../data/dataset';
import { DataLoader } from '../data/loader';

export interface PipelineMeasureOptions {
  dataset: Dataset;
  augment: AugmentConfig;
  /** 'train' (RRC, flip, RandAugment, erasing, mixup / cutmix) or 'eval' (resize + centre crop). */
  mode?: 'train' | 'eval';
  batchSize?: number;
  /** Batches timed (after `warmup` untimed ones). Default 10. */
  batches?: number;
  warmup?: number;
  prefetch?: number;
  seed?: number;
}

export interface PipelineMeasurement {
  imagesPerSecond: number;
  images: number;
  seconds: number;
  batchSize: number;
  inputSize: number;
  mode: 'train' | 'eval';
}

export async function measureInputPipeline(opts: PipelineMeasureOptions): Promise<PipelineMeasurement> {
  const mode = opts.mode ?? 'train';
  const batchSize = opts.batchSize ?? 64;
  const warmup = opts.warmup ?? 1;
  const batches = opts.batches ?? 10;
  const numClasses = opts.dataset.classes.length;
  const loader = new DataLoader({
    dataset: opts.dataset,
    batchSize,
    shuffle: true,
    seed: opts.seed ?? 0,
    dropLast: true,
    prefetch: opts.prefetch ?? 2,
    transform: mode === 'train' ? buildTrainTransform(opts.augment) : buildEvalTransform(opts.augment),
    batchTransform: mode === 'train' ? buildBatchTransform(opts.augment, numClasses) : undefined,
    normalize: opts.augment.normalize,
  });
  if (loader.numBatches < warmup + batches) {
    throw new Error(`dataset gives ${loader.numBatches} batches of ${batchSize}; ${warmup + batches} needed`);
  }
  const timer = new ThroughputTimer();
  let seen = 0;
  for await (const batch of loader) {
    // Reading the tensor back makes sure its creation is included in the time.
    batch.x.dataSync();
    tf.dispose([batch.x, batch.y]);
    seen++;
    if (seen === warmup) timer.start();
    else if (seen > warmup) timer.add(batchSize);
    if (seen === warmup + batches) break;
  }
  timer.stop();
  return { imagesPerSecond: timer.imagesPerSecond, images: timer.count, seconds: timer.seconds, batchSize, inputSize: opts.augment.inputSize, mode };
}
