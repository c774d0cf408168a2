/** Notebook 00's smoke test: one forward pass of a freshly built model, checked for shape and leaks. */
import { tf } from '../backend';
import { createModel } from '../convnext';
import { type InferenceResult, measureInference } from './inference';
import { type Row, vsPaper } from './table';

export interface SmokeTestResult {
  model: string;
  size: number;
  batchSize: number;
  result: InferenceResult;
  /** Tensors alive after the pass that were not before it. */
  leaked: number;
}

/**
 * Builds `model` with random weights, times `iterations` forward passes of a random batch and disposes
 * it; throws when the logits are not `batchSize × classes` or when tensors were left behind.
 */
export function forwardSmokeTest(model: string, o: { size: number; iterations: number; batchSize?: number; classes?: number }): SmokeTestResult {
  const batchSize = o.batchSize ?? 2;
  const classes = o.classes ?? 1000;
  const before = tf.memory().numTensors;
  const m = createModel(model);
  let result: InferenceResult;
  try {
    result = measureInference(m, { batchSize, size: o.size, iterations: o.iterations });
  } finally {
    m.dispose();
  }
  const leaked = tf.memory().numTensors - before;
  const shape = result.outputShape.join('×');
  if (shape !== `${batchSize}×${classes}`) throw new Error(`unexpected logits shape ${result.outputShape}`);
  if (leaked !== 0) throw new Error(`the forward pass leaked ${leaked} tensors`);
  return { model, size: o.size, batchSize, result, leaked };
}

/** The smoke test's table row, the logits shape beside the paper's 1000-class heads. */
export function smokeTestRow(s: SmokeTestResult, paperClasses = 1000): Row {
  return {
    model: s.model,
    input: `${s.batchSize}×${s.size}×${s.size}×3 (NHWC)`,
    ...vsPaper('logits shape', `${s.batchSize}×${paperClasses}`, s.result.outputShape.join('×')),
    'ms per batch (median)': s.result.msPerBatch,
    'images/s': s.result.imagesPerSecond,
    'tensors left over': s.leaked,
  };
}
