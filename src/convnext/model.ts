/** What the registry builds, and how each model family describes its models to it. */
import type { tf } from '../backend';
import type { Module } from '../nn/module';

/** Anything the registry builds and the trainer trains: a Module mapping an NHWC batch to logits. */
export interface Classifier extends Module {
  forward(x: tf.Tensor4D): tf.Tensor2D;
  /** Called at the start of every epoch (0-based; resumed epochs too): e.g. dynamic-conv temperature annealing. */
  onEpochStart?(epoch: number): void;
}

export interface ModelOptions {
  numClasses?: number;
  inChans?: number;
  dropPathRate?: number;
  headInitScale?: number;
  layerScaleInitValue?: number;
}

export interface ModelEntry {
  /** timm's scheme: lowercase snake_case, family first (`convnext_tiny`, `roadmap_06_inverted_bottleneck`). */
  name: string;
  description: string;
  /** Input resolution the model is usually evaluated at. */
  defaultSize: number;
  create(opts: ModelOptions): Classifier;
}

/** The input size must be a multiple of the model's total stride (32 for every ImageNet ConvNeXt). */
export function checkInputSize(model: Classifier, size: number): void {
  const stride = (model as Partial<{ totalStride: number }>).totalStride ?? 32;
  if (size % stride !== 0) {
    throw new Error(`--size ${size} is not divisible by ${stride}, the model's total stride (try ${Math.max(stride, Math.round(size / stride) * stride)})`);
  }
}
