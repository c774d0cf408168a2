/** Notebook 04: the study ablation's tables, curves and the sentences that read its numbers. */
import { STUDY_ARCHS, STUDY_PRESETS, STUDY_PRESET_NAMES, type StudyPreset } from '../convnext';
import type { RunRecord } from '../experiments/cached-run';
import {
  type AblationRuns, type AblationSettings, type ClaimCheck, type Comparison, type RowSummary, TRANSFER_LABEL,
  ablationTrainMinutes, formatStat, meanCurve, studyComplexity,
} from '../experiments/study-ablation';
import { fmt } from './markdown';
import type { Trace } from './plot';
import { type Row, vsPaper } from './table';

/** Parameters and MACs of the seven configurations: the mode's architecture and ConvNeXt-T at 224 px. */
export function studySizeRows(s: AblationSettings): Row[] {
  return STUDY_PRESET_NAMES.map((p) => {
    const ours = studyComplexity(s.arch, p, s.inputSize);
    const t = studyComplexity('tiny', p, 224);
    return {
      configuration: STUDY_PRESETS[p].label,
      [`params (${s.arch})`]: ours.params, [`MMACs (${s.arch}, ${s.inputSize} px)`]: ours.macs / 1e6,
      'params (ConvNeXt-T)': t.params, 'GMACs (ConvNeXt-T, 224 px)': t.macs / 1e9,
    };
  });
}

/** The mode's training settings, one row each. */
export function trainingSettingsRows(s: AblationSettings): Row[] {
  const arch = STUDY_ARCHS[s.arch];
  return [
    { setting: 'model', value: `study_${s.arch}_<row> (${arch.depths.join('-')} blocks, widths ${arch.dims.join('-')})` },
    { setting: 'input', value: `${s.inputSize}×${s.inputSize}` },
    { setting: 'epochs × batch', value: `${s.epochs} × ${s.batchSize}` },
    { setting: 'optimizer', value: `AdamW lr ${s.lr}, wd 0.05, warmup ${s.warmupEpochs} epoch(s), cosine to 1e-5` },
    { setting: 'layer scale init', value: String(s.layerScaleInitValue) },
    { setting: 'seeds', value: s.seeds.join(', ') },
    { setting: 'split', value: `stratified 90/10, seed ${s.splitSeed}${s.perClass ? `, ${s.perClass} images per class (smoke)` : ''}` },
    { setting: 'transfer pretraining', value: `CIFAR-10, 32×32, ${s.pretrain.epochs} epoch(s)` },
  ];
}

/** Figures of the study's Table 3 by row key (none could be found: every "study" cell shows "—"). */
export type StudyTable3 = Record<string, { trainLoss?: number; trainAcc?: number; valLoss?: number; valAcc?: number }>;

/** Table 3: mean ± std over seeds of the final epoch, beside the study's figures where known. */
export function table3Rows(rows: RowSummary[], study: StudyTable3 = {}): Row[] {
  return rows.map((r) => {
    const st = study[r.key] ?? {};
    return {
      configuration: r.label,
      ...vsPaper('train-loss', st.trainLoss, formatStat(r.trainLoss, 3)),
      ...vsPaper('train-acc %', st.trainAcc, formatStat(r.trainAcc, 1, 100)),
      ...vsPaper('val-loss', st.valLoss, formatStat(r.valLoss, 3)),
      ...vsPaper('val-acc %', st.valAcc, formatStat(r.valAcc, 1, 100)),
      params: r.params,
      MMACs: r.macs / 1e6,
      'train img/s': Math.round(r.trainImagesPerSec.mean),
      'eval img/s': Math.round(r.evalImagesPerSec.mean),
      seeds: r.valAcc.n,
    };
  });
}

export function comparisonRows(comparisons: Comparison[]): Row[] {
  return comparisons.map((c) => ({
    configuration: c.label,
    'Δ val-acc vs ConvNeXt (points)': 100 * c.diff,
    'SE (points)': 100 * c.se,
    t: c.t,
    'beyond 2 SE': c.beyondNoise ? 'yes' : 'no',
  }));
}

