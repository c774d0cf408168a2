/**
 * The study's extensions exercised on real data (notebook 04's extension section): each compares two arms trained
 * with Table 3's recipe, budget and seeds on flowers5, and differs from it in one thing only:
 *   - the study's extra geometric augmentation on vs off (plain ConvNeXt),
 *   - the study's input-scaled dynamic conv (Table 3's +DynamicConv2d) vs Chen et al.'s K-kernel DynamicConv2d,
 *   - multi-scale fusion by the learned weighted sum (Table 3's +FF) vs channel concatenation,
 *   - the study's SE with BatchNorm (Table 3's +SE&FF) vs the canonical SE without it (SE&FF).
 * An arm equal to a Table 3 row has that row's config, so its cached runs are shared. This file also estimates what
 * the ablation and the extensions cost in each mode, from the training rates recorded on the 2-core machine.
 */
import * as path from 'path';

import { STUDY_PRESETS, STUDY_PRESET_NAMES, type StudyModelPreset, studyPresetLabel } from '../convnext/study';
import type { TrainConfig } from '../train/config';
import { cachedRun, type RunRecord } from './cached-run';
import {
  type AblationSettings, type SeedMetric, type Stat, groupSeeds, rowConfig, seedRecords, studyComplexity,
} from './study-ablation';
import { type SeedDiff, seedDiff } from './verdict';

export interface ExtensionArm {
  /** Unique key of the arm ("convnext", "convnext-geo", "dynamic_k4" …). */
  key: string;
  label: string;
  preset: StudyModelPreset;
  geometric?: boolean;
}

export interface ExtensionComparison {
  key: string;
  title: string;
  /** The study's form, or the setting without the extension. */
  a: ExtensionArm;
  /** The other form. */
  b: ExtensionArm;
}

const arm = (preset: StudyModelPreset, geometric = false): ExtensionArm => ({
  key: `${preset}${geometric ? '-geo' : ''}`,
  label: `${studyPresetLabel(preset)}${geometric ? ', geometric aug.' : ''}`,
  preset, geometric,
});

/** The four comparisons, in the issue's order. */
export const EXTENSIONS: readonly ExtensionComparison[] = [
  { key: 'geometric', title: 'extra geometric augmentation (rotation ±15°, scale 0.9–1.1, translation ±10%)', a: arm('convnext'), b: arm('convnext', true) },
  { key: 'dynamic', title: 'dynamic conv: the study\'s input-scaled kernel vs Chen et al.\'s K = 4 kernels', a: arm('dynamic'), b: arm('dynamic_k4') },
  { key: 'fusion', title: 'multi-scale fusion: learned weighted sum vs channel concatenation', a: arm('ff'), b: arm('ff_concat') },
  { key: 'se-bn', title: 'SE with the study\'s BatchNorm vs the canonical SE (no BatchNorm), in +SE&FF', a: arm('se_ff'), b: arm('se_plain_ff') },
];

/** Every distinct arm of the comparisons. */
export function extensionArms(comparisons: readonly ExtensionComparison[] = EXTENSIONS): ExtensionArm[] {
  const seen = new Map<string, ExtensionArm>();
  for (const c of comparisons) for (const x of [c.a, c.b]) if (!seen.has(x.key)) seen.set(x.key, x);
  return [...seen.values()];
}

/** Whether an arm's runs are Table 3 runs (same config, same cache folder). */
export function isTable3Arm(a: ExtensionArm): boolean {
  return !a.geometric && (STUDY_PRESET_NAMES as string[]).includes(a.preset);
}

/** The training config of one arm and seed. */
export function armConfig(s: AblationSettings, a: ExtensionArm, seed: number): TrainConfig {
  return rowConfig(s, a.preset, seed, { geometric: a.geometric });
}

export type ExtensionRuns = Record<string, RunRecord[]>;

/** Trains (or reads back) every arm × seed; the arms that are Table 3 rows reuse its runs. */
export async function runExtensions(
  s: AblationSettings, root: string, o: { log?: (line: string) => void; progress?: boolean; comparisons?: readonly ExtensionComparison[] } = {},
): Promise<ExtensionRuns> {
  const log = o.log ?? ((l: string) => console.log(l));
  const out: ExtensionRuns = {};
  for (const a of extensionArms(o.comparisons)) {
    out[a.key] = [];
    for (const seed of s.seeds) {
      const config = armConfig(s, a, seed);
      const t0 = Date.now();
      const r = await cachedRun(config, root, { log: () => undefined, progress: o.progress ?? false, standIn: s.mode === 'smoke' });
      const last = r.metrics[r.metrics.length - 1];
      log(`${r.cached ? 'reused' : 'trained'} ${config.name} (${path.basename(r.dir)}): val acc ${(100 * (last?.valTop1 ?? NaN)).toFixed(1)}%` +
        `${r.cached ? '' : `, ${((Date.now() - t0) / 60000).toFixed(1)} min`}`);
      out[a.key].push(r);
    }
  }
  return out;
}

export interface ArmSummary {
  arm: ExtensionArm;
  params: number;
  macs: number;
  stats: Record<SeedMetric, Stat>;
  /** Training minutes per run (as measured when each run trained). */
  minutes: Stat;
}

export interface ExtensionResult {
  comparison: ExtensionComparison;
  a: ArmSummary;
  b: ArmSummary;
  /** b − a in validation accuracy (fractions), with the seed rule of ./verdict.ts. */
  val: SeedDiff;
  train: SeedDiff;
  /** One line: which form is better on validation accuracy, or "not resolved here". */
  verdict: string;
}

