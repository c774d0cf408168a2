/** Notebook 01: the ConvNeXt family's configurations, exact counts and throughput beside Table 1. */
import { tf } from '../backend';
import { CONVNEXT_VARIANTS, complexity, createModel } from '../convnext';
import { withoutInit } from '../nn';
import { type InferenceResult, measureInference } from './inference';
import type { Mode } from './mode';
import { PAPER_VARIANTS, type Table1Row, paperRow } from './paper';
import type { Trace } from './plot';
import { type Row, vsPaper } from './table';

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

/** Table 1's parameter and FLOPs columns, ours beside the paper's. */
export function table1Rows(counted: FamilyCount[]): Row[] {
  return counted.map((r) => ({
    model: r.model,
    resolution: `${r.size}²`,
    ...vsPaper('params, M', r.paper?.paramsM, r.params / 1e6),
    ...vsPaper('GFLOPs', r.paper?.gflops, r.macs / 1e9),
    'MACs (exact)': r.macs,
    'paper section': r.paper ? r.paper.section : '—',
    'matches paper': matchesPaper(r),
  }));
}

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

/** Log-log axes for `familyScatter`. */
export const FAMILY_SCATTER_LAYOUT = {
  xaxis: { type: 'log', title: { text: 'parameters (M, log scale)' } },
  yaxis: { type: 'log', title: { text: 'GFLOPs (= GMACs, log scale)' } },
};

export interface FamilyBench {
  variants: string[];
  size: number;
  batches: number[];
  iterations: number;
}

/** What the throughput section measures in each mode (the notebook's table of modes says the same). */
export const FAMILY_BENCH: Record<Mode, FamilyBench> = {
  smoke: { variants: ['atto'], size: 64, batches: [2], iterations: 2 },
  quick: { variants: ['atto', 'femto', 'pico', 'nano', 'tiny'], size: 224, batches: [1, 8], iterations: 3 },
  full: { variants: Object.keys(CONVNEXT_VARIANTS), size: 224, batches: [1, 32], iterations: 10 },
};

export type FamilySpeed = InferenceResult & { model: string };

/** Times every variant of `bench` at every batch size; throws if the runs leaked tensors. */
export function measureFamilyThroughput(bench: FamilyBench): FamilySpeed[] {
  const before = tf.memory().numTensors;
  const speed: FamilySpeed[] = [];
  for (const variant of bench.variants) {
    const model = createModel(`convnext_${variant}`);
    try {
      for (const batchSize of bench.batches) {
        speed.push({ model: `convnext_${variant}`, ...measureInference(model, { batchSize, size: bench.size, iterations: bench.iterations }) });
      }
    } finally {
      model.dispose();
    }
  }
  if (tf.memory().numTensors !== before) throw new Error('the throughput runs leaked tensors');
  return speed;
}

/** The throughput table: ours beside Table 1's V100 figure (224² only). */
export function throughputRows(speed: FamilySpeed[]): Row[] {
  return speed.map((r) => ({
    model: r.model,
    resolution: `${r.size}²`,
    batch: r.batchSize,
    'ms per batch (median)': r.msPerBatch,
    ...vsPaper('images/s', r.size === 224 ? paperRow(r.model, 224)?.throughput : null, r.imagesPerSecond),
  }));
}

/** One bar series per batch size, variants along x. */
export function throughputBars(speed: FamilySpeed[]): Trace[] {
  const batches = [...new Set(speed.map((r) => r.batchSize))];
  return batches.map((batchSize) => {
    const rows = speed.filter((r) => r.batchSize === batchSize);
    return { type: 'bar', name: `batch ${batchSize}`, x: rows.map((r) => r.model.replace('convnext_', '')), y: rows.map((r) => r.imagesPerSecond) };
  });
}
