/** Runs bench/torch_reference.py (one process per case) and reads its JSON line. */
import * as cp from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { TimingOptions, TimingStats } from '../../src/util/timing';
import type { ModelCase } from './ours';

const SCRIPT = path.join(__dirname, '..', 'torch_reference.py');
const REPO = path.resolve(__dirname, '..', '..');

export interface TorchInfo {
  python: string;
  version: string;
}

/**
 * A Python that imports torch: $CONVNEXT_PYTHON, then $PYTHON (the tests' torch Python, which .ci/run sets), then
 * .venv/bin/python, then python3; else undefined.
 */
export function findTorch(): TorchInfo | undefined {
  const candidates = [process.env.CONVNEXT_PYTHON, process.env.PYTHON, path.join(REPO, '.venv', 'bin', 'python'), 'python3']
    .filter((p): p is string => !!p && (!p.includes('/') || fs.existsSync(p)));
  for (const python of candidates) {
    const r = cp.spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { python, version: r.stdout.trim() };
  }
  return undefined;
}

/** The same case as ours (a type-only import: nothing of TensorFlow.js loads here), plus PyTorch's knobs. */
export interface TorchCase extends Omit<ModelCase, 'name'> {
  threads: number;
  /** Measure the case process's own n x n matmul GFLOP/s before the model (the anchor's health); 0 or absent: no. */
  anchorPeakN?: number;
  weights?: string;
  checkInput?: string;
  checkLogits?: string;
}

export interface TorchResult extends TimingStats {
  version: string;
  threads: number;
  memoryFormat: string;
  peakRssMiB: number;
  /** max |ours − PyTorch| of eval-mode logits for the same weights and input. */
  checkMaxAbsDiff?: number;
  checkMaxAbsLogit?: number;
  /** This case process's matmul GFLOP/s at the run's peak size (the lowest over rounds; absent in older results). */
  anchorPeakGflops?: number;
  /** Which model ran: bench/torch_reference.py's ConvNeXt, or timm's (absent in older results: the former). */
  implementation?: string;
}

function run(torch: TorchInfo, args: string[]): Record<string, unknown> {
  const r = cp.spawnSync(torch.python, [SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`torch_reference.py ${args.join(' ')} failed:\n${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as Record<string, unknown>;
}

export function runTorchCase(torch: TorchInfo, c: TorchCase, t: TimingOptions): TorchResult {
  const args = ['--model', c.model, '--size', String(c.size), '--batch', String(c.batch), '--mode', c.mode,
    '--num-classes', String(c.numClasses), '--drop-path', String(c.dropPath), '--threads', String(c.threads),
    '--warmup', String(t.warmup), '--min-iters', String(t.minIters), '--max-iters', String(t.maxIters),
    '--min-seconds', String(t.minSeconds)];
  if (c.weights) args.push('--weights', c.weights);
  if (c.checkInput && c.checkLogits) args.push('--check-input', c.checkInput, '--check-logits', c.checkLogits);
  if (c.anchorPeakN) args.push('--anchor-peak-n', String(c.anchorPeakN));
  const j = run(torch, args);
  const times = j.times_ms as number[];
  return {
    timesMs: times,
    minMs: j.min_ms as number,
    medianMs: j.median_ms as number,
    maxMs: j.max_ms as number,
    imagesPerSecond: j.images_per_s as number,
    version: j.version as string,
    threads: j.threads as number,
    memoryFormat: j.memory_format as string,
    peakRssMiB: j.peak_rss_mib as number,
    checkMaxAbsDiff: j.check_max_abs_diff as number | undefined,
    checkMaxAbsLogit: j.check_max_abs_logit as number | undefined,
    ...(j.anchor_peak_gflops !== undefined ? { anchorPeakGflops: j.anchor_peak_gflops as number } : {}),
    ...(j.implementation !== undefined ? { implementation: j.implementation as string } : {}),
  };
}

/** The ConvNeXts bench/torch_reference.py writes itself; other models go through timm. */
export const TORCH_REFERENCE_MODELS = ['convnext_atto', 'convnext_femto', 'convnext_pico', 'convnext_nano', 'convnext_tiny', 'convnext_small', 'convnext_base'];

const timmStatus = new Map<string, { version?: string; error?: string }>();

/** timm's version in that Python, or why it does not import there (asked once per Python). */
export function checkTimm(torch: TorchInfo): { version?: string; error?: string } {
  let s = timmStatus.get(torch.python);
  if (!s) {
    const j = run(torch, ['--check-timm']);
    s = j.timm ? { version: j.timm as string } : { error: String(j.error ?? 'timm does not import') };
    timmStatus.set(torch.python, s);
  }
  return s;
}

/** Why PyTorch cannot run this model here (undefined: it can). */
export function torchUnavailable(torch: TorchInfo, model: string): string | undefined {
  if (TORCH_REFERENCE_MODELS.includes(model)) return undefined;
  const t = checkTimm(torch);
  return t.error === undefined ? undefined : `timm does not import (${t.error.replace(/^\w+: /, '')})`;
}

/** Median ms of PyTorch's F.linear alone for each [M, K] x [K, N] shape `MxKxN`, with its weight in cache or not. */
export function torchLinears(torch: TorchInfo, threads: number, shapes: string[]): { hotMs: number; coldMs: number }[] {
  const j = run(torch, ['--linears', shapes.join(','), '--threads', String(threads)]);
  return (j.linears as { hot_ms: number; cold_ms: number }[]).map((l) => ({ hotMs: l.hot_ms, coldMs: l.cold_ms }));
}

/** Matmul GFLOP/s of an n x n product through PyTorch (best of several). */
export function torchPeak(torch: TorchInfo, threads: number, n: number): number {
  return run(torch, ['--peak', '--peak-n', String(n), '--threads', String(threads)]).peak_gflops as number;
}
