/**
 * The reproduction study's "DynamicConv2d": a conv whose kernel is rescaled per sample by factors
 * computed from the input (adaptive avgpool → 1x1 conv → sigmoid).
 */
import { tf } from '../../backend';
import { truncNormal } from '../init';
import { Conv2dOptions, Linear } from '../layers';
import { FeatureShape, MacCounter, Module } from '../module';
import type { TorchLayout, TorchLayoutProvider } from '../weights';
import { globalAvgPool, scaleChannels } from './pool';

/**
 * Conv (dense or depthwise) with input-conditioned kernel scaling. Sample n convolves with
 * W_n[..., o] = s[n, o] · W[..., o], s = sigmoid(gate(avgpool(x))) ∈ (0, 1)^C_out.
 *
 * Output channel o of a conv reads only kernel slice W[..., o], and s[n, o] is constant over the window
 * and the input channels, so conv(x_n, W_n)[o] = s[n, o] · conv(x_n, W)[o] exactly: one ordinary conv
 * for the whole batch, then a per-sample channel scale before the (unscaled) bias. Parameters use
 * Conv2d's names and layouts (`weight` HWIO or [k, k, C, 1], `bias`), so plain ConvNeXt weights load
 * into it, plus `gate` (the 1x1 conv on the pooled vector, stored as a Linear [C_in, C_out]). It is not
 * a Conv2d subclass on purpose: code that takes fused shortcuts for plain convs must not mistake it for one.
 */
export class ScaledDynamicConv2d extends Module implements TorchLayoutProvider {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;
  readonly gate: Linear;
  readonly kernelSize: number;
  readonly stride: number;
  readonly padding: number;
  readonly depthwise: boolean;

  constructor(readonly inChannels: number, readonly outChannels: number, opts: Conv2dOptions) {
    super();
    const groups = opts.groups ?? 1;
    this.depthwise = groups > 1;
    if (this.depthwise && !(groups === inChannels && groups === outChannels)) {
      throw new Error(`ScaledDynamicConv2d supports groups=1 or depthwise (groups=in=out); got groups=${groups}, ` +
        `in=${inChannels}, out=${outChannels}`);
    }
    this.kernelSize = opts.kernelSize;
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    const k = this.kernelSize;
    this.weight = this.registerParameter('weight', truncNormal(this.depthwise ? [k, k, inChannels, 1] : [k, k, inChannels, outChannels]));
    if (opts.bias ?? true) this.bias = this.registerParameter('bias', tf.zeros([outChannels]));
    this.gate = this.registerModule('gate', new Linear(inChannels, outChannels));
  }

  torchLayouts(): Record<string, TorchLayout> {
    return { weight: this.depthwise ? 'depthwise' : 'conv' };
  }

  /** Per-sample kernel scales s [N, C_out]. */
  scales(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => tf.sigmoid(this.gate.forward(globalAvgPool(x))));
  }

  /** The unscaled conv without bias. */
  private conv(x: tf.Tensor4D): tf.Tensor4D {
    const p = this.padding;
    const padded = p > 0 ? tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]]) : x;
    return this.depthwise
      ? tf.depthwiseConv2d(padded, this.weight as tf.Tensor4D, this.stride, 'valid')
      : tf.conv2d(padded, this.weight as tf.Tensor4D, this.stride, 'valid');
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const scaled = scaleChannels(this.conv(x), this.scales(x));
      return this.bias ? tf.add(scaled, this.bias) : scaled;
    });
  }

  outputSize(size: number): number {
    return Math.floor((size + 2 * this.padding - this.kernelSize) / this.stride) + 1;
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    counter.within('gate', () => this.gate.profile([1, 1, this.inChannels], counter));
    const h = this.outputSize(input[0]);
    const w = this.outputSize(input[1]);
    const perOutput = this.kernelSize * this.kernelSize * (this.depthwise ? 1 : this.inChannels);
    counter.add(h * w * this.outChannels * perOutput);
    return [h, w, this.outChannels];
  }
}
