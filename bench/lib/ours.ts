/** The convnext-ts side of the bench: model steps, matmul peak, memory over many steps, input pipeline. */
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../../src/backend';
import { augmentConfig } from '../../src/augment/config';
import { buildBatchTransform, buildTrainTransform } from '../../src/augment/transforms';
import { complexity } from '../../src/convnext/count';
import type { Classifier } from '../../src/convnext/model';
import { createModel } from '../../src/convnext/registry';
import { withoutInit } from '../../src/nn/init';
import { saveWeights } from '../../src/convnext/weights';
import { exportOnnx } from '../../src/convnext/onnx/export';
import type { Dataset } from '../../src/data/dataset';
import { DataLoader } from '../../src/data/loader';
import { AdamW } from '../../src/train/adamw';
import { buildParamGroups } from '../../src/train/param-groups';
import { TrainStep } from '../../src/train/step';
import { timeSteps, timingStats, totalImagesPerSecond, type TimingOptions, type TimingStats } from '../../src/util/timing';

export interface ModelCase {
  /** Row label, e.g. `convnext_tiny 224 b16 train`. */
  name: string;
  model: string;
  size: number;
  batch: number;
  mode: 'eval' | 'train';
  numClasses: number;
  /** Stochastic depth rate while training (the paper's 0.1 for ConvNeXt-T on ImageNet-1K). */
  dropPath: number;
}

export function caseName(c: Omit<ModelCase, 'name'>): string {
  return `${c.model} ${c.size}px b${c.batch} ${c.mode === 'eval' ? 'inference' : 'train step'}`;
}

/** FLOPs (2 x MACs) of one call: forward only for inference; forward + backward (~3x) for a train step. */
export function flopsPerCall(c: ModelCase): number {
  const macs = withoutInit(() => {
    const m = createModel(c.model, { numClasses: c.numClasses });
    try {
      return complexity(m, c.size).macs;
    } finally {
      m.dispose();
    }
  });
  return 2 * macs * c.batch * (c.mode === 'train' ? 3 : 1);
}

export function makeModel(c: ModelCase): Classifier {
  const m = createModel(c.model, { numClasses: c.numClasses, dropPathRate: c.dropPath });
  return c.mode === 'eval' ? m.eval() : m.train();
}

/**
 * One training step: `fit`'s own TrainStep (src/train/step.ts) with soft-target cross-entropy, no
 * accumulation, AdamW (paper hyper-parameters, no decay on 1-D parameters); resolves to the loss.
 */
export function trainStep(model: Classifier, batch: () => { x: tf.Tensor4D; y: tf.Tensor2D }): { step: () => Promise<number>; dispose: () => void } {
  const optimizer = new AdamW(buildParamGroups(model, { weightDecay: 0.05 }));
  const train = new TrainStep(model, optimizer, { loss: 'soft-target' });
  let microStep = 0;
  const step = async () => (await train.run(batch(), { lr: 4e-3, update: true, microStep: microStep++ })).loss;
  // The optimizer's moment vectors (2 x the parameters) outlive the steps until disposed.
  return {
    step,
    dispose: () => {
      train.dispose();
      optimizer.dispose();
    },
  };
}

function syntheticBatch(c: ModelCase): { x: tf.Tensor4D; y: tf.Tensor2D } {
  return tf.tidy(() => ({
    x: tf.randomNormal([c.batch, c.size, c.size, 3]) as tf.Tensor4D,
    y: tf.oneHot(tf.randomUniform([c.batch], 0, c.numClasses, 'int32') as tf.Tensor1D, c.numClasses) as tf.Tensor2D,
  }));
}

/** Reads a result back (so its computation is inside the timing) and frees it. */
function readAndDispose(t: tf.Tensor): void {
  t.dataSync();
  t.dispose();
}

export interface OursResult extends TimingStats {
  gflops: number;
  tensorsAfter: number;
}

/** Step-time statistics of our side, with GFLOP/s at the median step. */
export function oursResult(timesMs: number[], batch: number, flopsPerStep: number, tensorsAfter: number): OursResult {
  const s = timingStats(timesMs, batch);
  return { ...s, gflops: flopsPerStep / (s.medianMs / 1000) / 1e9, tensorsAfter };
}

