/** The bench's results file (bench/results/*.json) and its Markdown table. */
import * as fs from 'fs';
import * as path from 'path';
import type { MemoryResult, ModelCase, OursResult, RealDataResult } from './ours';
import type { OrtResult } from './ort';
import type { TorchResult } from './torch';
import { writeFileAtomic } from '../../src/util/fs';

export const RESULTS_DIR = path.join(__dirname, '..', 'results');

export interface CaseResult {
  case: ModelCase;
  flopsPerCall: number;
  ours: OursResult;
  torch?: TorchResult;
  /**
   * ours / PyTorch images per second (median step times). Absent when PyTorch is degraded (`torchDegraded`):
   * the figure is then in `torchRatioRaw`, not claimed.
   */
  ratio?: number;
  /** Why PyTorch has no figures for this case, e.g. timm does not import (absent in older results). */
  torchUnavailable?: string;
  /** The PyTorch anchor's matmul peak was under ANCHOR_THRESHOLD of ours: its ratio is not claimed. */
  torchDegraded?: boolean;
  /** ours / PyTorch whether degraded or not. */
  torchRatioRaw?: number;
  /** ONNX Runtime running our exported model (inference cases; absent in older results). */
  ort?: OrtResult;
  /** ours / ONNX Runtime images per second (median step times); absent when ORT's logits did not match ours. */
  ortRatio?: number;
  /** Why ONNX Runtime has no figures for this inference case (export or session failed). */
  ortError?: string;
  /** The issue's target for this case, and whether this run meets it. */
  target?: CaseTarget;
}

/**
 * Targets (issue #17, same run, same CPU): inference ours / ONNX Runtime ≥ 0.9 at batch 1 and ≥ 1.0 batched
 * (batch 16; in --quick, the batched case's smaller batch); training step ours / PyTorch ≥ 1.0.
 */
export const TARGETS = { inferenceVsOrtBatch1: 0.9, inferenceVsOrtBatched: 1.0, trainVsTorch: 1.0 } as const;

/** PyTorch counts as degraded when its matmul peak is under this share of ours. */
export const ANCHOR_THRESHOLD = 0.6;

export interface CaseTarget {
  peer: 'ort' | 'torch';
  /** ours / peer must be at least this. */
  min: number;
  ratio?: number;
  /** Undefined when the ratio is unknown (peer absent, logits mismatch, or PyTorch degraded). */
  pass?: boolean;
  /** Why `pass` is undefined. */
  note?: string;
}

/** Is the PyTorch anchor degraded: its matmul GFLOP/s under `threshold` of ours? Unknown peaks: not judged (false). */
export function anchorDegraded(oursGflops: number | undefined, torchGflops: number | undefined, threshold = ANCHOR_THRESHOLD): boolean {
  if (!oursGflops || torchGflops === undefined || !Number.isFinite(torchGflops)) return false;
  return torchGflops < threshold * oursGflops;
}

