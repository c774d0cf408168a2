/** Swin's downsampling between stages (timm's swin_transformer.PatchMerging). */
import { tf } from '../backend';
import { LinearNoBias } from './linear-no-bias';
import { FeatureShape, MacCounter, Module } from './module';
import { LayerNorm } from './norm';

/**
 * Each 2x2 neighbourhood of an NHWC map concatenated into 4C channels → LayerNorm(4C) → Linear(4C → 2C,
 * no bias). The concat order is timm's (and the original Swin's x0, x1, x2, x3): (top-left, bottom-left,
 * top-right, bottom-right), i.e. channel index = (dx·2 + dy)·C + c. Odd heights or widths are zero-padded
 * at the bottom / right first, as timm does. Parameters `norm`, `reduction`.
 */
export class PatchMerging extends Module {
  readonly norm: LayerNorm;
  readonly reduction: LinearNoBias;

  constructor(readonly dim: number, readonly outDim = 2 * dim, eps = 1e-5) {
    super();
    this.norm = this.registerModule('norm', new LayerNorm(4 * dim, eps));
    this.reduction = this.registerModule('reduction', new LinearNoBias(4 * dim, outDim));
  }

  /** [B, H, W, C] → [B, ceil(H/2), ceil(W/2), 4C], before the norm and reduction. */
  static merge(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [b, h, w, c] = x.shape;
      const padded = h % 2 || w % 2 ? tf.pad(x, [[0, 0], [0, h % 2], [0, w % 2], [0, 0]]) : x;
      const [hp, wp] = [h + (h % 2), w + (w % 2)];
      // [B, H/2, dy, W/2, dx, C] → [B, H/2, W/2, dx, dy, C]
      return padded.reshape([b, hp / 2, 2, wp / 2, 2, c]).transpose([0, 1, 3, 4, 2, 5]).reshape([b, hp / 2, wp / 2, 4 * c]);
    });
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.reduction.forward(this.norm.forward(PatchMerging.merge(x))));
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    const merged: FeatureShape = [Math.ceil(input[0] / 2), Math.ceil(input[1] / 2), 4 * input[2]];
    return counter.within('reduction', () => this.reduction.profile(merged, counter));
  }
}
