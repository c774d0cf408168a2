/** Notebook 06: the pet-age regression's tables, charts and the sentences that read its numbers. */
import { PET_AGE_MAX_MONTHS } from '../data/pet-age';
import type { PetAgeStandIn } from '../data/regression-stand-in';
import { STAND_IN_AGE_PRIOR, STAND_IN_MAX_ZOOM } from '../data/regression-stand-in';
import {
  type AgeRowSummary, type AgeRun, type LongerCheck, type PetAgeRuns, type PetAgeSettings, type RowKey, type StudySizeRow,
  PET_AGE_MODELS, STUDY_BASELINE_MAE, STUDY_TABLE2, compareMae, dataLabel, modelName, petAgeMinutes, rowBuckets, rowLabel,
} from '../experiments/pet-age';
import { formatStat, meanStd, type ClaimCheck } from '../experiments/study-ablation';
import type { ResolvedData } from '../train/run-config';
import type { RegressionLossName } from '../train/recipe';
import { AGE_BUCKETS_MONTHS, maeByBucket } from '../metrics/regression';
import { fmt, listWords } from './markdown';
import type { Trace } from './plot';
import { type Row, vsPaper } from './table';

/** The data in words: what it is, its splits, its noise; the stand-in says it is one and how it is made. */
export function datasetText(s: PetAgeSettings, data: ResolvedData, standIn?: PetAgeStandIn): string {
  const n = (d?: { length: number }) => (d ? d.length.toLocaleString('en-US') : '—');
  if (s.data.kind === 'real') {
    return `**Data: the real pet-age dataset** at \`${s.data.root}\`: ${n(data.train)} training, ${n(data.val)} validation and ` +
      `${n(data.test)} test photos (the study: 20,000 / 3,000 / 3,000). Labels are ages in months in [0, ${PET_AGE_MAX_MONTHS}); ` +
      'the study says about 6% of the training and validation labels may be wrong and the test labels are clean.';
  }
  const noisy = standIn ? standIn.train.noisy.reduce((a, b) => a + b, 0) + standIn.val.noisy.reduce((a, b) => a + b, 0) : NaN;
  const labelled = standIn ? standIn.train.noisy.length + standIn.val.noisy.length : NaN;
  return `**Data: a STAND-IN, not pet ages.** The pet-age photos are not redistributable and none are reachable on this machine, ` +
    `so this run uses a regression set built from the real flowers5 photos${standIn?.syntheticSource ? ' (here their synthetic smoke-test stand-in)' : ''} ` +
    `whose target is a genuine visual quantity with a known ground truth: the **zoom** applied to each photo. Every photo gets an ` +
    `"age" *a* in [0, ${PET_AGE_MAX_MONTHS}) months drawn from a right-skewed prior shaped like the study's Figure 8 (Gamma(${STAND_IN_AGE_PRIOR.shape}, ` +
    `${STAND_IN_AGE_PRIOR.scale} months): many young, few old) and is zoomed in by ${STAND_IN_MAX_ZOOM}^(a/${PET_AGE_MAX_MONTHS}), a square crop at a random ` +
    `position resized to ${standIn?.imageSize ?? '—'} px: age 0 is the whole photo, age 191 a crop of about a quarter of its side. The age is ` +
    `drawn per photo, independently of its class, name and order, so only the pixels carry it (the apparent scale of petals, ` +
    `and the resampling blur of close crops). Splits follow the study's proportions: ${n(data.train)} train, ${n(data.val)} validation and ` +
    `${n(data.test)} test images${s.data.limit ? ` (the first ${s.data.limit} of each split in this mode)` : ''}. ` +
    `As in the study, ${fmt(100 * s.data.labelNoise, 0)}% of the training and validation labels are wrong (${fmt(noisy, 0)} of ${fmt(labelled, 0)} here: ` +
    'each replaced by a fresh draw from the prior at least 12 months from the truth); the test labels are clean.';
}

/** Figure 8: histograms of the training labels (as given, noise included) and of the clean test ages. */
export function ageHistogramTraces(data: ResolvedData, label: string): Trace[] {
  const bins = { start: 0, end: PET_AGE_MAX_MONTHS, size: 6 };
  const traces: Trace[] = [{ type: 'histogram', name: `${label}: train labels`, x: Array.from(data.train.targets), xbins: bins, opacity: 0.75 }];
  if (data.test) traces.push({ type: 'histogram', name: `${label}: test ages (clean)`, x: Array.from(data.test.targets), xbins: bins, opacity: 0.75 });
  return traces;
}

