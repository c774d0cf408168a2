/** The bench's results file (bench/results/*.json) and its Markdown table. */
import * as fs from 'fs';
import * as path from 'path';
import type { MemoryResult, ModelCase, OursResult, RealDataResult } from './ours';
import type { TorchResult } from './torch';
import { writeFileAtomic } from '../../src/util/fs';

export const RESULTS_DIR = path.join(__dirname, '..', 'results');

export interface CaseResult {
  case: ModelCase;
  flopsPerCall: number;
  ours: OursResult;
  torch?: TorchResult;
  /** ours / PyTorch images per second (median step times). */
  ratio?: number;
}

export interface PipelineResult {
  dataset: string;
  inputSize: number;
  batchSize: number;
  imagesPerSecond: number;
}

export interface BenchResults {
  /** 'full': every case at full size (the report's numbers); 'subset': some of them (--cases); 'quick': CI-size smoke run. */
  mode: 'full' | 'subset' | 'quick';
  createdAt: string;
  command: string;
  machine: { cpu: string; cores: number; memoryGiB: number; loadAverageBefore: number[]; loadAverageAfter: number[] };
  software: Record<string, string>;
  threads: { ours: string; torch?: number };
  nativeKernels: { enabled: boolean; detail: string };
  timing: { warmup: number; minIters: number; maxIters: number; minSeconds: number };
  /** Alternating ours / PyTorch rounds per model case, timing split between them (absent in older results: 1). */
  rounds?: number;
  peak?: { n: number; oursGflops: number; torchGflops?: number };
  cases: CaseResult[];
  memory?: MemoryResult;
  pipeline?: PipelineResult[];
  realData?: RealDataResult[];
}

export function writeResults(file: string, r: BenchResults): void {
  writeFileAtomic(file, `${JSON.stringify(r, null, 2)}\n`);
}

/** Every results file in a folder, newest first. */
export function readAllResults(dir = RESULTS_DIR): Array<{ file: string; results: BenchResults }> {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ file: path.join(dir, f), results: JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as BenchResults }))
    .sort((a, b) => b.results.createdAt.localeCompare(a.results.createdAt));
}

const f1 = (x: number) => x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2);

/** Rows of the main table: one per model case. */
export function caseRows(r: BenchResults): string[][] {
  return r.cases.map((c) => [
    c.case.name,
    `${f1(c.ours.imagesPerSecond)} (${c.ours.minMs.toFixed(0)}/${c.ours.medianMs.toFixed(0)}/${c.ours.maxMs.toFixed(0)} ms)`,
    c.torch ? `${f1(c.torch.imagesPerSecond)} (${c.torch.minMs.toFixed(0)}/${c.torch.medianMs.toFixed(0)}/${c.torch.maxMs.toFixed(0)} ms)` : 'n/a',
    c.ratio !== undefined ? c.ratio.toFixed(2) : 'n/a',
    f1(c.ours.gflops),
  ]);
}

export const CASE_HEADER = ['case', 'ours img/s (min/median/max step)', 'PyTorch img/s (min/median/max step)', 'ours / PyTorch', 'ours GFLOP/s'];

export function markdownTable(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** The whole report as Markdown: cases, peak, memory, input pipeline. */
export function markdownReport(r: BenchResults): string {
  const out: string[] = [];
  out.push(`Bench (${r.mode}) ${r.createdAt} on ${r.machine.cpu}, ${r.machine.cores} cores; load average before ` +
    `${r.machine.loadAverageBefore.map((x) => x.toFixed(2)).join(' ')}, after ${r.machine.loadAverageAfter.map((x) => x.toFixed(2)).join(' ')}; ` +
    `fused kernels ${r.nativeKernels.enabled ? 'on' : `off (${r.nativeKernels.detail})`}; PyTorch ${r.software.torch ?? 'not available'}, ` +
    `${r.threads.torch ?? '-'} threads.`);
  out.push('');
  out.push(markdownTable(CASE_HEADER, caseRows(r)));
  if (r.peak) {
    out.push('');
    const used = r.cases.map((c) => `${c.case.name}: ${(100 * c.ours.gflops / r.peak!.oursGflops).toFixed(0)}%`).join(', ');
    out.push(`Matmul peak (${r.peak.n}x${r.peak.n}): ours ${f1(r.peak.oursGflops)} GFLOP/s` +
      (r.peak.torchGflops ? `, PyTorch ${f1(r.peak.torchGflops)} GFLOP/s` : '') + `. Share of our peak: ${used}.`);
  }
  if (r.memory) {
    const m = r.memory;
    out.push('');
    out.push(`Memory over ${m.steps} training steps of ${m.case}: tensors ${m.tensorsWarm} → ${m.tensorsEnd}, ` +
      `RSS ${m.rssWarmMiB.toFixed(0)} → ${m.rssEndMiB.toFixed(0)} MiB (after ${Math.max(1, Math.round(m.steps / 10))} steps → end), ` +
      `peak RSS ${m.peakRssMiB.toFixed(0)} MiB.`);
  }
  if (r.pipeline?.length) {
    out.push('');
    out.push(markdownTable(['input pipeline (decode + RandAugment + erasing + mixup/cutmix)', 'size', 'batch', 'images/s'],
      r.pipeline.map((p) => [p.dataset, `${p.inputSize}px`, String(p.batchSize), f1(p.imagesPerSecond)])));
  }
  if (r.realData?.length) {
    out.push('');
    const range = (v?: number[]) => v?.length ? `${Math.min(...v).toFixed(2)}-${Math.max(...v).toFixed(2)}` : 'n/a';
    out.push(markdownTable(['training on real data', 'loader workers', 'synthetic img/s', 'real-data img/s', 'real / synthetic', 'per block'],
      r.realData.map((d) => [`${d.case}, ${d.dataset}`, String(d.loaderWorkers ?? 0), f1(d.syntheticImagesPerSecond), f1(d.realImagesPerSecond),
        d.ratio.toFixed(2), range(d.blockRatios)])));
  }
  return out.join('\n');
}