export async function runOursCase(c: ModelCase, t: TimingOptions): Promise<OursResult> {
  const model = makeModel(c);
  const data = syntheticBatch(c);
  const train = c.mode === 'train' ? trainStep(model, () => data) : undefined;
  try {
    const step = train ? async () => { await train.step(); } : () => readAndDispose(tf.tidy(() => model.forward(data.x)));
    return oursResult(await timeSteps(step, t), c.batch, flopsPerCall(c), tf.memory().numTensors);
  } finally {
    train?.dispose();
    tf.dispose([data.x, data.y]);
    model.dispose();
  }
}

/**
 * Files for the PyTorch side: our initial weights (official names, PyTorch layouts) and eval-mode
 * logits for a fixed input, so the reference runs the very same network and the bench can report
 * how far its outputs are from ours; with `onnx`, the same model exported to ONNX for ONNX Runtime.
 */
export function writeCheckFiles(
  c: ModelCase, dir: string, opts: { onnx?: boolean; opset?: number } = {},
): { weights: string; input: string; logits: string; onnx?: string } {
  fs.mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `${c.model}-${c.size}-${c.numClasses}`);
  const files: { weights: string; input: string; logits: string; onnx?: string } =
    { weights: `${base}.safetensors`, input: `${base}.input.f32`, logits: `${base}.logits.f32` };
  const model = createModel(c.model, { numClasses: c.numClasses }).eval();
  try {
    saveWeights(model, files.weights);
    if (opts.onnx) {
      // The ONNX Runtime peer runs these very weights, exported by us.
      files.onnx = `${base}.onnx`;
      fs.writeFileSync(files.onnx, exportOnnx(model, { size: c.size, opset: opts.opset, modelName: c.model }));
    }
    tf.tidy(() => {
      const x = tf.randomUniform([2, c.size, c.size, 3], -2, 2, 'float32', 7) as tf.Tensor4D;
      fs.writeFileSync(files.input, Buffer.from((x.dataSync() as Float32Array).buffer));
      fs.writeFileSync(files.logits, Buffer.from((model.forward(x).dataSync() as Float32Array).buffer));
    });
  } finally {
    model.dispose();
  }
  return files;
}

/** Best matmul GFLOP/s of an n x n product on the active backend: the machine's practical peak. */
export async function matmulPeak(n: number, seconds: number): Promise<number> {
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  try {
    const times = await timeSteps(() => readAndDispose(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D)),
      { warmup: 2, minIters: 5, maxIters: 1000, minSeconds: seconds });
    return (2 * n ** 3) / (Math.min(...times) / 1000) / 1e9;
  } finally {
    tf.dispose([a, b]);
  }
}

export interface MemoryResult {
  case: string;
  steps: number;
  /** Live tensors and resident memory after the first 10% of steps (warm) and after the last one. */
  tensorsWarm: number;
  tensorsEnd: number;
  rssWarmMiB: number;
  rssEndMiB: number;
  peakRssMiB: number;
}

const mib = (bytes: number) => bytes / (1 << 20);

