/**
 * A STAND-IN for the pet-age dataset, which cannot be had on this machine: a regression set built from the
 * real flowers5 photos whose target is a genuine visual quantity with a known ground truth, the ZOOM applied
 * to each photo. It is not pet ages and says so wherever it appears ("pet-age stand-in").
 *
 * Each source photo (128×128) is used once. It gets an "age" a in [0, 192) months drawn from a right-skewed
 * prior shaped like the study's Figure 8 (many young, few old: Gamma(2, 24 months), mean 48, truncated at 192),
 * and is zoomed in by z = 4^(a / 192): a square crop of side 1/z of the photo at a random position, resized to
 * `imageSize`. So a = 0 is the whole photo and a → 192 a quarter-side crop; the target is learnable only from
 * the pixels (the apparent scale of petals and the resampling blur of a close crop): ages are drawn per image
 * independently of its class, file name and order. Splits follow the study's proportions (20,000 / 3,000 /
 * 3,000 → 77% / 11.5% / 11.5%). About 6% of the train and validation labels are then replaced by wrong ones
 * (a fresh draw from the prior at least 12 months from the truth), as the study describes its data; the test
 * split stays clean. Everything is drawn from one seed; the zoomed pixels are cached in data/.cache.
 */
import { createHash } from 'crypto';
import * as path from 'path';
import * as fs from 'fs';

import { resizeBox } from '../augment/resample';
import { deriveSeed, Rng } from '../util/rng';
import { InMemoryDataset, readCache, writeCache } from './cache';
import type { LabelledDataset } from './dataset';
import { flowers5, type NamedDatasetOptions } from './datasets';
import { DEFAULT_DATA_DIR } from './prepare';
import { PET_AGE_MAX_MONTHS } from './pet-age';

/** The prior of the stand-in's ages (months): Gamma(shape, scale) truncated to [0, 192). */
export const STAND_IN_AGE_PRIOR = { shape: 2, scale: 24 } as const;
/** Largest zoom (at age → 192): a crop of a quarter of the photo's side. */
export const STAND_IN_MAX_ZOOM = 4;
/** The study's split sizes (20,000 / 3,000 / 3,000), as fractions. */
export const STAND_IN_FRACTIONS = { train: 20 / 26, val: 3 / 26, test: 3 / 26 } as const;
/** A wrong label differs from the truth by at least this many months. */
export const MIN_NOISE_MONTHS = 12;
/** Bump when the generation changes: old caches are then rebuilt. */
const VERSION = 1;

export interface StandInOptions extends NamedDatasetOptions {
  /** Side of the generated images in pixels. Default 64. */
  imageSize?: number;
  /** Fraction of train and validation labels made wrong. Default 0.06. */
  labelNoise?: number;
  /** Seed of the split, the ages, the crops and the noise. Default 0. */
  seed?: number;
  /** Keep the first n items of each split (smoke runs and small budgets). */
  limit?: number;
}

/** The zoom factor of an age: 4^(age / 192), 1 (whole photo) at age 0. */
export function zoomOfAge(age: number): number {
  return Math.pow(STAND_IN_MAX_ZOOM, age / PET_AGE_MAX_MONTHS);
}

/** The age a zoom factor stands for (the inverse of zoomOfAge). */
export function ageOfZoom(zoom: number): number {
  return (PET_AGE_MAX_MONTHS * Math.log(zoom)) / Math.log(STAND_IN_MAX_ZOOM);
}

/** One draw from the age prior: Gamma(2, 24 months) redrawn until it falls in [0, 192). */
export function drawAge(rng: Rng): number {
  for (;;) {
    const a = rng.gamma(STAND_IN_AGE_PRIOR.shape) * STAND_IN_AGE_PRIOR.scale;
    if (a < PET_AGE_MAX_MONTHS) return a;
  }
}

/**
 * Labels with exactly round(rate · n) of them replaced by wrong ones, the items chosen by a seeded
 * permutation; a wrong label is a fresh draw from the prior at least MIN_NOISE_MONTHS from the true one.
 */
