/**
 * The project's datasets by name, prepared on first use (from ../shared/datasets offline copies or the
 * official sources) and decoded into the data/.cache in-memory cache.
 */
import * as path from 'path';

import { cachedDataset, type InMemoryDataset } from './cache';
import type { LabelledDataset } from './dataset';
import { ImageFolder } from './image-folder';
import { CIFAR10_CLASSES, DEFAULT_DATA_DIR, FLOWERS_CLASSES, FLOWERS_SIZE, prepareCifar10, prepareFlowers5 } from './prepare';
import { stratifiedSplit, takePerClass, type Split } from './split';
import { writeSyntheticFolder } from './synthetic';

export interface NamedDatasetOptions {
  dataDir?: string;
  /** Folder holding the offline <name>-jpg.tar.gz copies (default ../shared/datasets). */
  sharedDir?: string;
  /** Keep only the first n images of each class (smoke runs). */
  perClass?: number;
  /** Show decode / download progress. Default true. */
  progress?: boolean;
  /** Leave out unreadable images instead of failing. */
  skipCorrupt?: boolean;
  /**
   * Where the real dataset cannot be had (no ../shared copy, no network), use a small synthetic stand-in of
   * the same classes and image size instead of failing, and say so. For smoke runs only. Default false.
   */
  standIn?: boolean;
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

/** Prepares a real dataset, or with `standIn` falls back to a synthetic one where it cannot be had. */
async function prepareOrStandIn(
  name: string,
  prepare: () => Promise<string>,
  standIn: (root: string) => Promise<string>,
  opts: NamedDatasetOptions,
): Promise<{ root: string; synthetic: boolean }> {
  try {
    return { root: await prepare(), synthetic: false };
  } catch (err) {
    if (!opts.standIn) throw err;
    console.warn(`${name} is not available here (${(err as Error).message.split("\n")[0]}); ` +
      'using a small synthetic stand-in with the same classes and image size');
    const root = path.join(opts.dataDir ?? DEFAULT_DATA_DIR, '.synthetic', name);
    return { root: await standIn(root), synthetic: true };
  }
}

/** Images per class in the synthetic stand-ins. */
const STAND_IN_PER_CLASS = 8;

/** The prepared CIFAR-10 folder (`<root>/{train,test}/<class>/`), or its stand-in. */
export async function cifar10Root(opts: NamedDatasetOptions = {}): Promise<{ root: string; synthetic: boolean }> {
  return prepareOrStandIn('CIFAR-10',
    () => prepareCifar10({ dataDir: opts.dataDir, sharedDir: opts.sharedDir, verbose: opts.progress }),
    async (dir) => {
      for (const [i, s] of (['train', 'test'] as const).entries()) {
        await writeSyntheticFolder(path.join(dir, s), { classes: CIFAR10_CLASSES, perClass: STAND_IN_PER_CLASS, size: 32, seed: i });
      }
      return dir;
    }, opts);
}

/** CIFAR-10 train (50,000) or test (10,000) split, 32x32, decoded in memory. */
export async function cifar10(split: 'train' | 'test', opts: NamedDatasetOptions = {}): Promise<LabelledDataset> {
  const { root, synthetic } = await cifar10Root(opts);
  return cached(path.join(root, split), `${synthetic ? 'synthetic-' : ''}cifar10-${split}`, opts);
}

/** flowers5 (4,317 images, 128x128) split 90/10 per class with `seed` (record it). */
export async function flowers5(opts: NamedDatasetOptions & { seed?: number; trainFraction?: number } = {}): Promise<Split> {
  const { root, synthetic } = await prepareOrStandIn('flowers5',
    () => prepareFlowers5({ dataDir: opts.dataDir, sharedDir: opts.sharedDir, verbose: opts.progress }),
    (dir) => writeSyntheticFolder(dir, {
      classes: Object.values(FLOWERS_CLASSES), perClass: STAND_IN_PER_CLASS, size: FLOWERS_SIZE, seed: 2,
    }), opts);
  const all = await cached(root, `${synthetic ? 'synthetic-' : ''}flowers5`, { ...opts, perClass: undefined });
  const split = stratifiedSplit(all, opts.trainFraction ?? 0.9, opts.seed ?? 0);
  if (!opts.perClass) return split;
  return { ...split, train: takePerClass(split.train, opts.perClass), val: takePerClass(split.val, opts.perClass) };
}