/** The mode's training settings, one row each. */
export function settingsRows(s: PetAgeSettings): Row[] {
  return [
    { setting: 'data', value: dataLabel(s) },
    { setting: 'models', value: STUDY_TABLE2.map((r) => `${r.label}: ${modelName(s, r.key)}`).join('; ') },
    { setting: 'input', value: `${s.inputSize}×${s.inputSize}` },
    { setting: 'epochs × batch', value: `${s.epochs} × ${s.batchSize}` },
    { setting: 'optimizer', value: `AdamW lr ${s.lr}, wd ${s.weightDecay}, warmup ${s.warmupEpochs} epoch(s), cosine to 1e-5` },
    { setting: 'loss', value: `${s.loss} on (age − mean) / std of the training labels; predictions mapped back and clamped to [0, ${PET_AGE_MAX_MONTHS}]` },
    { setting: 'augmentation', value: s.augment.scale ? `RandomResizedCrop scale ${s.augment.scale.join('–')}, flips` : 'horizontal flips only (the zoom is the target: no crops or rescaling)' },
    { setting: 'best checkpoint', value: 'lowest validation MAE (noisy validation labels), scored on the clean test split' },
    { setting: 'seeds', value: s.seeds.join(', ') },
  ];
}

/** Table 2: the study's six models at 224 px (exact counts) beside the study's figures, and our runs' MAE. */
export function table2Rows(s: PetAgeSettings, sizes: StudySizeRow[], rows: AgeRowSummary[]): Row[] {
  return STUDY_TABLE2.map((st) => {
    const size = sizes.find((x) => x.key === st.key)!;
    const ours = rows.find((r) => r.key === st.key);
    return {
      model: st.label,
      ...vsPaper('params', st.params, `${fmt(size.params1000 / 1e6, 1)}M`),
      ...vsPaper('FLOPs at 224', st.flops, `${fmt(size.macs224 / 1e9, 1)}G${size.macs384 ? ` (384: ${fmt(size.macs384 / 1e9, 1)}G)` : ''}`),
      ...vsPaper('MAE (months)', st.mae, ours ? formatStat(ours.testMae, 2) : null),
      'trained here': ours ? `${ours.model} @ ${s.inputSize} px` : '—',
      'params (trained)': ours ? ours.params : null,
      'MMACs (trained)': ours ? ours.macs / 1e6 : null,
      'RMSE': ours ? formatStat(ours.testRmse, 2) : null,
      'R²': ours ? formatStat(ours.testR2, 3) : null,
      'min / run': ours ? formatStat(ours.minutes, 1) : null,
      seeds: ours?.testMae.n ?? 0,
    };
  });
}

/** Figure 10: mean over seeds per epoch of a metric, one trace per row (and the longer transformer runs dashed). */
export function curveTraces(runs: PetAgeRuns, metric: 'trainLoss' | 'valLoss' | 'trainMae' | 'valMae'): Trace[] {
  const mean = (rs: AgeRun[]) => {
    const epochs = Math.min(...rs.map((r) => r.metrics.length));
    return Array.from({ length: epochs }, (_, e) => meanStd(rs.map((r) => Number(r.metrics[e][metric] ?? NaN))).mean);
  };
  const traces: Trace[] = (Object.keys(runs.rows) as RowKey[]).map((k) => {
    const y = mean(runs.rows[k]);
    return { type: 'scatter', mode: 'lines+markers', name: rowLabel(k), x: y.map((_, i) => i + 1), y };
  });
  for (const k of Object.keys(runs.longer) as RowKey[]) {
    const y = mean(runs.longer[k]!);
    traces.push({ type: 'scatter', mode: 'lines', line: { dash: 'dash' }, name: `${rowLabel(k)} (${y.length} epochs)`, x: y.map((_, i) => i + 1), y });
  }
  return traces;
}

/** Predicted against true age on the test split (one run), with the diagonal. */
export function scatterTraces(run: AgeRun, label: string): Trace[] {
  return [
    { type: 'scatter', mode: 'markers', name: label, x: run.test.target, y: run.test.pred, marker: { size: 5, opacity: 0.6 } },
    { type: 'scatter', mode: 'lines', name: 'perfect', x: [0, PET_AGE_MAX_MONTHS], y: [0, PET_AGE_MAX_MONTHS], line: { dash: 'dot', color: '#888' } },
  ];
}

/** MAE per age bucket of every row (test predictions of all seeds pooled), as grouped bars. */
export function bucketTraces(runs: PetAgeRuns, edges: readonly number[] = AGE_BUCKETS_MONTHS): Trace[] {
  return (Object.keys(runs.rows) as RowKey[]).map((k) => {
    const b = rowBuckets(runs.rows[k], edges);
    return { type: 'bar', name: rowLabel(k), x: b.map((x) => `${x.label} (n=${x.count / runs.rows[k].length})`), y: b.map((x) => x.mae) };
  });
}

