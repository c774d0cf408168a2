/**
 * The project's datasets by name, prepared on first use (from ../shared/datasets offline copies or the
 * official sources) and decoded into the data/.cache in-memory cache.
 */
import * as path from 'path';

import { cachedDataset, type InMemoryDataset } from './cache';
import type { LabelledDataset } from './dataset';
import { ImageFolder } from './image-folder';
import { DEFAULT_DATA_DIR, prepareCifar10, prepareFlowers5 } from './prepare';
import { stratifiedSplit, takePerClass, type Split } from './split';

export interface NamedDatasetOptions {
  dataDir?: string;
  /** Keep only the first n images of each class (smoke runs). */
  perClass?: number;
  /** Show decode / download progress. Default true. */
  progress?: boolean;
  /** Leave out unreadable images instead of failing. */
  skipCorrupt?: boolean;
}

async function cached(root: string, name: string, opts: NamedDatasetOptions): Promise<LabelledDataset> {
  const folder = new ImageFolder(root, { skipCorrupt: opts.skipCorrupt });
  const ds: InMemoryDataset = await cachedDataset(folder, {
    name,
    cacheDir: path.join(opts.dataDir ?? DEFAULT_DATA_DIR, '.cache'),
    progress: opts.progress,
    skipCorrupt: opts.skipCorrupt,
  });
  return opts.perClass ? takePerClass(ds, opts.perClass) : ds;
}

/** CIFAR-10 train (50,000) or test (10,000) split, 32x32, decoded in memory. */
export async function cifar10(split: 'train' | 'test', opts: NamedDatasetOptions = {}): Promise<LabelledDataset> {
  const root = await prepareCifar10({ dataDir: opts.dataDir, verbose: opts.progress });
  return cached(path.join(root, split), `cifar10-${split}`, opts);
}

/** flowers5 (4,317 images, 128x128) split 90/10 per class with `seed` (record it). */
export async function flowers5(opts: NamedDatasetOptions & { seed?: number; trainFraction?: number } = {}): Promise<Split> {
  const root = await prepareFlowers5({ dataDir: opts.dataDir, verbose: opts.progress });
  const all = await cached(root, 'flowers5', { ...opts, perClass: undefined });
  const split = stratifiedSplit(all, opts.trainFraction ?? 0.9, opts.seed ?? 0);
  if (!opts.perClass) return split;
  return { ...split, train: takePerClass(split.train, opts.perClass), val: takePerClass(split.val, opts.perClass) };
}
