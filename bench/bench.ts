/**
 * `npm run bench`: ConvNeXt speed on the active backend, side by side with the same models in PyTorch
 * (bench/torch_reference.py, same shapes, weights and thread count) when a Python with torch is found,
 * and, for inference, in ONNX Runtime (onnxruntime-node running our own ONNX export of the same weights,
 * same threads). The three take turns in each round (ours, PyTorch, ORT); each peer's logits for one input
 * are checked against ours before it is timed.
 *
 *   flock /tmp/convnext-cpu.lock npm run bench                 # the report's numbers (~20 min on 2 cores)
 *   npm run bench -- --quick                                   # CI-size smoke run (tiny shapes, seconds)
 *   npm run bench -- --cases tiny-infer-b1,peak --no-torch     # a subset
 *
 * Cases: tiny-infer-b1, tiny-infer-b16, tiny-train-b16 (ConvNeXt-T at 224), swin-t-infer-b1, swin-t-infer-b16,
 * vit-s-infer-b1, vit-s-infer-b16 (Swin-T and ViT-S/16 at 224; PyTorch side through timm), atto-train (ConvNeXt-atto at
 * 64), peak (matmul GFLOP/s), memory (tensor count and RSS over --memory-steps training steps), pipeline
 * (input pipeline images/s on flowers5 and CIFAR-10 JPEG files), real-data (training on flowers5's train split
 * as training reads it, decoded in memory, vs. synthetic; --loader-workers to compare thread counts), and any
 * model:size:batch:eval|train (e.g. convnext_tiny:224:64:eval, as bench/gpu-check.sh runs).
 * Results go to bench/results/<mode>-<timestamp>.json (--out to change) and print as a Markdown table.
 *
 * The table's target column applies issue #17's targets (lib/results.ts TARGETS): inference ours / ORT ≥ 0.9
 * at batch 1 and ≥ 1.0 batched, training ours / PyTorch ≥ 1.0. Whenever PyTorch runs, both matmul peaks are
 * measured first, and each PyTorch case process measures its own; where PyTorch's is under 60% of ours
 * (ANCHOR_THRESHOLD) the anchor counts as degraded: the case's ours / PyTorch shows as
 * `n/a: PyTorch degraded (raw X)`, the JSON keeps it as `torchRatioRaw` with `torchDegraded: true` and no `ratio`.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Command } from 'commander';
import { backendInfo, tf } from '../src/backend';
import { nativeStatus } from '../src/native';
import { augmentConfig } from '../src/augment/config';
import { Dataset, ImageFolder, flowers5, prepareCifar10, prepareFlowers5 } from '../src/data';
import { timingStats, type TimingOptions } from '../src/util/timing';
import {
  ModelCase, OursResult, caseName, flopsPerCall, matmulPeak, memoryOverSteps, oursResult, realVsSynthetic, runOursCase,
  writeCheckFiles,
} from './lib/ours';
import { OrtPeer, loadOrt, ortVersion } from './lib/ort';
import {
  ANCHOR_THRESHOLD, BenchResults, CaseResult, RESULTS_DIR, TARGETS, anchorDegraded, caseTarget, markdownReport, writeResults,
} from './lib/results';
import { TorchInfo, TorchResult, findTorch, runTorchCase, torchPeak, torchUnavailable } from './lib/torch';
import { measureInputPipeline } from "../src/experiments";

const ALL_CASES = ['tiny-infer-b1', 'tiny-infer-b16', 'tiny-train-b16', 'swin-t-infer-b1', 'swin-t-infer-b16', 'vit-s-infer-b1',
  'vit-s-infer-b16', 'atto-train', 'peak', 'memory', 'pipeline', 'real-data'];
/** Any other model case: `model:size:batch:eval|train`, e.g. `convnext_tiny:224:64:eval`, `vit_small_patch16_224:224:64:eval`. */
const CUSTOM_CASE = /^((?:convnext|swin|vit)_[a-z0-9_]+):(\d+):(\d+):(eval|train)$/;

