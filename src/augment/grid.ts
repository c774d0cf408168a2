/**
 * Augmented views of a few dataset images for a notebook's grid: row i is image indices[i], column 0 the
 * eval view, columns 1.. independent training draws (epochs 0..n-1 of the given seed, so the grid shows
 * exactly what the loader would feed). Batch-level ops (erasing, mixup) are not per-image and not shown.
 */
import { deriveSeed, Rng, Stream } from '../util/rng';
import type { AugmentConfig } from './config';
import { buildEvalTransform, buildTrainTransform } from './transforms';
import type { Sample } from '../image/sample';

export interface GridCell {
  /** Uint8 HWC RGB. */
  image: Uint8Array;
  height: number;
  width: number;
  label: number;
  /** 'eval' or 'train epoch k'. */
  caption: string;
}

export async function augmentationGrid(
  dataset: { get(index: number): Promise<Sample> },
  cfg: AugmentConfig,
  opts: { indices?: number[]; draws?: number; seed?: number } = {},
): Promise<GridCell[][]> {
  const indices = opts.indices ?? [0, 1, 2, 3];
  const draws = opts.draws ?? 5;
  const seed = opts.seed ?? 0;
  const train = buildTrainTransform(cfg);
  const evalT = buildEvalTransform(cfg);
  const cell = (s: Sample, caption: string): GridCell => ({
    image: s.image,
    height: s.height,
    width: s.width,
    label: s.label,
    caption,
  });
  const rows: GridCell[][] = [];
  for (const index of indices) {
    const sample = await dataset.get(index);
    const row = [cell(await evalT(sample, new Rng(0)), 'eval')];
    for (let e = 0; e < draws; e++) {
      // The loader's per-sample seed for this (seed, epoch, index).
      const rng = new Rng(deriveSeed(seed, e, Stream.sample, index));
      row.push(cell(await train(sample, rng), `train epoch ${e}`));
    }
    rows.push(row);
  }
  return rows;
}
