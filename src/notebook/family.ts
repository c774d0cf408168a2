/** Notebook 01: the ConvNeXt family's configurations, exact counts and throughput beside Table 1. */
import * as os from 'os';
import { CONVNEXT_VARIANTS, complexity, createModel } from '../convnext';
import { withoutInit } from '../nn';
import { fmt, listWords } from './markdown';
import type { Mode } from './mode';
import { PAPER_VARIANTS, type Table1Row, paperRow } from './paper';
import type { Trace } from './plot';
import {
  type SpeedPlan, type SpeedResult, allLoads, imagesPerSecondRange, loadRange, measureSpeeds, medianRange,
} from './speed';
import { type Row, STUDY_SUFFIX, vsPaper } from './table';
import { studyTable1Row } from '../experiments/study-figures';

export { allLoads, loadRange } from './speed';

/** Every variant's widths and blocks beside Section 3's (timm's small members have no paper figures). */
export function variantRows(): Row[] {
  return Object.entries(CONVNEXT_VARIANTS).map(([variant, arch]) => {
    const paper = PAPER_VARIANTS[`convnext_${variant}`];
    return {
      model: `convnext_${variant}`,
      ...vsPaper('C (widths)', paper?.dims.join(', '), arch.dims.join(', ')),
      ...vsPaper('B (blocks)', paper?.depths.join(', '), arch.depths.join(', ')),
    };
  });
}

export interface FamilyCount {
  model: string;
  size: number;
  params: number;
  macs: number;
  paper?: Table1Row;
}

/** Params and MACs of every variant at 224² and, where the paper prints one, at 384² (shapes only). */
export function countFamily(): FamilyCount[] {
  return Object.keys(CONVNEXT_VARIANTS).flatMap((variant) => {
    const model = `convnext_${variant}`;
    const m = withoutInit(() => createModel(model));
    const sizes = paperRow(model, 384) ? [224, 384] : [224];
    const rows = sizes.map((size) => ({ model, size, params: m.numParams(), macs: complexity(m, size).macs, paper: paperRow(model, size) }));
    m.dispose();
    return rows;
  }).sort((a, b) => a.size - b.size);
}

/** Whether our exact count rounds to the paper's printed figure (params to 1M, FLOPs to 0.1G). */
export function matchesPaper(r: FamilyCount): 'yes' | 'NO' | '—' {
  if (r.paper === undefined) return '—';
  return Math.round(r.params / 1e6) === r.paper.paramsM && Math.round(r.macs / 1e8) / 10 === r.paper.gflops ? 'yes' : 'NO';
}

/**
 * Table 1's parameter and FLOPs columns, ours beside the paper's, and the ImageNet top-1 the paper and the study
 * print (quoted: this project does not train on ImageNet; the section on released weights scores them).
 */
export function table1Rows(counted: FamilyCount[]): Row[] {
  return counted.map((r) => {
    const study = studyTable1Row(r.model, r.size);
    return {
      model: r.model,
      resolution: `${r.size}²`,
      ...vsPaper('params, M', r.paper?.paramsM, r.params / 1e6),
      ...vsPaper('GFLOPs', r.paper?.gflops, r.macs / 1e9),
      'MACs (exact)': r.macs,
      'paper section': r.paper ? r.paper.section : '—',
      'matches paper': matchesPaper(r),
      'top-1 % (paper)': r.paper?.top1 ?? null,
      [`top-1 %, paper as printed${STUDY_SUFFIX}`]: study?.paperAsPrinted ?? null,
      [`top-1 %, its "Ours"${STUDY_SUFFIX}`]: study?.studyOurs ?? null,
    };
  });
}

/** The note under Table 1: where each column comes from. */
export const TABLE1_NOTE = 'paper: Liu et al. 2022, Table 1 (ImageNet-1K rows where printed, else the ImageNet-22K rows; top-1 on ImageNet-1K val ' +
  'of the row\'s section); FLOPs = multiply-accumulates. study: the reproduction study\'s Table 1, quoted as printed (224 px, ' +
  'ImageNet-1K): the paper\'s figures as it prints them, and its own reproduction ("Ours"). Top-1 columns are quoted, not measured here.';

/** The row of one model at one size (throws when it was not counted). */
export function familyCount(counted: FamilyCount[], model: string, size: number): FamilyCount {
  const r = counted.find((c) => c.model === model && c.size === size);
  if (!r) throw new Error(`${model} at ${size}² was not counted`);
  return r;
}

/** Parameters against FLOPs at 224², ours (labelled line) and the paper's printed points. */
export function familyScatter(counted: FamilyCount[]): Trace[] {
  const at224 = counted.filter((r) => r.size === 224);
  const paper224 = at224.filter((r) => r.paper);
  return [
    { type: 'scatter', mode: 'lines+markers+text', name: 'ours (exact count)',
      x: at224.map((r) => r.params / 1e6), y: at224.map((r) => r.macs / 1e9),
      text: at224.map((r) => r.model.replace('convnext_', '')), textposition: 'top left' },
    { type: 'scatter', mode: 'markers', name: 'paper (Table 1)', marker: { symbol: 'circle-open', size: 14 },
      x: paper224.map((r) => r.paper!.paramsM), y: paper224.map((r) => r.paper!.gflops) },
  ];
}

