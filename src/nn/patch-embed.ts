/** The transformers' patch embedding (timm's layers/patch_embed.py PatchEmbed), NHWC out. */
import { tf } from '../backend';
import { Conv2d } from './conv';
import { FeatureShape, MacCounter, Module } from './module';
import { LayerNorm } from './norm';

/**
 * A p x p stride-p conv (`proj`) cutting the image into patches of `embedDim` channels, optionally
 * followed by a LayerNorm (`norm`, Swin's). [B, H, W, C] → [B, H/p, W/p, embedDim]; H and W must be
 * multiples of p (timm's strict patch embedding; the models check it with a clearer message).
 */
export class PatchEmbed extends Module {
  readonly proj: Conv2d;
  readonly norm?: LayerNorm;

  constructor(readonly patchSize: number, inChans: number, readonly embedDim: number, norm?: { eps: number }) {
    super();
    this.proj = this.registerModule('proj', new Conv2d(inChans, embedDim, { kernelSize: patchSize, stride: patchSize }));
    if (norm) this.norm = this.registerModule('norm', new LayerNorm(embedDim, norm.eps));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    const [, h, w] = x.shape;
    const p = this.patchSize;
    if (h % p !== 0 || w % p !== 0) throw new Error(`input ${h}x${w} is not divisible by the patch size ${p}`);
    return tf.tidy(() => {
      const y = this.proj.forward(x);
      return this.norm ? this.norm.forward(y) : y;
    });
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    return counter.within('proj', () => this.proj.profile(input, counter));
  }
}