/** Trains `steps` steps and checks that neither the tensor count nor resident memory keeps growing. */
export async function memoryOverSteps(c: ModelCase, steps: number): Promise<MemoryResult> {
  const model = makeModel(c);
  const data = syntheticBatch(c);
  const train = trainStep(model, () => data);
  const warmAt = Math.max(1, Math.round(steps / 10));
  let tensorsWarm = 0;
  let rssWarm = 0;
  try {
    for (let i = 1; i <= steps; i++) {
      await train.step();
      if (i === warmAt) {
        tensorsWarm = tf.memory().numTensors;
        rssWarm = process.memoryUsage().rss;
      }
    }
    return {
      case: c.name, steps, tensorsWarm, tensorsEnd: tf.memory().numTensors,
      rssWarmMiB: mib(rssWarm), rssEndMiB: mib(process.memoryUsage().rss),
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    train.dispose();
    tf.dispose([data.x, data.y]);
    model.dispose();
  }
}

/** Batches the training loader prepares ahead (the loader's default). */
const TRAIN_PREFETCH = 2;

/**
 * A DataLoader with the paper's training augmentation (RandAugment, erasing, mixup / cutmix); `workers`
 * as the DataLoader option (default: the loader's own default, what training uses).
 */
export function trainLoader(dataset: Dataset, size: number, batchSize: number, workers?: number): DataLoader {
  const aug = augmentConfig({ inputSize: size });
  return new DataLoader({
    dataset, batchSize, shuffle: true, seed: 0, dropLast: true, prefetch: TRAIN_PREFETCH, workers,
    transform: buildTrainTransform(aug),
    batchTransform: buildBatchTransform(aug, dataset.classes.length),
    normalize: aug.normalize,
  });
}

export interface RealDataResult {
  case: string;
  dataset: string;
  /** The loader's transform worker threads (0: augmentation on the training thread; absent in older results). */
  loaderWorkers?: number;
  /** Images over total time of the timed steps (older results: at the median step). */
  syntheticImagesPerSecond: number;
  realImagesPerSecond: number;
  /** real / synthetic: 1 means the input pipeline never makes training wait. */
  ratio: number;
  /** Each real block's rate over the mean rate of the synthetic blocks either side (absent in older results). */
  blockRatios?: number[];
}

/**
 * Training images/s fed by the real input pipeline vs. by one synthetic batch in memory, timed in
 * alternating blocks, synthetic first and last (S R S R ... S), so that drift in the machine's speed
 * affects both alike. The loader runs on across blocks and epochs, as in training. Each block starts
 * with `prefetch + 1` untimed steps: in a synthetic block they cover the loader filling its queue, and in
 * a real block they use up the batches made meanwhile, so neither side's timing carries the other's work.
 */
export async function realVsSynthetic(
  c: ModelCase, dataset: Dataset, datasetName: string, t: TimingOptions, blocks: number, workers?: number,
): Promise<RealDataResult> {
  const model = makeModel({ ...c, numClasses: dataset.classes.length });
  const numClasses = dataset.classes.length;
  const synthetic = syntheticBatch({ ...c, numClasses });
  const synthTrain = trainStep(model, () => synthetic);
  let current: { x: tf.Tensor4D; y: tf.Tensor2D } | undefined;
  const realTrain = trainStep(model, () => current!);
  const loader = trainLoader(dataset, c.size, c.batch, workers);
  let epoch = 0;
  let it = loader[Symbol.asyncIterator]();
  try {
    const block: TimingOptions = {
      warmup: TRAIN_PREFETCH + 1, minIters: Math.ceil(t.minIters / blocks), maxIters: Math.ceil(t.maxIters / blocks),
      minSeconds: t.minSeconds / blocks,
    };
    const synthStep = async () => { await synthTrain.step(); };
    const realStep = async () => {
      let next = await it.next();
      if (next.done) {
        loader.setEpoch(++epoch);
        it = loader[Symbol.asyncIterator]();
        next = await it.next();
        if (next.done) throw new Error(`${datasetName}: the loader gives no batches of ${c.batch}`);
      }
      current = next.value;
      await realTrain.step();
      tf.dispose([next.value.x, next.value.y]);
    };
    const first = { ...block, warmup: Math.max(block.warmup, t.warmup) };
    const synthBlocks = [await timeSteps(synthStep, first)];
    const realBlocks: number[][] = [];
    for (let i = 0; i < blocks; i++) {
      realBlocks.push(await timeSteps(realStep, i === 0 ? first : block));
      synthBlocks.push(await timeSteps(synthStep, block));
    }
    // Over the total time of the timed steps, so that waits for the loader count.
    const rate = (times: number[]) => totalImagesPerSecond(c.batch, times);
    const synth = rate(synthBlocks.flat());
    const real = rate(realBlocks.flat());
    return {
      case: c.name, dataset: datasetName, loaderWorkers: loader.workers,
      syntheticImagesPerSecond: synth, realImagesPerSecond: real, ratio: real / synth,
      blockRatios: realBlocks.map((r, i) => rate(r) / ((rate(synthBlocks[i]) + rate(synthBlocks[i + 1])) / 2)),
    };
  } finally {
    await it.return?.();
    await loader.close();
    synthTrain.dispose();
    realTrain.dispose();
    tf.dispose([synthetic.x, synthetic.y]);
    model.dispose();
  }
}