/**
 * Ticks of a log axis at 1, 2 and 5 times the powers of ten between `lo` and `hi` (one step beyond each
 * end), labelled as plain numbers, with no minor ticks: plotly's default labels on a log axis spanning
 * two decades crowd its digits 2…9 together.
 */
export function logAxisTicks(lo: number, hi: number): { tickmode: 'array'; tickvals: number[]; ticktext: string[]; minor: { ticks: ''; showgrid: false } } {
  if (!(lo > 0 && hi >= lo)) throw new Error(`log axis range ${lo}…${hi} is not positive and ordered`);
  const vals: number[] = [];
  for (let e = Math.floor(Math.log10(lo)) - 1; e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) vals.push(Number((m * 10 ** e).toPrecision(1)));
  }
  const below = vals.filter((v) => v <= lo);
  const above = vals.filter((v) => v >= hi);
  const from = below.length ? below[below.length - 1] : vals[0];
  const to = above.length ? above[0] : vals[vals.length - 1];
  const tickvals = vals.filter((v) => v >= from && v <= to);
  return { tickmode: 'array', tickvals, ticktext: tickvals.map((v) => v.toLocaleString('en-US', { maximumFractionDigits: 3 })), minor: { ticks: '', showgrid: false } };
}

/** Log-log axes for `familyScatter`, ticked at 1-2-5 over the plotted values. */
export function familyScatterLayout(counted: FamilyCount[]): Record<string, unknown> {
  const at224 = counted.filter((r) => r.size === 224);
  const xs = [...at224.map((r) => r.params / 1e6), ...at224.flatMap((r) => (r.paper ? [r.paper.paramsM] : []))];
  const ys = [...at224.map((r) => r.macs / 1e9), ...at224.flatMap((r) => (r.paper ? [r.paper.gflops] : []))];
  return {
    xaxis: { type: 'log', title: { text: 'parameters (M, log scale)' }, automargin: true, ...logAxisTicks(Math.min(...xs), Math.max(...xs)) },
    yaxis: { type: 'log', title: { text: 'GFLOPs (= GMACs, log scale)' }, automargin: true, ...logAxisTicks(Math.min(...ys), Math.max(...ys)) },
  };
}

/** What the throughput section measures in each mode (`familyBenchModesText` writes the table of modes from it). */
export const FAMILY_BENCH: Record<Mode, SpeedPlan> = {
  smoke: { models: ['convnext_atto'], size: 64, batches: [2], rounds: 1, timing: { warmup: 1, minIters: 2, maxIters: 2, minSeconds: 0 } },
  quick: {
    models: ['atto', 'femto', 'pico', 'nano', 'tiny'].map((v) => `convnext_${v}`), size: 224, batches: [1, 8], rounds: 2,
    timing: { warmup: 1, minIters: 3, maxIters: 20, minSeconds: 1 },
  },
  full: {
    models: Object.keys(CONVNEXT_VARIANTS).map((v) => `convnext_${v}`), size: 224, batches: [1, 32], rounds: 3,
    timing: { warmup: 2, minIters: 5, maxIters: 50, minSeconds: 5 },
  },
};

/** One sentence of what a plan times per case: "1 untimed pass, then ≥ 3 timed passes and ≥ 1 s, per round". */
export function timingWords(p: SpeedPlan): string {
  const t = p.timing;
  const timed = t.minIters === t.maxIters ? `${t.minIters}` : `≥ ${t.minIters} (≤ ${t.maxIters})`;
  const secs = t.minSeconds > 0 ? ` and ≥ ${t.minSeconds} s` : '';
  return `${t.warmup} untimed + ${timed} timed passes${secs}, × ${p.rounds} round${p.rounds > 1 ? 's' : ''}`;
}

/** The table of what each mode measures, in Markdown, from the plans themselves. */
export function familyBenchModesText(
  plans: Record<Mode, SpeedPlan> = FAMILY_BENCH, name: (model: string) => string = (n) => n.replace('convnext_', ''), what = 'variants',
): string {
  const lines = [`| mode | ${what} | input | batch sizes | passes per model and batch size |`, '|---|---|---|---|---|'];
  for (const [m, p] of Object.entries(plans) as Array<[Mode, SpeedPlan]>) {
    lines.push(`| ${m} | ${p.models.map(name).join(', ')} | ${p.size}² | ${p.batches.join(', ')} | ${timingWords(p)} |`);
  }
  return lines.join('\n');
}

export type FamilySpeed = SpeedResult;

/** Times every variant of `plan` at every batch size; throws if the runs leaked tensors. */
export function measureFamilyThroughput(plan: SpeedPlan): FamilySpeed[] {
  return measureSpeeds(plan);
}