/** The target row of one case, from its ratios and flags. */
export function caseTarget(c: Pick<CaseResult, 'case' | 'ratio' | 'ortRatio' | 'torchDegraded' | 'ort' | 'ortError' | 'torch' | 'torchUnavailable'>): CaseTarget {
  if (c.case.mode === 'eval') {
    const min = c.case.batch === 1 ? TARGETS.inferenceVsOrtBatch1 : TARGETS.inferenceVsOrtBatched;
    if (c.ortRatio !== undefined) return { peer: 'ort', min, ratio: c.ortRatio, pass: c.ortRatio >= min };
    const note = c.ort && !c.ort.checkOk ? 'ORT logits differ from ours' : c.ortError ? `no ORT: ${c.ortError}` : 'no ORT';
    return { peer: 'ort', min, note };
  }
  const min = TARGETS.trainVsTorch;
  if (c.torchDegraded) return { peer: 'torch', min, note: 'PyTorch degraded' };
  if (c.ratio !== undefined) return { peer: 'torch', min, ratio: c.ratio, pass: c.ratio >= min };
  return { peer: 'torch', min, note: c.torchUnavailable ? `no PyTorch: ${c.torchUnavailable}` : 'no PyTorch' };
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
  /** ort: ONNX Runtime's intra-op threads (inter-op 1, sequential, graph optimisation 'all'). */
  threads: { ours: string; torch?: number; ort?: number };
  nativeKernels: { enabled: boolean; detail: string };
  timing: { warmup: number; minIters: number; maxIters: number; minSeconds: number };
  /** Alternating ours / PyTorch rounds per model case, timing split between them (absent in older results: 1). */
  rounds?: number;
  peak?: { n: number; oursGflops: number; torchGflops?: number };
  /**
   * The PyTorch anchor's health (absent in older results): PyTorch's matmul peak (its own process, before the
   * cases) as a share of ours; `degraded` when under `threshold`. Each case judges its own process's peak too
   * (`CaseResult.torchDegraded`); `degradedCases` names those.
   */
  torchAnchor?: { n: number; threshold: number; oursGflops: number; torchGflops?: number; share?: number; degraded: boolean; degradedCases: string[] };
  /** The issue's targets as applied to `cases[].target` (absent in older results). */
  targets?: typeof TARGETS;
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

const short = (why: string) => (why.length > 60 ? `${why.slice(0, 57)}...` : why);
const steps = (t: { minMs: number; medianMs: number; maxMs: number; imagesPerSecond: number }) =>
  `${f1(t.imagesPerSecond)} (${t.minMs.toFixed(0)}/${t.medianMs.toFixed(0)}/${t.maxMs.toFixed(0)} ms)`;

/** The target cell: e.g. `≥ 0.9 vs ORT: pass`, `≥ 1.0 vs PyTorch: n/a (PyTorch degraded)`. */
export function targetCell(t: CaseTarget | undefined): string {
  if (!t) return 'n/a';
  const head = `≥ ${t.min.toFixed(1)} vs ${t.peer === 'ort' ? 'ORT' : 'PyTorch'}`;
  return `${head}: ${t.pass === undefined ? `n/a (${short(t.note ?? 'unknown')})` : t.pass ? 'pass' : 'FAIL'}`;
}

/**
 * Rows of the main table: one per model case. A degraded PyTorch anchor shows its ratio as
 * `n/a: PyTorch degraded (raw X)`; ORT logits that differ from ours show as `n/a: ORT logits differ`.
 */
export function caseRows(r: BenchResults): string[][] {
  return r.cases.map((c) => [
    c.case.name,
    steps(c.ours),
    c.torch ? steps(c.torch) : c.torchUnavailable ? `n/a (${short(c.torchUnavailable)})` : 'n/a',
    c.ratio !== undefined ? c.ratio.toFixed(2)
      : c.torchDegraded && c.torchRatioRaw !== undefined ? `n/a: PyTorch degraded (raw ${c.torchRatioRaw.toFixed(2)})` : 'n/a',
    c.ort ? steps(c.ort) : c.ortError ? `n/a (${short(c.ortError)})` : 'n/a',
    c.ortRatio !== undefined ? c.ortRatio.toFixed(2) : c.ort && !c.ort.checkOk ? `n/a: ORT logits differ (${c.ort.checkMaxAbsDiff.toExponential(1)})` : 'n/a',
    targetCell(c.target),
    f1(c.ours.gflops),
  ]);
}

export const CASE_HEADER = ['case', 'ours img/s (min/median/max step)', 'PyTorch img/s (min/median/max step)', 'ours / PyTorch',
  'ORT img/s (min/median/max step)', 'ours / ORT', 'target', 'ours GFLOP/s'];

export function markdownTable(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** The whole report as Markdown: cases, peak, memory, input pipeline. */
export function markdownReport(r: BenchResults): string {
  const out: string[] = [];
  out.push(`Bench (${r.mode}) ${r.createdAt} on ${r.machine.cpu}, ${r.machine.cores} cores; load average before ` +
    `${r.machine.loadAverageBefore.map((x) => x.toFixed(2)).join(' ')}, after ${r.machine.loadAverageAfter.map((x) => x.toFixed(2)).join(' ')}; ` +
    `fused kernels ${r.nativeKernels.enabled ? 'on' : `off (${r.nativeKernels.detail})`}; PyTorch ${r.software.torch ?? 'not available'}, ` +
    `${r.threads.torch ?? '-'} threads; ONNX Runtime ${r.software.onnxruntime ?? 'not available'}` +
    (r.threads.ort !== undefined ? `, ${r.threads.ort} intra-op threads, 1 inter-op, sequential, optimisation 'all'` : '') + '.');
  out.push('');
  out.push(markdownTable(CASE_HEADER, caseRows(r)));
  if (r.peak) {
    out.push('');
    const used = r.cases.map((c) => `${c.case.name}: ${(100 * c.ours.gflops / r.peak!.oursGflops).toFixed(0)}%`).join(', ');
    out.push(`Matmul peak (${r.peak.n}x${r.peak.n}): ours ${f1(r.peak.oursGflops)} GFLOP/s` +
      (r.peak.torchGflops ? `, PyTorch ${f1(r.peak.torchGflops)} GFLOP/s` : '') + `. Share of our peak: ${used}.`);
  }
  const a = r.torchAnchor;
  if (a) {
    const perCase = r.cases.filter((c) => c.torch?.anchorPeakGflops !== undefined)
      .map((c) => `${c.case.name} ${(100 * c.torch!.anchorPeakGflops! / a.oursGflops).toFixed(0)}%`);
    out.push('');
    out.push(`PyTorch anchor: its matmul peak is ${a.share !== undefined ? `${(100 * a.share).toFixed(0)}%` : 'n/a'} of ours` +
      (perCase.length ? ` (in each case's process, lowest round: ${perCase.join(', ')})` : '') +
      `; under ${(100 * a.threshold).toFixed(0)}% counts as degraded and its ratio is not claimed. ` +
      (a.degraded || a.degradedCases.length
        ? `**PyTorch degraded** in this run${a.degradedCases.length ? ` (${a.degradedCases.join(', ')})` : ''}.`
        : 'Not degraded.'));
  }
  const judged = r.cases.filter((c) => c.target?.pass !== undefined);
  if (r.targets && r.cases.some((c) => c.target)) {
    out.push('');
    const t = r.targets;
    out.push(`Targets: inference ours / ORT ≥ ${t.inferenceVsOrtBatched.toFixed(1)} batched and ≥ ${t.inferenceVsOrtBatch1.toFixed(1)} at batch 1; ` +
      `training step ours / PyTorch ≥ ${t.trainVsTorch.toFixed(1)}. ${judged.filter((c) => c.target!.pass).length} of ${judged.length} judged cases pass` +
      (judged.length < r.cases.length ? `, ${r.cases.length - judged.length} not judged` : '') + '.');
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
