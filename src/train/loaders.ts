/** What `fit` and `evaluate` read batches from: a DataLoader, anything shaped like one, or a dataset spec. */
import { augmentConfig, type AugmentConfig } from '../augment/config';
import { buildBatchTransform, buildEvalTransform, buildTrainTransform } from '../augment/transforms';
import type { Dataset } from '../data/dataset';
import { DataLoader, type Batch } from '../data/loader';

/** What the trainer iterates: the DataLoader, or anything shaped like it. */
export interface BatchLoader extends AsyncIterable<Batch> {
  readonly numBatches: number;
  readonly numClasses?: number;
  setEpoch(epoch: number, startBatch?: number): void;
}

/** A dataset plus augmentation, turned into a seeded DataLoader by `fit`. */
export interface DataSpec {
  dataset: Dataset;
  augment?: Partial<AugmentConfig>;
  /** Batch size for evaluation loaders (training uses the recipe's micro-batch). */
  batchSize?: number;
}

/** A seeded training DataLoader for a dataset and augmentation (drop_last, as the official loader). */
export function trainLoader(spec: DataSpec, batchSize: number, seed: number): DataLoader {
  const aug = augmentConfig(spec.augment);
  const numClasses = spec.dataset.classes.length;
  return new DataLoader({
    dataset: spec.dataset,
    batchSize,
    shuffle: true,
    seed,
    dropLast: true,
    transform: buildTrainTransform(aug),
    batchTransform: buildBatchTransform(aug, numClasses),
    normalize: aug.normalize,
  });
}

/** An evaluation DataLoader (resize + centre crop, no shuffling). */
export function evalLoader(spec: DataSpec, batchSize: number): DataLoader {
  const aug = augmentConfig(spec.augment);
  return new DataLoader({
    dataset: spec.dataset,
    batchSize: spec.batchSize ?? batchSize,
    transform: buildEvalTransform(aug),
    normalize: aug.normalize,
  });
}

export function isLoader(x: BatchLoader | DataSpec): x is BatchLoader {
  return typeof (x as BatchLoader).setEpoch === 'function';
}
