/**
 * The reproduction study's "DynamicConv2d": a conv whose kernel is rescaled per sample by factors
 * computed from the input (adaptive avgpool → 1x1 conv → sigmoid).
 */
import { tf } from '../backend';
import { Linear } from './linear';
import { Conv2dOptions, ConvLayer } from './conv';
import { FeatureShape, MacCounter } from './module';
import { globalAvgPool, scaleChannels } from './pool';

/**
 * Conv (dense or depthwise) with input-conditioned kernel scaling. Sample n convolves with
 * W_n[..., o] = s[n, o] · W[..., o], s = sigmoid(gate(avgpool(x))) ∈ (0, 1)^C_out.
 *
 * Output channel o of a conv reads only kernel slice W[..., o], and s[n, o] is constant over the window
 * and the input channels, so conv(x_n, W_n)[o] = s[n, o] · conv(x_n, W)[o] exactly: one ordinary conv
 * for the whole batch, then a per-sample channel scale before the (unscaled) bias. Parameters use
 * Conv2d's names and layouts (`weight` HWIO or [k, k, C, 1], `bias`), so plain ConvNeXt weights load
 * into it, plus `gate` (the 1x1 conv on the pooled vector, stored as a Linear [C_in, C_out]). It shares
 * ConvLayer with Conv2d but is not a Conv2d on purpose: code that takes fused shortcuts for plain convs
 * must not mistake it for one.
 */
export class ScaledDynamicConv2d extends ConvLayer {
  readonly gate: Linear;

  constructor(inChannels: number, outChannels: number, opts: Conv2dOptions) {
    super(inChannels, outChannels, opts);
    this.gate = this.registerModule('gate', new Linear(inChannels, outChannels));
  }

  /** Per-sample kernel scales s [N, C_out]. */
  scales(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => tf.sigmoid(this.gate.forward(globalAvgPool(x))));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const scaled = scaleChannels(this.convWithoutBias(x), this.scales(x));
      return this.bias ? tf.add(scaled, this.bias) : scaled;
    });
  }

  override profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    counter.within('gate', () => this.gate.profile([1, 1, this.inChannels], counter));
    return super.profile(input, counter);
  }
}
