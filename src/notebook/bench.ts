/**
 * Notebook 05: tables of a bench results file (bench/results/*.json, written by `npm run bench`) and the
 * live fused-vs-plain comparison. The library does not import bench/, so the file's shape is restated
 * here as far as the tables read it, and the bench's case runner is passed in.
 */
import * as path from 'path';
import { fmt } from './markdown';
import type { Mode } from './mode';
import { type Row, vsPaper } from './table';

interface StepStats { minMs: number; medianMs: number; maxMs: number; imagesPerSecond: number }

export interface BenchCase {
  case: { name: string; model: string; size: number; batch: number; mode: 'eval' | 'train' };
  ours: StepStats & { gflops: number };
  torch?: StepStats & { checkMaxAbsDiff?: number };
  ratio?: number;
}

export interface BenchFile {
  mode: string;
  createdAt: string;
  machine: { cpu: string; cores: number; loadAverageBefore: number[] };
  software: Record<string, string>;
  threads: { torch?: number };
  nativeKernels: { enabled: boolean };
  peak?: { n: number; oursGflops: number; torchGflops?: number };
  cases: BenchCase[];
  memory?: { case: string; steps: number; tensorsWarm: number; tensorsEnd: number; rssWarmMiB: number; rssEndMiB: number; peakRssMiB: number };
  pipeline?: Array<{ dataset: string; inputSize: number; batchSize: number; imagesPerSecond: number }>;
  realData?: Array<{ case: string; dataset: string; loaderWorkers?: number; syntheticImagesPerSecond: number; realImagesPerSecond: number; ratio: number; blockRatios?: number[] }>;
}

/** The newest full-mode CPU bench (GPU runs of bench/gpu-check.sh, backend node-gpu, are left out); `all` is newest first. */
export function latestFullBench<T extends { results: BenchFile }>(all: T[]): T | undefined {
  return all.find((r) => r.results.mode === 'full' && r.results.software.backend !== 'node-gpu');
}

/** One line naming the file, its time, machine, load and PyTorch version. */
export function benchHeadline(file: string, b: BenchFile): string {
  return `${file}: ${b.createdAt}, ${b.machine.cpu} (${b.machine.cores} cores), ` +
    `load average before ${b.machine.loadAverageBefore.map((x) => x.toFixed(2)).join(' ')}, ` +
    `fused kernels ${b.nativeKernels.enabled ? 'on' : 'off'}, PyTorch ${b.software.torch ?? 'absent'} (${b.threads.torch ?? '-'} threads)`;
}

/** Table 1's V100 throughput of ConvNeXt-T (images/s, quoted from the paper). */
export const PAPER_TINY_V100 = 774.7;

const stepMs = (s: StepStats) => `${s.minMs.toFixed(0)} / ${s.medianMs.toFixed(0)} / ${s.maxMs.toFixed(0)}`;

/** Every case: our and PyTorch's images/s, their ratio, step times, GFLOP/s and the logits check. */
export function benchCaseRows(b: BenchFile): Row[] {
  return b.cases.map((c) => ({
    case: c.case.name,
    ...vsPaper('img/s', c.case.model === 'convnext_tiny' && c.case.mode === 'eval' && c.case.size === 224 ? `${PAPER_TINY_V100} (V100 GPU, Table 1)` : null, c.ours.imagesPerSecond),
    'PyTorch img/s': c.torch?.imagesPerSecond,
    'ours / PyTorch': c.ratio,
    'step ms (min / median / max)': stepMs(c.ours),
    'PyTorch step ms': c.torch ? stepMs(c.torch) : undefined,
    'GFLOP/s': c.ours.gflops,
    '|Δ logits| vs PyTorch': c.torch?.checkMaxAbsDiff?.toExponential(1),
  }));
}

/** The matmul peak and each case's share of it. */
export function peakRows(b: BenchFile): Row[] {
  if (!b.peak) return [];
  const peak = b.peak;
  return [
    { quantity: `matmul ${peak.n}×${peak.n} GFLOP/s`, ...vsPaper('ours', null, peak.oursGflops), 'PyTorch': peak.torchGflops },
    ...b.cases.map((c) => ({ quantity: `${c.case.name}: share of our peak`, ...vsPaper('ours', null, `${(100 * c.ours.gflops / peak.oursGflops).toFixed(0)}%`) })),
  ];
}

