import { tf } from '../backend';
import { NativeOps, nativeOps } from '../native';
import { Conv2d, LayerNorm, Linear, dropPath, gelu } from '../nn/layers';
import { FeatureShape, MacCounter, Module } from '../nn/module';
import { PackedWeight } from '../nn/packed-weight';

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
 * The ConvNeXt block: 7x7 depthwise conv → LayerNorm → Linear(4C) → GELU → Linear(C) → layer scale
 * → drop path → residual add. NHWC throughout, so no permutes are needed around the Linears.
 */
export class Block extends Module {
  readonly dwconv: FeatureLayer;
  readonly norm: LayerNorm;
  readonly pwconv1: Linear;
  readonly pwconv2: Linear;
  readonly attn?: FeatureLayer;
  readonly gamma?: tf.Variable;
  readonly dropPathRate: number;
  private readonly packed1: PackedWeight;
  private readonly packed2: PackedWeight;

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
    this.packed1 = this.registerCache(new PackedWeight(this.pwconv1.weight));
    this.packed2 = this.registerCache(new PackedWeight(this.pwconv2.weight));
    if (opts.attention) this.attn = this.registerModule('attn', opts.attention(dim));
    if (lsInit > 0) this.gamma = this.registerParameter('gamma', tf.fill([dim], lsInit));
    this.dropPathRate = opts.dropPath ?? 0;
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    const ops = nativeOps();
    const conv = this.dwconv;
    if (ops && !this.attn && conv instanceof Conv2d && conv.depthwise && conv.samePadding) {
      // Eval mode with no gradient being recorded (e.g. not a saliency map) needs no backward pass.
      const inference = !this.training && !tf.engine().isTapeOn();
      return tf.tidy(() => inference ? this.inferenceForward(ops, conv, x) : this.fusedForward(ops, conv, x));
    }
    return tf.tidy(() => {
      let h = this.dwconv.forward(x);
      h = this.norm.forward(h);
      h = this.pwconv2.forward(gelu(this.pwconv1.forward(h)));
      if (this.attn) h = this.attn.forward(h);
      if (this.gamma) h = tf.mul(h, this.gamma);
      return tf.add(x, dropPath(h, this.dropPathRate, this.training));
    });
  }

  /**
   * The same block as one differentiable op over fused kernels: depthwise conv (TensorFlow) →
   * LayerNorm with the conv's bias folded in → matmul → bias + GELU → matmul → bias + layer scale +
   * drop path + residual, and a hand-written backward pass. Autodiff of the plain-op block records ~40
   * ops per block and runs ~15 full memory passes for norm and activation alone; this runs 3 forward
   * and 3 backward, plus the matmuls and the conv.
   */
  private fusedForward(ops: NativeOps, conv: Conv2d, x: tf.Tensor4D): tf.Tensor4D {
    const [n, , , c] = x.shape;
    // Per-sample residual scale: stochastic depth's keep mask / keep probability, as dropPath draws it.
    const rate = this.training ? this.dropPathRate : 0;
    const s = rate > 0
      ? tf.div(tf.floor(tf.add(tf.randomUniform([n, 1, 1, 1]), 1 - rate)), 1 - rate).reshape([n]) as tf.Tensor1D
      : tf.ones([n]) as tf.Tensor1D;
    const gamma = this.gamma ?? tf.ones([c]);
    const dwBias = conv.bias ?? tf.zeros([c]);
    const eps = this.norm.eps;
    const f = tf.customGrad((...args: unknown[]) => {
      const [xi, k, bd, lw, lb, w1, b1, w2, b2, g, si] = args as tf.Tensor[];
      const save = args[11] as tf.GradSaveFunc;
      const d = ops.depthwiseConv(xi as tf.Tensor4D, k as tf.Tensor4D);
      const [nf, mean, rstd] = ops.layerNorm(d, lw, lb, bd, eps);
      const a = ops.matMul(nf, w1, false, false);
      const h = ops.biasGelu(a, b1);
      const o = ops.matMul(h, w2, false, false);
      // Everything the backward pass reads, inputs included: those made in this tidy (s, a missing
      // gamma or bias) are disposed by the time backprop runs.
      save([xi, d, mean, rstd, nf, a, h, o, k, bd, lw, w1, b1, w2, b2, g, si]);
      return {
        value: ops.scaleResidual(xi, o, b2, g, si as tf.Tensor1D),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xs, ds, ms, rs, ns, as, hs, os, k, bd, lw, w1, b1, w2, b2, g, si] = saved;
          const [dO, dB2, dG] = ops.scaleResidualGrad(dy, os, b2, g, si as tf.Tensor1D);
          const dW2 = ops.matMul(hs, dO, true, false);
          const dH = ops.matMul(dO, w2, false, true);
          const [dA, dB1] = ops.biasGeluGrad(dH, as, b1);
          const dW1 = ops.matMul(ns, dA, true, false);
          const dN = ops.matMul(dA, w1, false, true);
          const [dD, dLw, dLb, dBd] = ops.layerNormGrad(dN, ds, lw, bd, ms as tf.Tensor1D, rs as tf.Tensor1D);
          const convAttrs = { strides: 1, pad: 'same', dilations: 1 };
          const dXc = tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: dD, filter: k },
            { ...convAttrs, inputShape: xs.shape } as unknown as tf.NamedAttrMap) as tf.Tensor;
          const dK = ops.depthwiseFilterGrad(xs as tf.Tensor4D, dD as tf.Tensor4D, k.shape[0]);
          return [tf.add(dy, dXc), dK, dBd, dLw, dLb, dW1, dB1, dW2, dB2, dG, tf.zerosLike(si)];
        },
      };
    }) as (...t: tf.Tensor[]) => tf.Tensor4D;
    return f(x, conv.weight, dwBias, this.norm.weight, this.norm.bias, this.pwconv1.weight, this.pwconv1.bias,
      this.pwconv2.weight, this.pwconv2.bias, gamma, s);
  }

  /**
   * The fused forward for inference: depthwise conv + LayerNorm in one kernel, matmul + bias + GELU in
   * one, matmul + bias + layer scale + residual in one (on AVX-512; else TensorFlow's MatMul beside the
   * bias-GELU and residual kernels). No saved tensors; drop path is off in eval.
   */
  private inferenceForward(ops: NativeOps, conv: Conv2d, x: tf.Tensor4D): tf.Tensor4D {
    const [n, , , c] = x.shape;
    const gamma = this.gamma ?? tf.ones([c]);
    const normed = ops.depthwiseNorm(x, conv.weight, conv.bias ?? tf.zeros([c]), this.norm.weight, this.norm.bias, this.norm.eps);
    if (ops.packedLinear) {
      const h = ops.linearGelu(normed, this.packed1.get(), this.pwconv1.bias);
      return ops.linearScaleResidual(h, this.packed2.get(), this.pwconv2.bias, gamma, x) as tf.Tensor4D;
    }
    const h = ops.biasGelu(ops.matMul(normed, this.pwconv1.weight, false, false), this.pwconv1.bias);
    const o = ops.matMul(h, this.pwconv2.weight, false, false);
    return ops.scaleResidual(x, o, this.pwconv2.bias, gamma, tf.ones([n]) as tf.Tensor1D) as tf.Tensor4D;
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    let s = counter.within('dwconv', () => this.dwconv.profile(input, counter));
    s = counter.within('pwconv1', () => this.pwconv1.profile(s, counter));
    s = counter.within('pwconv2', () => this.pwconv2.profile(s, counter));
    const attn = this.attn;
    return attn ? counter.within('attn', () => attn.profile(s, counter)) : s;
  }
}
