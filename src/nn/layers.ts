/** The leaf layers ConvNeXt is built from, in NHWC with PyTorch's parameter names. */
import { tf } from '../backend';
import { NativeOps, nativeOps } from '../native';
import { truncNormal } from './init';
import { FeatureShape, MacCounter, Module } from './module';

/** torch.nn.Linear over the last axis. `weight` is stored [in, out] (PyTorch: [out, in]). */
export class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(readonly inFeatures: number, readonly outFeatures: number) {
    super();
    this.weight = this.registerParameter('weight', truncNormal([inFeatures, outFeatures]));
    this.bias = this.registerParameter('bias', tf.zeros([outFeatures]));
  }

  forward<T extends tf.Tensor>(x: T): T {
    return tf.tidy(() => {
      const flat = x.reshape([-1, this.inFeatures]) as tf.Tensor2D;
      const y = tf.add(tf.matMul(flat, this.weight as tf.Tensor2D), this.bias);
      return y.reshape([...x.shape.slice(0, -1), this.outFeatures]) as T;
    });
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    counter.add((input[0] * input[1] * this.inFeatures * this.outFeatures));
    return [input[0], input[1], this.outFeatures];
  }
}

export interface Conv2dOptions {
  kernelSize: number;
  stride?: number;
  /** Zero padding on each side; ConvNeXt uses kernelSize // 2 for its depthwise conv, 0 elsewhere. */
  padding?: number;
  /** groups === inChannels === outChannels gives a depthwise conv. */
  groups?: number;
  bias?: boolean;
}

/**
 * What every conv layer here shares: torch.nn.Conv2d's parameters restricted to groups ∈ {1, channels}
 * (`weight` stored HWIO, or [k, k, C, 1] for depthwise; PyTorch: OIHW, [C, 1, k, k]), its geometry and
 * its MAC count. Subclasses decide what forward does with them.
 */
export abstract class ConvLayer extends Module {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;
  readonly kernelSize: number;
  readonly stride: number;
  readonly padding: number;
  readonly depthwise: boolean;

  constructor(readonly inChannels: number, readonly outChannels: number, opts: Conv2dOptions) {
    super();
    const groups = opts.groups ?? 1;
    this.depthwise = groups > 1;
    if (this.depthwise && !(groups === inChannels && groups === outChannels)) {
      throw new Error(`${new.target.name} supports groups=1 or depthwise (groups=in=out); got groups=${groups}, ` +
        `in=${inChannels}, out=${outChannels}`);
    }
    this.kernelSize = opts.kernelSize;
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    const k = this.kernelSize;
    const shape = this.depthwise ? [k, k, inChannels, 1] : [k, k, inChannels, outChannels];
    this.weight = this.registerParameter('weight', truncNormal(shape));
    if (opts.bias ?? true) this.bias = this.registerParameter('bias', tf.zeros([outChannels]));
  }

  /** The conv with explicit zero padding, without the bias. */
  protected convWithoutBias(x: tf.Tensor4D): tf.Tensor4D {
    const p = this.padding;
    const padded = p > 0 ? tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]]) : x;
    return this.depthwise
      ? tf.depthwiseConv2d(padded, this.weight as tf.Tensor4D, this.stride, 'valid')
      : tf.conv2d(padded, this.weight as tf.Tensor4D, this.stride, 'valid');
  }

  outputSize(size: number): number {
    return Math.floor((size + 2 * this.padding - this.kernelSize) / this.stride) + 1;
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    const h = this.outputSize(input[0]);
    const w = this.outputSize(input[1]);
    const perOutput = this.kernelSize * this.kernelSize * (this.depthwise ? 1 : this.inChannels);
    counter.add(h * w * this.outChannels * perOutput);
    return [h, w, this.outChannels];
  }
}

/** torch.nn.Conv2d restricted to groups ∈ {1, channels}. */
export class Conv2d extends ConvLayer {
  /** True when zero padding of kernelSize // 2 at stride 1 is TensorFlow's 'same' padding. */
  get samePadding(): boolean {
    return this.stride === 1 && this.kernelSize % 2 === 1 && this.padding === this.kernelSize >> 1;
  }

