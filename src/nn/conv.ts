import { tf } from '../backend';
import { nativeOps } from '../native';
import { truncNormal } from './init';
import { matMul2d } from './matmul';
import { FeatureShape, MacCounter, Module } from './module';
import { withGradient } from './with-gradient';

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

  /** True when zero padding of kernelSize // 2 at stride 1 is TensorFlow's 'same' padding. */
  get samePadding(): boolean {
    return this.stride === 1 && this.kernelSize % 2 === 1 && this.padding === this.kernelSize >> 1;
  }

  /** The conv with its zero padding, without the bias. */
  protected convWithoutBias(x: tf.Tensor4D): tf.Tensor4D {
    const p = this.padding;
    const w = this.weight as tf.Tensor4D;
    // 'same' pads inside the conv kernel: no padded copy forward, no slice of it backward.
    if (this.samePadding && p > 0) {
      if (!this.depthwise) return tf.conv2d(x, w, 1, 'same');
      const ops = nativeOps();
      // The native kernels: TensorFlow's filter gradient took 5-20x its forward conv on ConvNeXt's shapes.
      if (!ops) return tf.depthwiseConv2d(x, w, 1, 'same');
      return withGradient((xi: tf.Tensor4D, fi: tf.Tensor4D) => ops.depthwise(xi, fi),
        (dy, xi, fi) => ops.depthwiseBackward(dy, xi, fi))(x, w);
    }
    const padded = p > 0 ? tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]]) : x;
    return this.depthwise
      ? tf.depthwiseConv2d(padded, w, this.stride, 'valid')
      : tf.conv2d(padded, w, this.stride, 'valid');
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
        const y = matMul2d(patches as tf.Tensor2D, this.weight.reshape([k * k * this.inChannels, this.outChannels]));
        return (this.bias ? tf.add(y, this.bias) : y).reshape([n, h / k, w / k, this.outChannels]);
      }
      const y = this.convWithoutBias(x);
      return this.bias ? tf.add(y, this.bias) : y;
    });
  }
}
