/**
 * Seeded train / validation splits. Classification datasets are split per class (stratified), so each
 * class keeps the same proportion in both parts: flowers5 has no official split and the study used 90/10.
 */
import { Subset, type LabelledDataset } from './dataset';
import { deriveSeed, Rng } from '../util/rng';

export interface Split {
  train: Subset;
  val: Subset;
  /** The seed that made it (record it with results). */
  seed: number;
}

/**
 * Puts round(trainFraction * n_c) of each class c in train, chosen by a seeded permutation per class;
 * regression datasets (no classes) are split the same way as one group.
 */
export function stratifiedSplit(ds: LabelledDataset, trainFraction = 0.9, seed = 0): Split {
  if (!(trainFraction > 0 && trainFraction < 1)) throw new Error(`trainFraction must be in (0, 1), got ${trainFraction}`);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < ds.length; i++) {
    const key = ds.classes.length > 0 ? ds.targets[i] : 0;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(i);
  }
  const train: number[] = [];
  const val: number[] = [];
  for (const [key, members] of [...groups].sort((a, b) => a[0] - b[0])) {
    const perm = new Rng(deriveSeed(seed, key)).permutation(members.length);
    const nTrain = Math.round(trainFraction * members.length);
    perm.forEach((p, j) => (j < nTrain ? train : val).push(members[p]));
  }
  const sorted = (xs: number[]): Int32Array => Int32Array.from(xs).sort();
  return { train: new Subset(ds, sorted(train)), val: new Subset(ds, sorted(val)), seed };
}

/** The first `n` items of every class (in index order): small, balanced subsets for smoke runs. */
export function takePerClass(ds: LabelledDataset, n: number): Subset {
  const taken = new Map<number, number>();
  const keep: number[] = [];
  for (let i = 0; i < ds.length; i++) {
    const c = ds.targets[i];
    const k = taken.get(c) ?? 0;
    if (k < n) {
      keep.push(i);
      taken.set(c, k + 1);
    }
  }
  return new Subset(ds, Int32Array.from(keep));
}
