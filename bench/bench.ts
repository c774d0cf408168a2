/**
 * `npm run bench`: ConvNeXt speed on the active backend, side by side with the same models in PyTorch
 * (bench/torch_reference.py, same shapes, weights and thread count) when a Python with torch is found.
 *
 *   flock /tmp/convnext-cpu.lock npm run bench                 # the report's numbers (~15 min on 2 cores)
 *   npm run bench -- --quick                                   # CI-size smoke run (tiny shapes, seconds)
 *   npm run bench -- --cases tiny-infer-b1,peak --no-torch     # a subset
 *
 * Cases: tiny-infer-b1, tiny-infer-b16, tiny-train-b16 (ConvNeXt-T at 224), atto-train (ConvNeXt-atto at
 * 64), peak (matmul GFLOP/s), memory (tensor count and RSS over --memory-steps training steps), pipeline
 * (input pipeline images/s on flowers5 and CIFAR-10 JPEG files), real-data (training on flowers5's train split
 * as training reads it, decoded in memory, vs. synthetic; --loader-workers to compare thread counts), and any
 * model:size:batch:eval|train (e.g. convnext_tiny:224:64:eval, as bench/gpu-check.sh runs).
 * Results go to bench/results/<mode>-<timestamp>.json (--out to change) and print as a Markdown table.
 */
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
import { BenchResults, CaseResult, RESULTS_DIR, markdownReport, writeResults } from './lib/results';
import { TorchInfo, TorchResult, findTorch, runTorchCase, torchPeak } from './lib/torch';
import { measureInputPipeline } from "../src/experiments";

const ALL_CASES = ['tiny-infer-b1', 'tiny-infer-b16', 'tiny-train-b16', 'atto-train', 'peak', 'memory', 'pipeline', 'real-data'];
/** Any other model case: `model:size:batch:eval|train`, e.g. `convnext_tiny:224:64:eval`. */
const CUSTOM_CASE = /^(convnext_[a-z]+):(\d+):(\d+):(eval|train)$/;

const cli = new Command('bench')
  .description('ConvNeXt training and inference speed vs. PyTorch on this machine')
  .option('--quick', 'CI-size smoke run: tiny shapes and few iterations')
  .option('--cases <list>', `comma-separated subset of ${ALL_CASES.join(', ')}, or model:size:batch:eval|train`, ALL_CASES.join(','))
  .option('--warmup <n>', 'untimed steps per case')
  .option('--min-iters <n>', 'timed steps per case, at least')
  .option('--max-iters <n>', 'timed steps per case, at most')
  .option('--min-seconds <s>', 'timed seconds per case, at least')
  .option('--memory-steps <n>', 'training steps for the memory check')
  .option('--threads <n>', 'PyTorch threads (default: cores, as TensorFlow uses)', String(os.cpus().length))
  .option('--rounds <n>', 'alternate ours and PyTorch this many times per case (default 2; 1 with --quick)')
  .option('--loader-workers <n>', 'real-data case: DataLoader worker threads (default: the loader\'s default, as training)')
  .option('--real-blocks <n>', 'real-data case: real-data blocks, each between two synthetic ones (default 4; 1 with --quick)')
  .option('--no-torch', 'skip the PyTorch side')
  .option('--out <file>', 'results file (default bench/results/<mode>-<timestamp>.json)')
  .parse();

interface Opts {
  quick?: boolean; cases: string; warmup?: string; minIters?: string; maxIters?: string; minSeconds?: string;
  memorySteps?: string; threads: string; torch: boolean; out?: string; loaderWorkers?: string; rounds?: string;
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

  // Full: the issue's shapes. Quick: the same kinds of runs on shapes a CI machine does in seconds.
  const tinySize = quick ? 64 : 224;
  const defs: Record<string, Omit<ModelCase, 'name'>> = {
    'tiny-infer-b1': { model: quick ? 'convnext_atto' : 'convnext_tiny', size: tinySize, batch: 1, mode: 'eval', numClasses: 1000, dropPath: 0 },
    'tiny-infer-b16': { model: quick ? 'convnext_atto' : 'convnext_tiny', size: tinySize, batch: quick ? 4 : 16, mode: 'eval', numClasses: 1000, dropPath: 0 },
    'tiny-train-b16': { model: quick ? 'convnext_atto' : 'convnext_tiny', size: tinySize, batch: quick ? 4 : 16, mode: 'train', numClasses: 1000, dropPath: 0.1 },
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
    software: { node: process.version, backend: backendInfo().name, ...backendInfo().versions, ...(torch ? { torch: torch.version } : {}) },
    threads: {
      ours: `TF_NUM_INTRAOP_THREADS=${process.env.TF_NUM_INTRAOP_THREADS ?? `unset (${os.cpus().length})`}`,
      ...(torch ? { torch: threads } : {}),
    },
    nativeKernels: { enabled: nativeStatus().enabled, detail: nativeStatus().detail },
    timing,
    rounds,
    cases: [],
  };
  log(`backend ${backendInfo().name}, fused kernels ${nativeStatus().enabled ? 'on' : `off (${nativeStatus().detail})`}, ` +
    `load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);

  const checkDir = path.join(os.tmpdir(), `convnext-bench-${process.pid}`);
  for (const c of modelCases) {
    const oursRuns: OursResult[] = [];
    const torchRuns: TorchResult[] = [];
    const files = torch ? writeCheckFiles(c, checkDir) : undefined;
    for (let round = 0; round < rounds; round++) {
      log(`${c.name}: convnext-ts (round ${round + 1}/${rounds})`);
      oursRuns.push(await runOursCase(c, perRound));
      if (torch && files) {
        log(`${c.name}: PyTorch (round ${round + 1}/${rounds})`);
        torchRuns.push(runTorchCase(torch, {
          model: c.model, size: c.size, batch: c.batch, mode: c.mode, numClasses: c.numClasses, dropPath: c.dropPath,
          threads, weights: files.weights, checkInput: files.input, checkLogits: files.logits,
        }, perRound));
      }
    }
    const flops = flopsPerCall(c);
    const ours = oursResult(oursRuns.flatMap((x) => x.timesMs), c.batch, flops, oursRuns[rounds - 1].tensorsAfter);
    const r: CaseResult = { case: c, flopsPerCall: flops, ours };
    if (torchRuns.length > 0) {
      r.torch = { ...torchRuns[rounds - 1], ...timingStats(torchRuns.flatMap((x) => x.timesMs), c.batch) };
      r.ratio = ours.imagesPerSecond / r.torch.imagesPerSecond;
    }
    results.cases.push(r);
    log(`${c.name}: ours ${ours.imagesPerSecond.toFixed(2)} img/s` +
      (r.torch ? `, PyTorch ${r.torch.imagesPerSecond.toFixed(2)} img/s, ratio ${r.ratio!.toFixed(2)}` : ''));
  }

  if (wanted.includes('peak')) {
    const n = quick ? 512 : 2048;
    log(`matmul peak ${n}x${n}`);
    results.peak = { n, oursGflops: await matmulPeak(n, quick ? 0.2 : 3), ...(torch ? { torchGflops: torchPeak(torch, threads, n) } : {}) };
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