const cli = new Command('bench')
  .description('ConvNeXt training and inference speed vs. PyTorch and ONNX Runtime on this machine')
  .option('--quick', 'CI-size smoke run: tiny shapes and few iterations')
  .option('--cases <list>', `comma-separated subset of ${ALL_CASES.join(', ')}, or model:size:batch:eval|train`, ALL_CASES.join(','))
  .option('--warmup <n>', 'untimed steps per case')
  .option('--min-iters <n>', 'timed steps per case, at least')
  .option('--max-iters <n>', 'timed steps per case, at most')
  .option('--min-seconds <s>', 'timed seconds per case, at least')
  .option('--memory-steps <n>', 'training steps for the memory check')
  .option('--threads <n>', 'PyTorch threads and ONNX Runtime intra-op threads (default: cores, as TensorFlow uses)', String(os.cpus().length))
  .option('--rounds <n>', 'alternate ours, PyTorch and ONNX Runtime this many times per case (default 2; 1 with --quick)')
  .option('--loader-workers <n>', 'real-data case: DataLoader worker threads (default: the loader\'s default, as training)')
  .option('--real-blocks <n>', 'real-data case: real-data blocks, each between two synthetic ones (default 4; 1 with --quick)')
  .option('--no-torch', 'skip the PyTorch side')
  .option('--no-ort', 'skip the ONNX Runtime side')
  .option('--out <file>', 'results file (default bench/results/<mode>-<timestamp>.json)')
  .parse();

interface Opts {
  quick?: boolean; cases: string; warmup?: string; minIters?: string; maxIters?: string; minSeconds?: string;
  memorySteps?: string; threads: string; torch: boolean; ort: boolean; out?: string; loaderWorkers?: string; rounds?: string;
  realBlocks?: string;
}

