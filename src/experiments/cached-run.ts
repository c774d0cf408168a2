/**
 * Reading finished run folders back (for notebooks and reports), and runs cached by config: a config's
 * run lives in `<root>/<name>-<hash>`; when that folder already holds a finished run it is reused, when it
 * holds an interrupted one it is resumed.
 */
import * as fs from 'fs';
import * as path from 'path';

import { configHash, type TrainConfig } from '../train/config';
import type { TrainRecipe } from '../train/recipe';
import { runFromConfig, type RunOptions } from '../train/run-config';
import type { EpochRecord } from '../train/callbacks/callback';
import { readJsonFile } from '../util/fs';

export interface EvalFile {
  classes: string[];
  model: EvalSummary;
  ema?: EvalSummary;
}

export interface EvalSummary {
  count: number;
  top1: number;
  top5: number;
  loss: number;
  imagesPerSec: number;
  perClass: Array<{ class: string; precision: number; recall: number; f1: number; support: number }>;
  macro: { precision: number; recall: number; f1: number };
  confusion: number[][];
}

export interface RunRecord {
  dir: string;
  config?: TrainConfig;
  recipe?: TrainRecipe;
  metrics: EpochRecord[];
  summary?: { final: EpochRecord; best?: { epoch: number; metric: string; value: number }; trainMinutes: number; epochsDone: number };
  eval?: EvalFile;
  /** Whether the run finished (its final evaluation is written). */
  finished: boolean;
}

function readJson<T>(file: string): T | undefined {
  return fs.existsSync(file) ? readJsonFile<T>(file) : undefined;
}

/** Where `convnext eval --run DIR` writes its results: eval-<data>[-ema][-flip-tta].json beside the run. */
export function evalFilePath(runDir: string, data: string, o: { ema?: boolean; flipTta?: boolean } = {}): string {
  return path.join(runDir, `eval-${data}${o.ema ? '-ema' : ''}${o.flipTta ? '-flip-tta' : ''}.json`);
}

/** A run folder's records; undefined when the folder does not exist. */
export function readRun(dir: string): RunRecord | undefined {
  if (!fs.existsSync(dir)) return undefined;
  const ev = readJson<EvalFile>(path.join(dir, 'eval.json'));
  return {
    dir,
    config: readJson(path.join(dir, 'config.json')),
    recipe: readJson(path.join(dir, 'recipe.json')),
    metrics: readJson<EpochRecord[]>(path.join(dir, 'metrics.json')) ?? [],
    summary: readJson(path.join(dir, 'summary.json')),
    eval: ev,
    finished: ev !== undefined,
  };
}

/** The folder a config's cached run lives in. */
export function cachedRunDir(config: TrainConfig, root: string): string {
  return path.join(root, `${config.name}-${configHash(config)}`);
}

/** Runs a config unless its cached run folder already holds the finished run; resumes an interrupted one. */
export async function cachedRun(config: TrainConfig, root: string, o: Omit<RunOptions, 'out' | 'resume'> = {}): Promise<RunRecord & { cached: boolean }> {
  const dir = cachedRunDir(config, root);
  const have = readRun(dir);
  if (have?.finished) return { ...have, cached: true };
  await runFromConfig(config, { ...o, out: dir, resume: have !== undefined });
  return { ...readRun(dir)!, cached: false };
}