const pts = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}`;

/** The one-line verdict of a comparison from its b − a validation difference. */
export function extensionVerdict(c: ExtensionComparison, val: SeedDiff): string {
  const band = `Δ val ${pts(val.diff)} points, 2·SE ${(200 * val.se).toFixed(1)}`;
  if (!val.resolved) return `not resolved here (${band}): the two forms are within the seed spread`;
  const better = val.diff > 0 ? c.b : c.a;
  const worse = val.diff > 0 ? c.a : c.b;
  return `${better.label} beats ${worse.label} (${band})`;
}

/** Each comparison's two arms summarised over seeds, with the difference and its verdict. */
export function summarizeExtensions(s: AblationSettings, runs: ExtensionRuns, comparisons: readonly ExtensionComparison[] = EXTENSIONS): ExtensionResult[] {
  const arms = extensionArms(comparisons);
  const stats = groupSeeds(arms.flatMap((a) => seedRecords(a.key, runs[a.key] ?? [])));
  const summary = (a: ExtensionArm): ArmSummary => {
    const st = stats.get(a.key);
    if (!st) throw new Error(`no runs for the extension arm "${a.key}"`);
    const minutes = (runs[a.key] ?? []).map((r) => r.summary?.trainMinutes ?? NaN);
    const mean = minutes.reduce((x, y) => x + y, 0) / minutes.length;
    const std = minutes.length > 1 ? Math.sqrt(minutes.reduce((x, y) => x + (y - mean) ** 2, 0) / (minutes.length - 1)) : 0;
    return { arm: a, ...studyComplexity(s.arch, a.preset, s.inputSize), stats: st, minutes: { mean, std, n: minutes.length } };
  };
  return comparisons.map((c) => {
    const a = summary(c.a);
    const b = summary(c.b);
    const val = seedDiff(b.stats.valAcc, a.stats.valAcc);
    return { comparison: c, a, b, val, train: seedDiff(b.stats.trainAcc, a.stats.trainAcc), verdict: extensionVerdict(c, val) };
  });
}

// ---------------------------------------------------------------------------------------------------
// Cost estimates from recorded figures (no training).

/**
 * Measured on the idle 2-core development machine: notebook 04 in quick mode took 43.6 min on 2026-12-07
 * (`CONVNEXT_MODE=quick npx tsx scripts/report.ts --only 04`, nothing cached): Table 3's 7 rows, the 4 new extension
 * arms and the transfer row, 3 seeds each (36 runs of 12 epochs of flowers5, 3,885 training + 432 validation images,
 * `mini` at 96 px), plus 2 epochs of CIFAR-10 pretraining (50,000 images at 32 px). A run took 0.7 min (plain row)
 * to 2.0 min (+CBAM&SE). Before the native depthwise kernels and GELU the same notebook took 76.5 min, 7.2 min a run
 * of it the canonical K = 4 dynamic conv (now 1.2).
 */
export const RECORDED_STUDY_RUN = {
  source: 'notebook 04, quick mode, 2026-12-07, idle 2-core machine',
  minutes: 43.6, flowerRuns: 36, epochs: 12, inputSize: 96, pretrainImages: 2 * 50_000, pretrainSize: 32,
} as const;

/**
 * Seconds per flowers5 epoch of one run (training and its evaluation, averaged over Table 3's mix of rows), from
 * RECORDED_STUDY_RUN: the pretraining's images count at (32/64)² of a 64-px image's cost.
 */
export function secondsPerFlowerEpoch(inputSize: number, r = RECORDED_STUDY_RUN): number {
  const flowerImages = r.flowerRuns * r.epochs * (3885 + 432);
  const pretrainEquivalent = r.pretrainImages * (r.pretrainSize / r.inputSize) ** 2;
  const perImage = (r.minutes * 60) / (flowerImages + pretrainEquivalent);
  // Cost per image grows with the pixels (the convs' work does; fixed per-batch overhead does not, so this overestimates above the recorded size).
  return perImage * (3885 + 432) * (inputSize / r.inputSize) ** 2;
}

export interface StudyEstimate {
  table3Runs: number;
  extensionRuns: number;
  transferRuns: number;
  /** Minutes, each part and in all (training and evaluation; the notebook's own cells add about a minute). */
  table3: number;
  extensions: number;
  transfer: number;
  total: number;
}

/** Estimated minutes of notebook 04's training in a mode's settings, when nothing is cached. */
export function estimateStudyMinutes(s: AblationSettings, comparisons: readonly ExtensionComparison[] = EXTENSIONS): StudyEstimate {
  // A smoke run keeps `perClass` images a class in train and val; the others the whole flowers5 split.
  const share = s.perClass ? (2 * 5 * s.perClass) / (3885 + 432) : 1;
  const perRun = (secondsPerFlowerEpoch(s.inputSize) * s.epochs * share) / 60;
  const newArms = extensionArms(comparisons).filter((a) => !isTable3Arm(a)).length;
  const table3Runs = Object.keys(STUDY_PRESETS).length * s.seeds.length;
  const extensionRuns = newArms * s.seeds.length;
  const transferRuns = s.seeds.length;
  const r = RECORDED_STUDY_RUN;
  const pretrainPerImage = (r.minutes * 60) / (r.flowerRuns * r.epochs * (3885 + 432) + r.pretrainImages * (r.pretrainSize / r.inputSize) ** 2) *
    (r.pretrainSize / r.inputSize) ** 2;
  const pretrain = (s.pretrain.epochs * (s.pretrain.perClass ? 10 * s.pretrain.perClass : 50_000) * pretrainPerImage) / 60;
  const table3 = table3Runs * perRun;
  const extensions = extensionRuns * perRun;
  const transfer = transferRuns * perRun + pretrain;
  return { table3Runs, extensionRuns, transferRuns, table3, extensions, transfer, total: table3 + extensions + transfer };
}