/** The robust-loss comparison: test MAE (clean labels) per loss, mean ± std over seeds. */
export interface NoiseRow {
  loss: RegressionLossName;
  testMae: ReturnType<typeof meanStd>;
  valMae: ReturnType<typeof meanStd>;
  /** MAE on the clean test items of the oldest buckets (≥ 96 months), where wrong labels pull the fit most. */
  oldMae: ReturnType<typeof meanStd>;
}

export function noiseSummary(runs: PetAgeRuns): NoiseRow[] {
  return (Object.keys(runs.noise) as RegressionLossName[]).map((loss) => {
    const rs = runs.noise[loss]!;
    return {
      loss,
      testMae: meanStd(rs.map((r) => r.test.mae)),
      valMae: meanStd(rs.map((r) => Math.min(...r.metrics.map((e) => e.valMae ?? Infinity)))),
      oldMae: meanStd(rs.map((r) => {
        const b = maeByBucket(r.test.pred, r.test.target, [0, 96, PET_AGE_MAX_MONTHS]);
        return b[1].mae;
      })),
    };
  });
}

const LOSS_WORDS: Record<RegressionLossName, string> = {
  'mse': 'MSE (squared error: a wrong label pulls with its full residual)',
  'l1': 'L1 (the study\'s metric as the loss)',
  'smooth-l1': 'smooth L1 (β = 1 std)',
  'huber': 'Huber (δ = 1 std: quadratic near the fit, linear beyond)',
  'trimmed-l1': 'trimmed L1 (each batch\'s 10% largest residuals left out)',
};

export function noiseRows(rows: NoiseRow[]): Row[] {
  return rows.map((r) => ({
    loss: LOSS_WORDS[r.loss], 'test MAE (clean)': formatStat(r.testMae, 2), 'test MAE, ages ≥ 96': formatStat(r.oldMae, 2),
    'best val MAE (noisy)': formatStat(r.valMae, 2), seeds: r.testMae.n,
  }));
}

/** The noise comparison in words: which loss is best, and whether it is beyond the seed spread. */
export function noiseText(rows: NoiseRow[], s: PetAgeSettings): string {
  if (rows.length < 2 || !s.noise) return '';
  const best = rows.reduce((a, b) => (b.testMae.mean < a.testMae.mean ? b : a));
  const l1 = rows.find((r) => r.loss === 'l1');
  const mse = rows.find((r) => r.loss === 'mse');
  const parts = [`The model is ${rowLabel(s.noise.row)}'s row (\`${modelName(s, s.noise.row)}\`). ` +
    `With ${fmt(100 * (s.data.kind === 'stand-in' ? s.data.labelNoise : 0.06), 0)}% wrong training labels, the lowest clean-test MAE ` +
    `comes from **${best.loss}** (${formatStat(best.testMae, 2)} months over ${best.testMae.n} seeds).`];
  for (const ref of [mse, l1]) {
    if (!ref || ref === best) continue;
    const c = compareMae(best.testMae, ref.testMae);
    parts.push(`Against ${ref.loss} (${formatStat(ref.testMae, 2)}) the difference is ${fmt(c.diff, 2)} months with a standard error of ${fmt(c.se, 2)}: ` +
      `${c.beyondNoise ? 'beyond twice the standard error, so the seeds support it' : 'within twice the standard error, so these seeds cannot tell the losses apart'}.`);
  }
  return parts.join(' ');
}

export function claimRows(claims: ClaimCheck[]): Row[] {
  return claims.map((c) => ({ 'the study\'s finding': c.claim, 'on our runs': c.verdict, evidence: c.evidence }));
}

export function longerRows(checks: LongerCheck[]): Row[] {
  return checks.map((c) => ({
    model: c.label,
    [`test MAE, ${c.shortEpochs} epochs`]: formatStat(c.short, 2),
    [`test MAE, ${c.longEpochs} epochs`]: formatStat(c.long, 2),
    'gap to best CNN before': c.gapShort,
    'gap to best CNN after': c.gapLong,
    'runs (longer)': c.long.n,
  }));
}