export function claimRows(claims: ClaimCheck[]): Row[] {
  return claims.map((c) => ({ 'study\'s conclusion': c.claim, 'on our runs': c.verdict, evidence: c.evidence }));
}

/** Every configuration's runs (and the transfer row's), labelled. */
export function labelledRuns(runs: AblationRuns): Array<{ label: string; runs: RunRecord[] }> {
  return [
    ...STUDY_PRESET_NAMES.filter((p) => runs.rows[p]).map((p) => ({ label: STUDY_PRESETS[p].label, runs: runs.rows[p] })),
    ...(runs.transfer.length ? [{ label: TRANSFER_LABEL, runs: runs.transfer }] : []),
  ];
}

export const CURVE_METRICS = [
  { metric: 'valTop1', title: 'Validation accuracy (%)', scale: 100 },
  { metric: 'trainTop1', title: 'Training accuracy (%)', scale: 100 },
  { metric: 'valLoss', title: 'Validation loss', scale: 1 },
  { metric: 'trainLoss', title: 'Training loss (label-smoothed)', scale: 1 },
] as const;

/** One chart per metric: the mean over seeds per epoch of every configuration. */
export function learningCurveCharts(runs: AblationRuns): Array<{ title: string; traces: Trace[] }> {
  const series = labelledRuns(runs);
  return CURVE_METRICS.map(({ metric, title, scale }) => ({
    title,
    traces: series.map((s) => {
      const y = meanCurve(s.runs, metric).map((v) => v * scale);
      return { type: 'scatter', mode: 'lines+markers', name: s.label, x: y.map((_, i) => i + 1), y };
    }),
  }));
}

/** The module row (transfer excluded) with the best mean validation accuracy, and its runs. */
export function bestModuleRow(rows: RowSummary[], runs: AblationRuns): { row: RowSummary; runs: RunRecord[] } {
  const candidates = rows.filter((r) => r.key !== 'transfer');
  if (candidates.length === 0) throw new Error('no module rows');
  const row = candidates.reduce((a, b) => (b.valAcc.mean > a.valAcc.mean ? b : a));
  return { row, runs: runs.rows[row.key as StudyPreset] };
}

/** Whether a preset adds an attention module (SE, CBAM or both) to its blocks. */
function hasAttention(key: string): boolean {
  const p = STUDY_PRESETS[key as StudyPreset];
  return p !== undefined && 'attention' in p.modules;
}

/**
 * How long the ablation took and how fast the rows train, in words, from the runs: total training
 * minutes (as measured when each run trained), the plain model's rate and the attention rows' range.
 */
export function ablationTimingText(runs: AblationRuns, rows: RowSummary[], s: AblationSettings): string {
  const t = ablationTrainMinutes(runs);
  const plain = rows.find((r) => r.key === 'convnext');
  const attention = rows.filter((r) => hasAttention(r.key)).map((r) => r.trainImagesPerSec.mean);
  const parts = [
    `**This run (${s.mode} mode):** ${t.runs} training runs (pretraining included), ${fmt(t.minutes, 1)} minutes of training in all ` +
      `as measured when each run trained (${t.cached} of them read back from \`runs/study-ablation/\`).`,
  ];
  if (plain) {
    parts.push(`The plain model trains at ${fmt(plain.trainImagesPerSec.mean, 0)} images/s at batch ${s.batchSize}` +
      (attention.length ? `, the rows with attention modules at ${fmt(Math.min(...attention), 0)}–${fmt(Math.max(...attention), 0)} images/s ` +
        `(${fmt(Math.min(...attention) / plain.trainImagesPerSec.mean, 2)}–${fmt(Math.max(...attention) / plain.trainImagesPerSec.mean, 2)}× the plain rate).` : '.'));
  }
  return parts.join(' ');
}
