/** Notebook 04: the study ablation's tables, curves and the sentences that read its numbers. */
import { STUDY_ARCHS, STUDY_PRESETS, STUDY_PRESET_NAMES, type StudyPreset } from '../convnext';
import type { RunRecord } from '../experiments/cached-run';
import {
  type AblationRuns, type AblationSettings, type Comparison, type RowSummary, TRANSFER_LABEL,
  ablationTrainMinutes, formatStat, meanCurve, studyComplexity,
} from '../experiments/study-ablation';
import type { Conclusion } from '../experiments/study-conclusions';
import { type ExtensionResult, type StudyEstimate, secondsPerFlowerEpoch, RECORDED_STUDY_RUN } from '../experiments/study-extensions';
import { QUICK_STUDY_PILOTS, QUICK_STUDY_SCALE } from '../experiments/study-ablation';
import { STUDY_TABLE3, STUDY_TABLE3_SETTING } from '../experiments/study-figures';
import { RESOLVE_FACTOR } from '../experiments/verdict';
import { fmt, listWords, signed } from './markdown';
import type { Trace } from './plot';
import { type Row, vsStudy } from './table';

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

/** Figures of the study's Table 3 by row key (accuracies in %); a row without figures shows "—". */
export type StudyTable3 = Record<string, { trainLoss?: number; trainAcc?: number; valLoss?: number; valAcc?: number }>;