/** Whether the longer schedule closed the transformers' gap, in words. */
export function longerText(checks: LongerCheck[]): string {
  if (checks.length === 0) return 'The longer transformer runs were skipped in this mode.';
  const parts = checks.map((c) => `${c.label}: ${fmt(c.short.mean, 2)} → ${fmt(c.long.mean, 2)} months ` +
    `(gap to the best CNN ${fmt(c.gapShort, 2)} → ${fmt(c.gapLong, 2)})`);
  const closed = checks.filter((c) => c.gapLong < 0.5 * c.gapShort || c.gapLong <= 0);
  const shrank = checks.filter((c) => c.gapLong < c.gapShort);
  const verdict = closed.length === checks.length ? 'the gap is largely a matter of training length here'
    : shrank.length > 0 ? 'a longer schedule narrows the gap but does not close it here'
      : 'a longer schedule does not narrow the gap here';
  return `With ${checks[0].longEpochs / checks[0].shortEpochs}× the epochs (${checks[0].long.n} seed${checks[0].long.n === 1 ? '' : 's'}, ` +
    `compared with the CNNs' short schedule): ${parts.join('; ')}. So ${verdict}. ` +
    `One longer run per row is a single draw: its change counts only where it exceeds the short schedule's seed spread ` +
    `(${listWords(checks.map((c) => `${c.label} ±${fmt(c.short.std, 2)}`))}).`;
}

/** How much the seeds allow concluding: the spread of each row and the smallest gap between neighbours in the ranking. */
export function spreadText(rows: AgeRowSummary[]): string {
  if (rows.length === 0) return '';
  const sorted = [...rows].sort((a, b) => a.testMae.mean - b.testMae.mean);
  const pairs = sorted.slice(1).map((r, i) => ({ a: sorted[i], b: r, c: compareMae(r.testMae, sorted[i].testMae) }));
  const resolved = pairs.filter((p) => p.c.beyondNoise);
  const stds = rows.map((r) => r.testMae.std);
  return `Our ranking by mean test MAE: ${sorted.map((r) => `${r.label} ${fmt(r.testMae.mean, 2)}`).join(' < ')}. ` +
    `Seed-to-seed standard deviations are ${fmt(Math.min(...stds), 2)}–${fmt(Math.max(...stds), 2)} months; of the ${pairs.length} ` +
    `neighbouring pairs in that order, ${resolved.length} differ by more than twice their standard error` +
    (resolved.length ? ` (${resolved.map((p) => `${p.a.label} < ${p.b.label}`).join(', ')})` : '') +
    `, the others are within the seed spread and their order is not established by ${rows[0].testMae.n} seeds. ` +
    'The study reports one run per model, so its own differences of a fraction of a month (ResNet-50 vs ConvNeXt-B: 0.52) ' +
    'cannot be told from seed noise either.' + unlearnedText(rows);
}

/** Rows whose predictions explain almost none of the target's variance: their rank says nothing about the family. */
function unlearnedText(rows: AgeRowSummary[]): string {
  const flat = rows.filter((r) => r.testR2.mean < UNLEARNED_R2);
  if (flat.length === 0) return '';
  return ` ${listWords(flat.map((r) => `${r.label} (R² ${formatStat(r.testR2, 3)})`))} did not learn the target in this budget: ` +
    `R² below ${UNLEARNED_R2} is little better than predicting one age for every image, so ${flat.length === 1 ? 'its' : 'their'} place in ` +
    'the ranking reflects this budget and data, not how the family would do on real pet photos.';
}

/** The closing note's Table 2: mean ± std over seeds and minutes per row, measured in this run. */
export function closingRows(rows: AgeRowSummary[], baseline: { mae: number }): Row[] {
  return [
    ...rows.map((r) => ({
      row: r.label, model: r.model, 'test MAE (months)': formatStat(r.testMae, 2), 'R²': formatStat(r.testR2, 3),
      'study MAE': STUDY_TABLE2.find((x) => x.key === r.key)!.mae, 'train min / run': formatStat(r.minutes, 1),
      'img/s': Math.round(r.trainImagesPerSec.mean),
    })),
    { row: 'constant (median) baseline', model: '—', 'test MAE (months)': fmt(baseline.mae, 2), 'R²': '—', 'study MAE': STUDY_BASELINE_MAE, 'train min / run': '—', 'img/s': null },
  ];
}

/** The run's cost in words. */
export function timingText(runs: PetAgeRuns, s: PetAgeSettings): string {
  const t = petAgeMinutes(runs);
  return `**This run (${s.mode} mode):** ${t.runs} training runs, ${fmt(t.minutes, 1)} minutes of training in all as measured when each ` +
    `run trained (${t.cached} read back from \`runs/pet-age/\`).`;
}

/** Test R² under which a row counts as not having learned the target. */
export const UNLEARNED_R2 = 0.05;

/** Which rows are transformers (for prose). */
export const TRANSFORMER_ROWS = (Object.keys(PET_AGE_MODELS) as RowKey[]).filter((k) => PET_AGE_MODELS[k].transformer);