export function memoryRows(b: BenchFile): Row[] {
  const m = b.memory;
  return m ? [{ case: m.case, steps: m.steps, 'tensors (warm)': m.tensorsWarm, 'tensors (end)': m.tensorsEnd,
    'RSS MiB (warm)': m.rssWarmMiB, 'RSS MiB (end)': m.rssEndMiB, 'peak RSS MiB': m.peakRssMiB }] : [];
}

export function pipelineRows(b: BenchFile): Row[] {
  return (b.pipeline ?? []).map((p) => ({ dataset: p.dataset, input: `${p.inputSize}px`, batch: p.batchSize, 'images/s': p.imagesPerSecond }));
}

/** Real-data training against synthetic, with the range of the per-block ratios and the target. */
export function realDataRows(b: BenchFile, target = 0.95): Row[] {
  return (b.realData ?? []).map((d) => ({ case: d.case, data: d.dataset, 'loader workers': d.loaderWorkers ?? 0,
    'synthetic img/s': d.syntheticImagesPerSecond,
    'real-data img/s': d.realImagesPerSecond, 'real / synthetic': d.ratio,
    'per block': d.blockRatios ? `${Math.min(...d.blockRatios).toFixed(2)}–${Math.max(...d.blockRatios).toFixed(2)}` : '—', target: `≥ ${target}` }));
}

/** What the bench file shows, in Markdown bullets: ours / PyTorch per case and real / synthetic per case. */
export function benchSummaryText(file: string, b: BenchFile): string {
  const lines = [`**In bench/results/${path.basename(file)}** (${b.createdAt}):`, ''];
  const compared = b.cases.filter((c) => c.ratio !== undefined);
  if (compared.length) {
    lines.push(`* ours / PyTorch: ${compared.map((c) => `${c.case.name} ${fmt(c.ratio, 2)}× (${fmt(c.ours.medianMs, 0)} against ${fmt(c.torch?.medianMs, 0)} ms median)`).join('; ')}.`);
  } else {
    lines.push('* no PyTorch figures in this file.');
  }
  if (b.realData?.length) {
    lines.push(`* training on real data / synthetic: ${b.realData.map((d) => `${d.case} ${fmt(d.ratio, 2)}`).join('; ')}.`);
  }
  return lines.join('\n');
}

/** The live comparison's case settings per mode (ConvNeXt-atto, 10 classes, no drop path). */
export const LIVE_CASE: Record<Mode, { size: number; batch: number; timing: { warmup: number; minIters: number; maxIters: number; minSeconds: number } }> = {
  smoke: { size: 32, batch: 2, timing: { warmup: 1, minIters: 1, maxIters: 2, minSeconds: 0 } },
  quick: { size: 64, batch: 16, timing: { warmup: 1, minIters: 5, maxIters: 20, minSeconds: 3 } },
  full: { size: 64, batch: 16, timing: { warmup: 1, minIters: 10, maxIters: 50, minSeconds: 10 } },
};

export interface LiveCase { name: string; model: string; size: number; batch: number; mode: 'eval' | 'train'; numClasses: number; dropPath: number }

/**
 * Times ConvNeXt-atto's inference and training step with the fused kernels and with plain TensorFlow.js
 * ops (`withoutNative`), through the bench's own runner; one table row per mode.
 */
export async function fusedVsPlain<T extends { imagesPerSecond: number; tensorsAfter: number }>(
  m: Mode,
  bench: {
    caseName: (c: Omit<LiveCase, 'name'>) => string;
    run: (c: LiveCase, timing: (typeof LIVE_CASE)[Mode]['timing']) => Promise<T>;
    withoutNative: <R>(fn: () => R) => R;
  },
): Promise<Row[]> {
  const s = LIVE_CASE[m];
  const rows: Row[] = [];
  for (const mode of ['eval', 'train'] as const) {
    const base = { model: 'convnext_atto', size: s.size, batch: s.batch, mode, numClasses: 10, dropPath: 0 };
    const c = { ...base, name: bench.caseName(base) };
    const fused = await bench.run(c, s.timing);
    const plain = await bench.withoutNative(() => bench.run(c, s.timing));
    rows.push({ case: c.name, ...vsPaper('img/s', null, fused.imagesPerSecond), 'plain-ops img/s': plain.imagesPerSecond,
      'fused / plain': fused.imagesPerSecond / plain.imagesPerSecond, 'live tensors after': fused.tensorsAfter });
  }
  return rows;
}