/** Table 3: mean ± std over seeds of the final epoch, beside the study's printed figures (STUDY_TABLE3, quoted). */
export function table3Rows(rows: RowSummary[], study: StudyTable3 = STUDY_TABLE3): Row[] {
  return rows.map((r) => {
    const st = study[r.key] ?? {};
    return {
      configuration: r.label,
      ...vsStudy('train-loss', st.trainLoss, formatStat(r.trainLoss, 3)),
      ...vsStudy('train-acc %', st.trainAcc, formatStat(r.trainAcc, 1, 100)),
      ...vsStudy('val-loss', st.valLoss, formatStat(r.valLoss, 3)),
      ...vsStudy('val-acc %', st.valAcc, formatStat(r.valAcc, 1, 100)),
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

/** The note under Table 3: where the study's columns come from, and what ours are. */
export const TABLE3_NOTE = `(study) columns: the reproduction study's Table 3, quoted as printed (${STUDY_TABLE3_SETTING}); ` +
  '(ours): mean ± sample std over our seeds, final epoch, at the settings above';

/** The verdict rule in words, from ./verdict.ts. */
export const VERDICT_RULE_TEXT = `A difference Δ of mean accuracy is *resolved* when |Δ| > ${RESOLVE_FACTOR}·SE, with SE = √(s₁²/n₁ + s₂²/n₂) over ` +
  'the seeds of each side (Welch) and at least two seeds a side; then the claim *reproduces* (Δ in the claimed direction) or *reverses* ' +
  '(the other direction). Otherwise it is **not resolved here**: within the seed spread, neither a win nor a loss. "About the same" ' +
  `reproduces when the whole band Δ ± ${RESOLVE_FACTOR}·SE lies within ±1 point.`;

const pt = (x: number) => signed(100 * x, 1);

/** The study's conclusions, one row each: the test, the study's own difference, ours ± SE, and the verdict. */
export function conclusionRows(conclusions: Conclusion[]): Row[] {
  return conclusions.map((c) => ({
    'the study\'s conclusion': c.claim,
    test: c.test,
    'Δ points (study, one run)': c.study.map((d) => pt(d.diff)).join(' / ') || '—',
    'Δ ± SE points (ours)': c.ours.map((d) => `${pt(d.diff)} ± ${fmt(100 * d.se, 1)}`).join(' / ') || '—',
    verdict: c.verdict,
  }));
}

/**
 * What the conclusions table says, in words, from the run: the plain row against the study's regime (≥ 70% val acc),
 * then which conclusions reproduce, reverse, or are not resolved.
 */
export function conclusionsText(conclusions: Conclusion[], rows: RowSummary[], s: AblationSettings, target = 0.7): string {
  const plain = rows.find((r) => r.key === 'convnext');
  const by = (v: Conclusion['verdict']) => conclusions.filter((c) => c.verdict === v).map((c) => c.claim);
  const regime = plain
    ? `The plain ConvNeXt reaches ${fmt(100 * plain.valAcc.mean, 1)} ± ${fmt(100 * plain.valAcc.std, 1)}% validation accuracy over ${plain.valAcc.n} seed(s) ` +
      `(the study: ${fmt(STUDY_TABLE3.convnext.valAcc, 1)}%), ${plain.valAcc.mean >= target ? 'at or above' : 'below'} the ${fmt(100 * target, 0)}% of the study's regime` +
      (plain.valAcc.mean >= target ? ', so the conclusions below are tested where the study made them.' :
        `; ${s.mode === 'quick' ? 'the quick budget (QUICK_STUDY_SCALE) did not get there, so' : 'in this mode'} the verdicts below are about an earlier stage of training than the study's.`)
    : 'No plain ConvNeXt row in this run.';
  return [
    `**This run (${s.mode} mode, ${s.epochs} epoch(s) at ${s.inputSize} px, seeds ${s.seeds.join(', ')}):** ${regime}`,
    '',
    `* **Reproduces:** ${listWords(by('reproduces'), 'none')}.`,
    `* **Reverses:** ${listWords(by('reverses'), 'none')}.`,
    `* **Not resolved here** (within the seed spread): ${listWords(by('not resolved here'), 'none')}.`,
  ].join('\n');
}

/** The extension section's table: one row per arm, with the comparison it belongs to. */
export function extensionRows(results: ExtensionResult[]): Row[] {
  return results.flatMap((r) => [r.a, r.b].map((a, i) => ({
    comparison: i === 0 ? r.comparison.title : '',
    configuration: a.arm.label,
    'val-acc % (ours)': formatStat(a.stats.valAcc, 1, 100),
    'train-acc % (ours)': formatStat(a.stats.trainAcc, 1, 100),
    params: a.params,
    MMACs: a.macs / 1e6,
    'train min per run': formatStat(a.minutes, 2),
    seeds: a.stats.valAcc.n,
  })));
}

/** One line per comparison: its verdict (from the run). */
export function extensionVerdictText(results: ExtensionResult[]): string {
  return results.map((r) => `* **${r.comparison.title}:** ${r.verdict}.`).join('\n');
}

/** The estimate of the notebook's training time in a mode, in words, with the recorded figure it comes from. */
export function studyEstimateText(e: StudyEstimate, s: AblationSettings): string {
  const r = RECORDED_STUDY_RUN;
  return `**Estimated training time of this mode's settings when nothing is cached** (${s.epochs} epochs at ${s.inputSize} px, ` +
    `${s.seeds.length} seeds): Table 3 ${e.table3Runs} runs ≈ ${fmt(e.table3, 0)} min, extensions ${e.extensionRuns} new runs ≈ ` +
    `${fmt(e.extensions, 0)} min, transfer row ${e.transferRuns} runs and the pretraining ≈ ${fmt(e.transfer, 0)} min; **≈ ${fmt(e.total, 0)} min** ` +
    `in all on the 2-core machine. From the one recorded quick run (${r.source}: ${r.minutes} min for ${r.flowerRuns} runs × ${r.epochs} epochs at ` +
    `${r.inputSize} px and the pretraining), ${fmt(secondsPerFlowerEpoch(s.inputSize), 1)} s per run-epoch on average over the rows` +
    ' (the CBAM rows take about twice the plain row\'s time); the measured time is in the line after the training log.';
}

/** The mode's scale in words, and in quick mode why it is what it is (QUICK_STUDY_SCALE). */
export function studyScaleText(s: AblationSettings): string {
  const arch = STUDY_ARCHS[s.arch];
  const what = `**${s.mode} mode** trains \`study_${s.arch}_<row>\` (blocks ${arch.depths.join('-')}, widths ${arch.dims.join('-')}) at ` +
    `${s.inputSize}×${s.inputSize} for ${s.epochs} epoch(s), batch ${s.batchSize}, over seeds ${s.seeds.join(', ')}.`;
  if (s.mode !== 'quick') return what;
  const q = QUICK_STUDY_SCALE;
  const pilots = QUICK_STUDY_PILOTS.map((p) => `${p.arch} at ${p.inputSize} px, ${p.epochs} epochs: ${fmt(p.valTop1, 1)}% in ${p.seconds} s`).join('; ');
  return `${what} Why (\`QUICK_STUDY_SCALE\` in \`src/experiments/study-ablation.ts\`): pilot runs of the plain row (seed 0, measured ` +
    `2026-12-07) gave ${pilots}. At 64 px the row plateaus near 59% however long it trains, so the lever is resolution, not epochs ` +
    `or a bigger model; quick mode trains \`${q.arch}\` at ${q.inputSize} px for ${q.epochs} epochs (${q.warmupEpochs} of warmup), ` +
    `which with the extension rows took ${fmt(RECORDED_STUDY_RUN.minutes, 0)} minutes here. The study's regime (its plain row at ` +
    `${fmt(STUDY_TABLE3.convnext.valAcc, 1)}%; the target here was ≥ 70%) is out of reach of a from-scratch run on this CPU: ` +
    'the conclusions below are tested at an earlier stage of training than the study\'s, and the sentence under them says how far.';
}
