/**
 * Dynamic convolution (Chen et al., "Dynamic Convolution: Attention over Convolution Kernels", CVPR
 * 2020) for the depthwise conv of a ConvNeXt block: K parallel kernels mixed per sample by attention.
 */
import { tf } from '../backend';
import { nativeOps } from '../native';
import { truncNormal } from './init';
import { Linear } from './linear';
import { FeatureShape, MacCounter, Module } from './module';
import { globalAvgPool } from './pool';
import { reducedWidth } from './squeeze-excite';
import { withGradient } from './with-gradient';

/** Softmax temperature annealing: linear from `start` to `end` over the first `epochs` epochs. */
export interface TemperatureSchedule {
  start: number;
  end: number;
  epochs: number;
}

/** Chen et al.: τ falls linearly from 30 to 1 over the first 10 epochs, then stays at 1. */
export const DEFAULT_TEMPERATURE: TemperatureSchedule = { start: 30, end: 1, epochs: 10 };

/** τ at the start of `epoch` (0-based) under a schedule. */
export function temperatureAt(epoch: number, s: TemperatureSchedule = DEFAULT_TEMPERATURE): number {
  if (epoch >= s.epochs || s.epochs <= 0) return s.end;
  return s.start + ((s.end - s.start) * Math.max(0, epoch)) / s.epochs;
}

export interface DynamicConvOptions {
  kernelSize: number;
  stride?: number;
  padding?: number;
  /** Number of parallel kernels K (4). */
  kernels?: number;
  /** Reduction of the attention MLP's hidden layer (4). */
  reduction?: number;
  /** Annealing schedule of the softmax temperature; the module starts at `schedule.start`. */
  temperature?: TemperatureSchedule;
}

/**
 * Depthwise dynamic conv. Attention π = softmax(fc2(relu(fc1(avgpool(x)))) / τ) over K kernels; each
 * sample is convolved with its own kernel Σ π_k W_k and bias Σ π_k b_k. Parameters: `weight`
 * [K, k, k, C, 1] (K depthwise kernels in TF layout; PyTorch [K, C, 1, k, k]), `bias` [K, C],
 * `attention.fc1`, `attention.fc2`.
 */
export class DynamicConv2d extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly attention: DynamicConvAttention;
  readonly kernelSize: number;
  readonly stride: number;
  readonly padding: number;
  readonly kernels: number;
  readonly schedule: TemperatureSchedule;

  constructor(readonly channels: number, opts: DynamicConvOptions) {
    super();
    this.kernelSize = opts.kernelSize;
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    this.kernels = opts.kernels ?? 4;
    if (!(Number.isInteger(this.kernels) && this.kernels >= 1)) {
      throw new Error(`DynamicConv2d needs a positive whole number of kernels, got ${this.kernels}`);
    }
    this.schedule = opts.temperature ?? DEFAULT_TEMPERATURE;
    const k = this.kernelSize;
    this.weight = this.registerParameter('weight', truncNormal([this.kernels, k, k, channels, 1]));
    this.bias = this.registerParameter('bias', tf.zeros([this.kernels, channels]));
    this.attention = this.registerModule('attention',
      new DynamicConvAttention(channels, this.kernels, opts.reduction ?? 4, this.schedule.start));
  }

  /** Sets τ for `epoch` from the schedule; the study model calls it from its `onEpochStart` hook. */
  onEpochStart(epoch: number): void {
    this.attention.temperature = temperatureAt(epoch, this.schedule);
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [n, , , c] = x.shape;
      const k = this.kernelSize;
      const pi = this.attention.forward(x);
      // Per-sample kernels and biases: [N, K] @ [K, k*k*C] and [N, K] @ [K, C].
      const kernels = tf.matMul(pi, this.weight.reshape([this.kernels, -1]) as tf.Tensor2D).reshape([n, k, k, c]) as tf.Tensor4D;
      const biases = tf.matMul(pi, this.bias as tf.Tensor2D);
      return tf.add(this.perSampleConv(x, kernels), biases.reshape([n, 1, 1, c])) as tf.Tensor4D;
    });
  }

  /** Each sample of x convolved with its own depthwise kernel, kernels [N, k, k, C]. */
  private perSampleConv(x: tf.Tensor4D, kernels: tf.Tensor4D): tf.Tensor4D {
    const [n, , , c] = x.shape;
    const k = this.kernelSize;
    const p = this.padding;
    const ops = nativeOps();
    // The native per-sample conv: TensorFlow's filter gradient of the folded conv below took ~75% of the step.
    if (ops && this.stride === 1 && k % 2 === 1 && p === k >> 1) {
      return withGradient((xi: tf.Tensor4D, ki: tf.Tensor4D) => ops.depthwisePerSample(xi, ki),
        (dy, xi, ki) => ops.depthwisePerSampleBackward(dy, xi, ki))(x, kernels);
    }
    // A depthwise conv treats channels independently, so folding the batch into the channel axis
    // ([N, H, W, C] → [1, H, W, N·C]) runs every sample with its own kernel in one conv call.
    const padded = p > 0 ? tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]]) : x;
    const [, hp, wp] = padded.shape;
    const folded = padded.transpose([1, 2, 0, 3]).reshape([1, hp, wp, n * c]) as tf.Tensor4D;
    const filter = kernels.transpose([1, 2, 0, 3]).reshape([k, k, n * c, 1]) as tf.Tensor4D;
    const y = tf.depthwiseConv2d(folded, filter, this.stride, 'valid');
    const [, ho, wo] = y.shape;
    return y.reshape([ho, wo, n, c]).transpose([2, 0, 1, 3]);
  }

  outputSize(size: number): number {
    return Math.floor((size + 2 * this.padding - this.kernelSize) / this.stride) + 1;
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    const h = this.outputSize(input[0]);
    const w = this.outputSize(input[1]);
    const k2 = this.kernelSize * this.kernelSize;
    counter.within('attention', () => this.attention.profile(input, counter));
    // Aggregating the K kernels and biases is a [1, K] x [K, (k*k + 1)*C] matmul per image.
    counter.add(this.kernels * (k2 + 1) * this.channels);
    counter.add(h * w * this.channels * k2);
    return [h, w, this.channels];
  }
}

/** The kernel attention of a dynamic conv: avgpool → fc1 → ReLU → fc2 → softmax(z / τ), [N, K]. */
export class DynamicConvAttention extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(readonly channels: number, readonly kernels: number, reduction: number, public temperature: number) {
    super();
    const hidden = reducedWidth(channels, reduction);
    this.fc1 = this.registerModule('fc1', new Linear(channels, hidden));
    this.fc2 = this.registerModule('fc2', new Linear(hidden, kernels));
  }

  forward(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const z = this.fc2.forward(tf.relu(this.fc1.forward(globalAvgPool(x))));
      return tf.softmax(tf.div(z, this.temperature)) as tf.Tensor2D;
    });
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    counter.within('fc1', () => this.fc1.profile([1, 1, this.channels], counter));
    counter.within('fc2', () => this.fc2.profile([1, 1, this.fc1.outFeatures], counter));
    return [1, 1, this.kernels];
  }
}