export function injectLabelNoise(ages: ArrayLike<number>, rate: number, seed: number): { labels: Float64Array; noisy: Uint8Array } {
  if (!(rate >= 0 && rate < 1)) throw new Error(`label noise must be in [0, 1), got ${rate}`);
  const n = ages.length;
  const labels = Float64Array.from(ages);
  const noisy = new Uint8Array(n);
  const rng = new Rng(deriveSeed(seed, 0x6e6f));
  const count = Math.round(rate * n);
  const chosen = rng.permutation(n).subarray(0, count);
  for (const i of chosen) {
    let wrong: number;
    do wrong = drawAge(rng);
    while (Math.abs(wrong - ages[i]) < MIN_NOISE_MONTHS);
    labels[i] = wrong;
    noisy[i] = 1;
  }
  return { labels, noisy };
}

/** A split of the stand-in: the dataset (noisy labels), the true ages and which labels were made wrong. */
export interface StandInSplit {
  dataset: InMemoryDataset;
  /** The true age (the zoom's) of every item. */
  trueAges: Float64Array;
  /** 1 where the label was replaced by a wrong one (never in test). */
  noisy: Uint8Array;
  /** Index of each item's source photo in flowers5. */
  source: Int32Array;
}

export interface PetAgeStandIn {
  train: StandInSplit;
  val: StandInSplit;
  test: StandInSplit;
  /** What it is, in one line (say it wherever the data appears). */
  description: string;
  /** Whether the source photos are flowers5's synthetic stand-in (smoke runs without the dataset). */
  syntheticSource: boolean;
  imageSize: number;
  labelNoise: number;
  seed: number;
}

interface Plan {
  split: 'train' | 'val' | 'test';
  source: number;
  age: number;
  /** Crop box in the source photo. */
  top: number;
  left: number;
  side: number;
}

/** Which photo goes to which split, its age and crop: pure arithmetic on the seed. */
function plan(sources: Array<{ height: number; width: number }>, seed: number): Plan[] {
  const n = sources.length;
  const order = new Rng(deriveSeed(seed, 0x5e1)).permutation(n);
  const nVal = Math.max(1, Math.round(STAND_IN_FRACTIONS.val * n));
  const nTest = Math.max(1, Math.round(STAND_IN_FRACTIONS.test * n));
  const out: Plan[] = [];
  order.forEach((src, j) => {
    const split = j < n - nVal - nTest ? 'train' : j < n - nTest ? 'val' : 'test';
    const rng = new Rng(deriveSeed(seed, 0xa9e, src));
    const age = drawAge(rng);
    const { height, width } = sources[src];
    const side = Math.max(1, Math.round(Math.min(height, width) / zoomOfAge(age)));
    const top = rng.int(0, height - side + 1);
    const left = rng.int(0, width - side + 1);
    out.push({ split, source: src, age, top, left, side });
  });
  return out;
}

/**
 * The pet-age stand-in (see the file comment): flowers5's photos zoomed by a seeded "age", split 77 / 11.5 /
 * 11.5, with `labelNoise` of the train and validation labels wrong. Built once per (seed, size, noise) and
 * cached in data/.cache; with `standIn` the flowers5 photos may themselves be the synthetic stand-in (smoke runs).
 */