  /**
   * Non-overlapping patches of a many-channel input (the downsampling layers): in training, run as one
   * matmul. TensorFlow's strided Conv2D and its two backward ops took 1.5-2x longer on these shapes
   * (e.g. 2x2 stride 2, 256→512 channels on 4x4 maps: 38 vs 19 ms per forward + backward, batch 128);
   * in inference and on RGB stems the conv is as fast or faster.
   */
  private get patchMatMul(): boolean {
    return this.training && !this.depthwise && this.kernelSize > 1 && this.stride === this.kernelSize &&
      this.padding === 0 && this.inChannels >= 16;
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [n, h, w] = x.shape;
      const k = this.kernelSize;
      if (this.patchMatMul && h % k === 0 && w % k === 0) {
        // Space-to-depth, then [N·H'·W', k·k·C] x [k·k·C, C']: HWIO weights flatten in the patches' (kh, kw, c) order.
        const patches = x.reshape([n, h / k, k, w / k, k, this.inChannels]).transpose([0, 1, 3, 2, 4, 5])
          .reshape([-1, k * k * this.inChannels]);
        const y = tf.matMul(patches, this.weight.reshape([k * k * this.inChannels, this.outChannels]));
        return (this.bias ? tf.add(y, this.bias) : y).reshape([n, h / k, w / k, this.outChannels]);
      }
      const p = this.padding;
      // 'same' pads inside the conv kernel: no padded copy forward, no slice of it backward.
      if (this.samePadding && p > 0) {
        const y = this.depthwise
          ? tf.depthwiseConv2d(x, this.weight as tf.Tensor4D, 1, 'same')
          : tf.conv2d(x, this.weight as tf.Tensor4D, 1, 'same');
        return this.bias ? tf.add(y, this.bias) : y;
      }
      const y = this.convWithoutBias(x);
      return this.bias ? tf.add(y, this.bias) : y;
    });
  }
}

/**
 * LayerNorm over the channel (last) axis, written from plain ops: tf.layers.layerNormalization is
 * very slow to train in tfjs. eps 1e-6 as in ConvNeXt.
 */
export class LayerNorm extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(readonly channels: number, readonly eps = 1e-6) {
    super();
    this.weight = this.registerParameter('weight', tf.ones([channels]));
    this.bias = this.registerParameter('bias', tf.zeros([channels]));
  }

  forward<T extends tf.Tensor>(x: T): T {
    const ops = nativeOps();
    if (ops) return tf.tidy(() => fusedLayerNorm(ops, x, this.weight, this.bias, tf.zeros([this.channels]), this.eps));
    return tf.tidy(() => {
      const axis = x.rank - 1;
      const { mean, variance } = tf.moments(x, axis, true);
      const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.eps)));
      return tf.add(tf.mul(normed, this.weight), this.bias) as T;
    });
  }

  profile(input: FeatureShape): FeatureShape {
    return input;
  }
}

/**
 * LayerNorm over the last axis of `x + biasIn` in one fused kernel, with a hand-written gradient (one
 * fused kernel too) for x, weight, bias and biasIn. `biasIn` lets a preceding layer's bias ride along.
 */
export function fusedLayerNorm<T extends tf.Tensor>(
  ops: NativeOps, x: T, weight: tf.Tensor, bias: tf.Tensor, biasIn: tf.Tensor, eps: number,
): T {
  const f = tf.customGrad((...args: unknown[]) => {
    const [xi, w, b, bi] = args as tf.Tensor[];
    const save = args[4] as tf.GradSaveFunc;
    const [y, mean, rstd] = ops.layerNorm(xi, w, b, bi, eps);
    // Inputs made inside the caller's tidy (biasIn) are gone by backprop time unless saved.
    save([xi, mean, rstd, w, bi]);
    return {
      value: y.reshape(xi.shape),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, m, r, ws, bs] = saved;
        return ops.layerNormGrad(dy, xs, ws, bs, m as tf.Tensor1D, r as tf.Tensor1D);
      },
    };
  }) as (...t: tf.Tensor[]) => tf.Tensor;
  return f(x, weight, bias, biasIn) as T;
}

/** GELU with the exact erf form, as torch.nn.GELU() (not the tanh approximation). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)) as T);
}

/** torch.nn.GELU() as a module, for Sequential containers. */
export class GELU extends Module {
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return gelu(x);
  }

  profile(input: FeatureShape): FeatureShape {
    return input;
  }
}

/**
 * Stochastic depth (timm's drop_path): in training, zero the residual branch of a whole sample with
 * probability `rate` and scale the survivors by 1 / (1 - rate).
 */
export function dropPath<T extends tf.Tensor>(x: T, rate: number, training: boolean): T {
  if (!training || rate === 0) return x;
  return tf.tidy(() => {
    const keep = 1 - rate;
    const maskShape = [x.shape[0], ...x.shape.slice(1).map(() => 1)];
    const mask = tf.floor(tf.add(tf.randomUniform(maskShape), keep));
    return tf.mul(x, tf.div(mask, keep)) as T;
  });
}
