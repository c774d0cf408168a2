import { tf } from '../backend';
import { gelu } from '../nn/activation';
import { Conv2d } from '../nn/conv';
import { dropPath } from '../nn/drop-path';
import { FastBlock } from '../nn/fast-block';
import { Linear } from '../nn/linear';
import { FeatureShape, MacCounter, Module } from '../nn/module';
import { LayerNorm } from '../nn/norm';

/** A layer mapping one NHWC feature map to another: what a block's hooks plug in. */
export type FeatureLayer = Module & { forward(x: tf.Tensor4D): tf.Tensor4D };

export interface BlockOptions {
  /** Stochastic depth rate of this block's residual branch. */
  dropPath?: number;
  /** Initial value of the per-channel layer scale `gamma`; 0 or less removes it. */
  layerScaleInitValue?: number;
  /** Depthwise kernel size (7 in ConvNeXt). */
  kernelSize?: number;
  /** Hidden width of the inverted bottleneck as a multiple of dim (4 in ConvNeXt). */
  mlpRatio?: number;
  /** Builds a replacement for the depthwise conv (e.g. a dynamic conv); registered as `dwconv`. */
  dwconv?: (dim: number, kernelSize: number) => FeatureLayer;
  /**
   * Builds an attention module (SE, CBAM) for the residual branch, applied after pwconv2 and before
   * layer scale so that gamma still sets the branch's initial size; registered as `attn`.
   */
  attention?: (dim: number) => FeatureLayer;
}

/**
 * The ConvNeXt block (official models/convnext.py, timm's ConvNeXtBlock): 7x7 depthwise conv → LayerNorm →
 * Linear(4C) → GELU → Linear(C) → layer scale → drop path → residual add. NHWC throughout, so no permutes
 * are needed around the Linears. Parameters under the official PyTorch names, so weights map one-to-one.
 */
export class Block extends Module {
  readonly dwconv: FeatureLayer;
  readonly norm: LayerNorm;
  readonly pwconv1: Linear;
  readonly pwconv2: Linear;
  readonly attn?: FeatureLayer;
  readonly gamma?: tf.Variable;
  readonly dropPathRate: number;
  /** The same block on the native fused kernels (src/nn/fast-block.ts), where they apply. */
  private readonly fast: FastBlock;

  constructor(readonly dim: number, opts: BlockOptions = {}) {
    super();
    const k = opts.kernelSize ?? 7;
    const hidden = Math.round((opts.mlpRatio ?? 4) * dim);
    const lsInit = opts.layerScaleInitValue ?? 1e-6;
    this.dwconv = this.registerModule('dwconv',
      opts.dwconv ? opts.dwconv(dim, k) : new Conv2d(dim, dim, { kernelSize: k, padding: k >> 1, groups: dim }));
    this.norm = this.registerModule('norm', new LayerNorm(dim));
    this.pwconv1 = this.registerModule('pwconv1', new Linear(dim, hidden));
    this.pwconv2 = this.registerModule('pwconv2', new Linear(hidden, dim));
    this.fast = this.registerCache(new FastBlock(this));
    if (opts.attention) this.attn = this.registerModule('attn', opts.attention(dim));
    if (lsInit > 0) this.gamma = this.registerParameter('gamma', tf.fill([dim], lsInit));
    this.dropPathRate = opts.dropPath ?? 0;
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    // The same numbers from fused native kernels where they apply (FastBlock.forward decides); else the reference.
    const fast = this.fast.forward(x);
    if (fast) return fast;
    return tf.tidy(() => {
      let h = this.dwconv.forward(x);
      h = this.norm.forward(h);
      h = this.pwconv1.forward(h);
      h = gelu(h);
      h = this.pwconv2.forward(h);
      if (this.attn) h = this.attn.forward(h);
      if (this.gamma) h = tf.mul(h, this.gamma);
      return tf.add(x, dropPath(h, this.dropPathRate, this.training));
    });
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    let s = counter.within('dwconv', () => this.dwconv.profile(input, counter));
    s = counter.within('pwconv1', () => this.pwconv1.profile(s, counter));
    s = counter.within('pwconv2', () => this.pwconv2.profile(s, counter));
    const attn = this.attn;
    return attn ? counter.within('attn', () => attn.profile(s, counter)) : s;
  }
}
