/**
 * The dataset contract of the input pipeline: a random-access list of decoded images with integer class
 * labels (classification) or real-valued targets (regression). Images are Uint8 HWC RGB, the layout sharp
 * decodes to and the augmentations work on; the loader turns them into float32 NHWC tensors.
 */


import type { Sample } from '../image/sample';

export interface Dataset {
  readonly length: number;
  /** Class names in label order; [] for regression. */
  readonly classes: string[];
  get(index: number): Promise<Sample>;
}

/** A dataset whose labels are known without decoding (needed by stratified splits and class counts). */
export interface LabelledDataset extends Dataset {
  /** label of every item, in index order. */
  readonly targets: ArrayLike<number>;
}

export function checkIndex(ds: { length: number }, index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= ds.length) {
    throw new RangeError(`dataset index ${index} out of range [0, ${ds.length})`);
  }
}

/** A view on some items of another dataset (a split). */
export class Subset implements LabelledDataset {
  readonly classes: string[];
  readonly targets: Float64Array;

  constructor(
    readonly parent: LabelledDataset,
    readonly indices: Int32Array,
  ) {
    this.classes = parent.classes;
    this.targets = new Float64Array(indices.length);
    for (let i = 0; i < indices.length; i++) {
      checkIndex(parent, indices[i]);
      this.targets[i] = parent.targets[indices[i]];
    }
  }

  get length(): number {
    return this.indices.length;
  }

  get(index: number): Promise<Sample> {
    checkIndex(this, index);
    return this.parent.get(this.indices[index]);
  }
}

/** Number of items per class (classification datasets). */
export function classCounts(ds: LabelledDataset): number[] {
  const counts = new Array<number>(ds.classes.length).fill(0);
  for (let i = 0; i < ds.length; i++) counts[ds.targets[i]]++;
  return counts;
}