/** The throughput table: median ms and images/s with the min–max of the timed passes, ours beside Table 1's V100 figure (224² only). */
export function throughputRows(speed: FamilySpeed[]): Row[] {
  return speed.map((r) => {
    const [lo, hi] = imagesPerSecondRange(r);
    return {
      model: r.model,
      resolution: `${r.size}²`,
      batch: r.batchSize,
      'ms per batch: median (min–max)': medianRange(r.stats.medianMs, r.stats.minMs, r.stats.maxMs),
      ...vsPaper('images/s', r.size === 224 ? paperRow(r.model, 224)?.throughput : null, r.stats.imagesPerSecond),
      'images/s min–max': `${fmt(lo, 1)}–${fmt(hi, 1)}`,
      'timed passes': r.stats.timesMs.length,
      'load average (1 min)': loadRange(r.load),
    };
  });
}

/** One bar series per batch size, variants along x, median images/s with the min–max as error bars. */
export function throughputBars(speed: FamilySpeed[]): Trace[] {
  const batches = [...new Set(speed.map((r) => r.batchSize))];
  return batches.map((batchSize) => {
    const rows = speed.filter((r) => r.batchSize === batchSize);
    const ranges = rows.map(imagesPerSecondRange);
    return {
      type: 'bar', name: `batch ${batchSize}`, x: rows.map((r) => r.model.replace('convnext_', '')), y: rows.map((r) => r.stats.imagesPerSecond),
      error_y: { type: 'data', symmetric: false, array: rows.map((r, i) => ranges[i][1] - r.stats.imagesPerSecond),
        arrayminus: rows.map((r, i) => r.stats.imagesPerSecond - ranges[i][0]) },
    };
  });
}

/** Whether two measurements' min–max ranges of images/s overlap. */
function overlaps(a: SpeedResult, b: SpeedResult): boolean {
  const [alo, ahi] = imagesPerSecondRange(a);
  const [blo, bhi] = imagesPerSecondRange(b);
  return alo <= bhi && blo <= ahi;
}

const short = (model: string) => model.replace('convnext_', '');

/**
 * What the throughput table shows, in Markdown bullets written from the measurements: the load while
 * measuring; every place where a variant with more MACs came out faster than a smaller one, or a larger batch
 * slower per image than batch 1, each marked as inside or outside the spread of the timed passes.
 */
export function throughputFindings(speed: FamilySpeed[], counted: FamilyCount[], cores: number = os.cpus().length): string {
  const loads = allLoads(speed);
  const lines: string[] = [];
  const busy = loads.length > 0 && Math.max(...loads) > cores;
  lines.push(`* **Load average while measuring: ${loadRange(loads)}** on ${cores} cores (1-minute \`os.loadavg()\` as each round began)` +
    (busy ? '; above the core count, so other work shared the CPU and the figures can be off by tens of percent.' : '.'));
  const macsOf = (model: string, size: number) => counted.find((c) => c.model === model && c.size === size)?.macs ?? counted.find((c) => c.model === model)?.macs;
  const batches = [...new Set(speed.map((r) => r.batchSize))];
  const inversions: string[] = [];
  for (const b of batches) {
    const rows = speed.filter((r) => r.batchSize === b).sort((x, y) => (macsOf(x.model, x.size) ?? 0) - (macsOf(y.model, y.size) ?? 0));
    for (let i = 0; i + 1 < rows.length; i++) {
      const [small, big] = [rows[i], rows[i + 1]];
      if (big.stats.imagesPerSecond > small.stats.imagesPerSecond) {
        inversions.push(`${short(big.model)} faster than ${short(small.model)} at batch ${b} (${fmt(big.stats.imagesPerSecond, 1)} against ` +
          `${fmt(small.stats.imagesPerSecond, 1)} images/s; ${overlaps(small, big) ? 'within the spread of the passes' : 'outside the spread of the passes'})`);
      }
    }
  }
  lines.push(inversions.length === 0
    ? '* **Throughput falls as the MACs grow** at every batch size measured, variant after variant.'
    : `* **Out of MAC order:** ${listWords(inversions)}. Inside the spread, the order is noise; outside it, either the` +
      ' machine\'s load changed between the two measurements or the smaller variant uses the CPU less well.');
  if (batches.length > 1) {
    const one = Math.min(...batches);
    const slower: string[] = [];
    for (const r of speed.filter((x) => x.batchSize !== one)) {
      const base = speed.find((x) => x.model === r.model && x.batchSize === one);
      if (base && r.stats.imagesPerSecond < base.stats.imagesPerSecond) {
        slower.push(`${short(r.model)} at batch ${r.batchSize} (${fmt(r.stats.imagesPerSecond, 1)} against ${fmt(base.stats.imagesPerSecond, 1)} images/s at batch ${one}; ` +
          `${overlaps(r, base) ? 'within the spread' : 'outside the spread'})`);
      }
    }
    lines.push(slower.length === 0
      ? `* **A larger batch is never slower per image** than batch ${one} here.`
      : `* **Slower per image at a larger batch:** ${listWords(slower)}.`);
  }
  return lines.join('\n');
}