function int(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got "${value}"`);
  return n;
}

function log(msg: string): void {
  console.error(`[bench] ${msg}`);
}

async function main(): Promise<void> {
  const o = cli.opts<Opts>();
  const quick = !!o.quick;
  const wanted = o.cases.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = wanted.filter((c) => !ALL_CASES.includes(c) && !CUSTOM_CASE.test(c));
  if (unknown.length) throw new Error(`unknown case(s) ${unknown.join(', ')}; known: ${ALL_CASES.join(', ')}`);
  const timing: TimingOptions = {
    warmup: int(o.warmup, quick ? 1 : 2, 'warmup'),
    minIters: int(o.minIters, quick ? 2 : 5, 'min-iters'),
    maxIters: int(o.maxIters, quick ? 3 : 50, 'max-iters'),
    minSeconds: int(o.minSeconds, quick ? 0 : 20, 'min-seconds'),
  };
  // Ours and PyTorch take turns, each round a share of the timed steps: this VM's speed drifts by tens of
  // percent over minutes, and back-to-back blocks would hand the drift to one side.
  const rounds = int(o.rounds, quick ? 1 : 2, 'rounds');
  const perRound: TimingOptions = {
    ...timing, minIters: Math.ceil(timing.minIters / rounds), maxIters: Math.ceil(timing.maxIters / rounds),
    minSeconds: timing.minSeconds / rounds,
  };
  const threads = int(o.threads, os.cpus().length, 'threads');
  const torch: TorchInfo | undefined = o.torch ? findTorch() : undefined;
  if (o.torch && !torch) log('no Python with torch found ($CONVNEXT_PYTHON, .venv, python3): PyTorch columns stay empty');
  const ort = o.ort ? loadOrt() !== undefined : false;
  if (o.ort && !ort) log('onnxruntime-node does not load: ONNX Runtime columns stay empty');

  // Full: the issue's shapes. Quick: the same kinds of runs on shapes a CI machine does in seconds.
  const tinySize = quick ? 64 : 224;
  const defs: Record<string, Omit<ModelCase, 'name'>> = {
    'tiny-infer-b1': { model: quick ? 'convnext_atto' : 'convnext_tiny', size: tinySize, batch: 1, mode: 'eval', numClasses: 1000, dropPath: 0 },
    'tiny-infer-b16': { model: quick ? 'convnext_atto' : 'convnext_tiny', size: tinySize, batch: quick ? 4 : 16, mode: 'eval', numClasses: 1000, dropPath: 0 },
    'tiny-train-b16': { model: quick ? 'convnext_atto' : 'convnext_tiny', size: tinySize, batch: quick ? 4 : 16, mode: 'train', numClasses: 1000, dropPath: 0.1 },
    // Transformers of ConvNeXt-T's size, as timm names them; quick: the same models at 64 px.
    'swin-t-infer-b1': { model: 'swin_tiny_patch4_window7_224', size: tinySize, batch: 1, mode: 'eval', numClasses: 1000, dropPath: 0 },
    'swin-t-infer-b16': { model: 'swin_tiny_patch4_window7_224', size: tinySize, batch: quick ? 4 : 16, mode: 'eval', numClasses: 1000, dropPath: 0 },
    'vit-s-infer-b1': { model: 'vit_small_patch16_224', size: tinySize, batch: 1, mode: 'eval', numClasses: 1000, dropPath: 0 },
    'vit-s-infer-b16': { model: 'vit_small_patch16_224', size: tinySize, batch: quick ? 4 : 16, mode: 'eval', numClasses: 1000, dropPath: 0 },
    'atto-train': { model: 'convnext_atto', size: quick ? 32 : 64, batch: quick ? 8 : 64, mode: 'train', numClasses: 10, dropPath: 0 },
  };
  for (const w of wanted) {
    const m = CUSTOM_CASE.exec(w);
    if (m) defs[w] = { model: m[1], size: Number(m[2]), batch: Number(m[3]), mode: m[4] as 'eval' | 'train', numClasses: 1000, dropPath: m[4] === 'train' ? 0.1 : 0 };
  }
  const modelCases = wanted.filter((w) => w in defs).map((w) => ({ ...defs[w], name: caseName(defs[w]) }));

  const results: BenchResults = {
    // A run of some of the cases is no full bench: notebook 05 shows the newest 'full' file as the table.
    mode: quick ? 'quick' : ALL_CASES.every((c) => wanted.includes(c)) ? 'full' : 'subset',
    createdAt: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memoryGiB: os.totalmem() / 2 ** 30,
      loadAverageBefore: os.loadavg(), loadAverageAfter: [],
    },
    software: {
      node: process.version, backend: backendInfo().name, ...backendInfo().versions, ...(torch ? { torch: torch.version } : {}),
      ...(ort ? { onnxruntime: ortVersion() ?? 'unknown' } : {}),
    },
    threads: {
      ours: `TF_NUM_INTRAOP_THREADS=${process.env.TF_NUM_INTRAOP_THREADS ?? `unset (${os.cpus().length})`}`,
      ...(torch ? { torch: threads } : {}),
      ...(ort ? { ort: threads } : {}),
    },
    nativeKernels: { enabled: nativeStatus().enabled, detail: nativeStatus().detail },
    timing,
    rounds,
    targets: TARGETS,
    cases: [],
  };
  log(`backend ${backendInfo().name}, fused kernels ${nativeStatus().enabled ? 'on' : `off (${nativeStatus().detail})`}, ` +
    `load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);

  // Both matmul peaks come first whenever PyTorch runs: they tell whether the PyTorch anchor is degraded.
  const peakN = quick ? 512 : 2048;
  if (wanted.includes('peak') || (torch && modelCases.length > 0)) {
    log(`matmul peak ${peakN}x${peakN}`);
    results.peak = { n: peakN, oursGflops: await matmulPeak(peakN, quick ? 0.2 : 3), ...(torch ? { torchGflops: torchPeak(torch, threads, peakN) } : {}) };
  }
  const oursPeak = results.peak?.oursGflops;
  if (torch && results.peak) {
    results.torchAnchor = {
      n: peakN, threshold: ANCHOR_THRESHOLD, oursGflops: results.peak.oursGflops, torchGflops: results.peak.torchGflops,
      ...(results.peak.torchGflops !== undefined ? { share: results.peak.torchGflops / results.peak.oursGflops } : {}),
      degraded: anchorDegraded(results.peak.oursGflops, results.peak.torchGflops), degradedCases: [],
    };
  }

  const checkDir = path.join(os.tmpdir(), `convnext-bench-${process.pid}`);
  for (const c of modelCases) {
    const oursRuns: OursResult[] = [];
    const torchRuns: TorchResult[] = [];
    const ortTimes: number[] = [];
    const torchWhyNot = torch ? torchUnavailable(torch, c.model) : undefined;
    const useTorch = !!torch && torchWhyNot === undefined;
    const useOrt = ort && c.mode === 'eval';
    let torchError: string | undefined;
    let ortError: string | undefined;
    let files: ReturnType<typeof writeCheckFiles> | undefined;
    if (useTorch || useOrt) {
      try {
        files = writeCheckFiles(c, checkDir, { onnx: useOrt });
      } catch (err) {
        if (!useOrt) throw err;
        // The export failed: PyTorch still gets its weights.
        ortError = `export failed: ${(err as Error).message.split('\n')[0]}`;
        files = useTorch ? writeCheckFiles(c, checkDir) : undefined;
      }
    }
    let peer: OrtPeer | undefined;
    if (useOrt && files?.onnx) {
      try {
        peer = await OrtPeer.open({ ...c, onnx: files.onnx, threads, checkInput: files.input, checkLogits: files.logits });
        if (!peer.check.ok) log(`${c.name}: ONNX Runtime's logits differ from ours by ${peer.check.maxAbsDiff.toExponential(2)} (max |logit| ${peer.check.maxAbsLogit.toFixed(2)})`);
      } catch (err) {
        ortError = (err as Error).message.split('\n')[0];
      }
      if (ortError) log(`${c.name}: no ONNX Runtime figures: ${ortError}`);
    }
    try {
      for (let round = 0; round < rounds; round++) {
        log(`${c.name}: convnext-ts (round ${round + 1}/${rounds})`);
        oursRuns.push(await runOursCase(c, perRound));
        if (useTorch && files && torchError === undefined) {
          log(`${c.name}: PyTorch (round ${round + 1}/${rounds})`);
          try {
            torchRuns.push(runTorchCase(torch!, {
              model: c.model, size: c.size, batch: c.batch, mode: c.mode, numClasses: c.numClasses, dropPath: c.dropPath,
              threads, weights: files.weights, checkInput: files.input, checkLogits: files.logits, anchorPeakN: oursPeak ? peakN : 0,
            }, perRound));
          } catch (err) {
            torchError = (err as Error).message.split('\n').filter(Boolean).pop() ?? 'failed';
            log(`${c.name}: PyTorch failed: ${torchError}`);
          }
        }
        if (peer) {
          log(`${c.name}: ONNX Runtime (round ${round + 1}/${rounds})`);
          ortTimes.push(...await peer.time(perRound));
        }
      }
    } finally {
      await peer?.release();
    }
    const flops = flopsPerCall(c);
    const ours = oursResult(oursRuns.flatMap((x) => x.timesMs), c.batch, flops, oursRuns[rounds - 1].tensorsAfter);
    const r: CaseResult = { case: c, flopsPerCall: flops, ours };
    if (torchWhyNot ?? torchError) r.torchUnavailable = torchWhyNot ?? torchError;
    if (torchRuns.length > 0 && torchError === undefined) {
      const anchors = torchRuns.map((x) => x.anchorPeakGflops).filter((x): x is number => x !== undefined);
      r.torch = {
        ...torchRuns[torchRuns.length - 1], ...timingStats(torchRuns.flatMap((x) => x.timesMs), c.batch),
        ...(anchors.length ? { anchorPeakGflops: Math.min(...anchors) } : {}),
      };
      r.torchRatioRaw = ours.imagesPerSecond / r.torch.imagesPerSecond;
      // The case's own process is the anchor that counts; without its peak, the run's.
      const torchPeakHere = r.torch.anchorPeakGflops ?? results.peak?.torchGflops;
      r.torchDegraded = anchorDegraded(oursPeak, torchPeakHere);
      if (r.torchDegraded) results.torchAnchor?.degradedCases.push(c.name);
      else r.ratio = r.torchRatioRaw;
    }
    if (peer && ortTimes.length > 0) {
      r.ort = peer.result(ortTimes);
      if (r.ort.checkOk) r.ortRatio = ours.imagesPerSecond / r.ort.imagesPerSecond;
    }
    if (ortError) r.ortError = ortError;
    r.target = caseTarget(r);
    results.cases.push(r);
    if (files) for (const f of Object.values(files)) if (f) fs.rmSync(f, { force: true });
    log(`${c.name}: ours ${ours.imagesPerSecond.toFixed(2)} img/s` +
      (r.torch ? `, PyTorch ${r.torch.imagesPerSecond.toFixed(2)} img/s, ratio ${r.torchRatioRaw!.toFixed(2)}${r.torchDegraded ? ' (PyTorch degraded)' : ''}` : '') +
      (r.ort ? `, ORT ${r.ort.imagesPerSecond.toFixed(2)} img/s, ratio ${(ours.imagesPerSecond / r.ort.imagesPerSecond).toFixed(2)}` : ''));
  }

  if (wanted.includes('memory')) {
    const steps = int(o.memorySteps, quick ? 10 : 100, 'memory-steps');
    const c: Omit<ModelCase, 'name'> = { model: 'convnext_atto', size: quick ? 32 : 64, batch: quick ? 4 : 32, mode: 'train', numClasses: 10, dropPath: 0.1 };
    log(`memory over ${steps} steps`);
    results.memory = await memoryOverSteps({ ...c, name: caseName(c) }, steps);
  }

  if (wanted.includes('pipeline')) {
    // JPEG files, so decoding is part of every measured image.
    const flowers = new ImageFolder(await prepareFlowers5({ verbose: false }));
    const batches = quick ? 2 : 10;
    results.pipeline = [];
    const sets: Array<[string, () => Promise<Dataset>, number]> = [
      ['flowers5 (128px JPEG files)', async () => flowers, 224],
      ['flowers5 (128px JPEG files)', async () => flowers, 64],
      ['CIFAR-10 train (32px JPEG files)', async () => new ImageFolder(path.join(await prepareCifar10({ verbose: false }), 'train')), 32],
    ];
    for (const [name, make, size] of quick ? sets.slice(1, 2) : sets) {
      log(`input pipeline: ${name} at ${size}px`);
      const batchSize = quick ? 8 : 64;
      const m = await measureInputPipeline({ dataset: await make(), augment: augmentConfig({ inputSize: size }), batchSize, batches });
      results.pipeline.push({ dataset: name, inputSize: size, batchSize, imagesPerSecond: m.imagesPerSecond });
    }
  }

  if (wanted.includes('real-data')) {
    // What training reads: flowers5's train split decoded once into memory (src/data/cache.ts).
    const flowers = (await flowers5({ progress: false })).train;
    const workers = o.loaderWorkers === undefined ? undefined : int(o.loaderWorkers, 0, 'loader-workers');
    // The small fast model is where the pipeline could become the bottleneck; ConvNeXt-T is the one that matters.
    const blocks = int(o.realBlocks, quick ? 1 : 4, 'real-blocks');
    if (blocks < 1) throw new Error('--real-blocks must be at least 1');
    // Twice a model case's timed share per side: the blocks are short, and this ratio has a target of its own.
    const realTiming: TimingOptions = {
      ...timing, minIters: 2 * timing.minIters, maxIters: 2 * timing.maxIters, minSeconds: 2 * timing.minSeconds,
    };
    results.realData = [];
    for (const key of quick ? ['atto-train'] : ['atto-train', 'tiny-train-b16']) {
      const c: Omit<ModelCase, 'name'> = { ...defs[key] };
      log(`training on flowers5 vs. synthetic: ${caseName(c)}`);
      results.realData.push(await realVsSynthetic({ ...c, name: caseName(c) }, flowers, 'flowers5 train split, in memory', realTiming, blocks, workers));
    }
  }

  fs.rmSync(checkDir, { recursive: true, force: true });
  results.machine.loadAverageAfter = os.loadavg();
  const stamp = results.createdAt.replace(/[:.]/g, '-');
  const prefix = backendInfo().name === 'node-gpu' ? 'gpu' : results.mode;
  const out = o.out ?? path.join(quick ? path.join(__dirname, '..', 'runs', 'bench') : RESULTS_DIR, `${prefix}-${stamp}.json`);
  writeResults(out, results);
  console.log(markdownReport(results));
  log(`results written to ${path.relative(process.cwd(), out)}; live tensors at exit ${tf.memory().numTensors}`);
}

main().catch((err: Error) => {
  console.error(`[bench] ${err.message}`);
  process.exit(1);
});