export async function petAgeStandIn(o: StandInOptions = {}): Promise<PetAgeStandIn> {
  const imageSize = o.imageSize ?? 64;
  const labelNoise = o.labelNoise ?? 0.06;
  const seed = o.seed ?? 0;
  const flowers = await flowers5({ dataDir: o.dataDir, sharedDir: o.sharedDir, progress: o.progress, standIn: o.standIn, skipCorrupt: o.skipCorrupt });
  const photos = flowers.train.parent as InMemoryDataset;
  const syntheticSource = photos.paths.some((p) => p.includes(`${path.sep}.synthetic${path.sep}`));
  const sources = Array.from({ length: photos.length }, (_, i) => ({ height: photos.heights[i], width: photos.widths[i] }));
  const steps = plan(sources, seed);
  const cacheDir = path.join(o.dataDir ?? DEFAULT_DATA_DIR, '.cache');
  const fp = createHash('sha1').update(JSON.stringify({
    VERSION, imageSize, seed, syntheticSource, n: photos.length, prior: STAND_IN_AGE_PRIOR, zoom: STAND_IN_MAX_ZOOM,
    names: photos.paths.map((p) => path.basename(p)),
  })).digest('hex');
  const file = path.join(cacheDir, `${syntheticSource ? 'synthetic-' : ''}pet-age-stand-in-${imageSize}px-seed${seed}.bin`);
  let all: InMemoryDataset | undefined;
  if (fs.existsSync(file)) {
    try {
      const cached = readCache(file);
      if (cached.fingerprint === fp) all = cached.dataset;
    } catch {
      // rebuilt below
    }
  }
  if (!all) {
    const pixels = new Uint8Array(steps.length * imageSize * imageSize * 3);
    steps.forEach((p, i) => {
      const photo = photos.getSync(p.source);
      const zoomed = resizeBox(photo, imageSize, imageSize, 'bicubic', { top: p.top, left: p.left, height: p.side, width: p.side });
      pixels.set(zoomed.image, i * imageSize * imageSize * 3);
    });
    all = new InMemoryDataset([], Float64Array.from(steps, (p) => p.age), new Int32Array(steps.length).fill(imageSize),
      new Int32Array(steps.length).fill(imageSize), pixels, steps.map((p, i) => `stand-in/${p.split}/${String(i).padStart(5, '0')}-${path.basename(photos.paths[p.source])}`));
    writeCache(file, fp, all);
  }
  const bytes = imageSize * imageSize * 3;
  const splitOf = (name: Plan['split'], noiseSeed: number): StandInSplit => {
    let idx = steps.map((p, i) => (p.split === name ? i : -1)).filter((i) => i >= 0);
    if (o.limit !== undefined) idx = idx.slice(0, o.limit);
    const trueAges = Float64Array.from(idx, (i) => steps[i].age);
    const { labels, noisy } = name === 'test' ? { labels: Float64Array.from(trueAges), noisy: new Uint8Array(idx.length) }
      : injectLabelNoise(trueAges, labelNoise, deriveSeed(seed, noiseSeed));
    const px = new Uint8Array(idx.length * bytes);
    idx.forEach((i, k) => px.set(all!.pixels.subarray(i * bytes, (i + 1) * bytes), k * bytes));
    const dataset = new InMemoryDataset([], labels, new Int32Array(idx.length).fill(imageSize), new Int32Array(idx.length).fill(imageSize), px,
      idx.map((i) => all!.paths[i]));
    return { dataset, trueAges, noisy, source: Int32Array.from(idx, (i) => steps[i].source) };
  };
  const train = splitOf('train', 1);
  const val = splitOf('val', 2);
  const test = splitOf('test', 3);
  const description = `pet-age STAND-IN (not pet ages): ${photos.length} ${syntheticSource ? 'synthetic stand-in' : 'flowers5'} photos ` +
    `zoomed ×4^(age/192) for a seeded age in [0, 192) months, ${imageSize} px; ${train.dataset.length} train / ` +
    `${val.dataset.length} val / ${test.dataset.length} test; ${(100 * labelNoise).toFixed(0)}% of train and val labels wrong, test clean`;
  return { train, val, test, description, syntheticSource, imageSize, labelNoise, seed };
}

/** The stand-in's splits as plain labelled datasets. */
export function standInDatasets(s: PetAgeStandIn): { train: LabelledDataset; val: LabelledDataset; test: LabelledDataset } {
  return { train: s.train.dataset, val: s.val.dataset, test: s.test.dataset };
}
