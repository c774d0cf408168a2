/** Inference timing of a classifier on random images: the throughput columns of the paper's Table 1. */
import { tf } from '../backend';
import { Classifier } from '../convnext';
import { median, timeStepsSync, totalImagesPerSecond } from '../util/timing';

export interface InferenceOptions {
  batchSize: number;
  /** Input height and width in pixels. */
  size: number;
  /** Timed forward passes (after the warm-up). */
  iterations: number;
  /** Untimed passes first: the first calls pay for kernel selection and memory allocation. */
  warmup?: number;
}

export interface InferenceResult {
  batchSize: number;
  size: number;
  iterations: number;
  imagesPerSecond: number;
  /** Median time of one batch in milliseconds. */
  msPerBatch: number;
  outputShape: number[];
}

/** Times `model.forward` in eval mode; each pass is synchronised by reading the logits back. */
export function measureInference(model: Classifier, opts: InferenceOptions): InferenceResult {
  const { batchSize, size, iterations, warmup = 1 } = opts;
  if (!(batchSize >= 1 && size >= 1 && iterations >= 1)) {
    throw new Error(`batchSize, size and iterations must be at least 1 (got ${batchSize}, ${size}, ${iterations})`);
  }
  const wasTraining = model.training;
  model.eval();
  const x = tf.randomNormal([batchSize, size, size, 3]) as tf.Tensor4D;
  let outputShape: number[] = [];
  try {
    const times = timeStepsSync(() => {
      const logits = tf.tidy(() => model.forward(x));
      logits.dataSync();
      outputShape = logits.shape;
      logits.dispose();
    }, { warmup, minIters: iterations, maxIters: iterations, minSeconds: 0 });
    return {
      batchSize, size, iterations,
      imagesPerSecond: totalImagesPerSecond(batchSize, times),
      msPerBatch: median(times),
      outputShape,
    };
  } finally {
    x.dispose();
    model.train(wasTraining);
  }
}
