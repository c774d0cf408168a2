/**
 * The ConvNeXt block on the native fused kernels (src/native): the same numbers as the reference
 * `Block.forward` in src/convnext/block.ts, in far fewer memory passes. Two paths, picked by
 * `FastBlock.forward`, the one dispatch:
 *   - fused training: one differentiable op with a hand-written backward pass;
 *   - inference: no backward, the Linears as packed-weight kernels on AVX-512 builds.
 * Functions of the block's parameters, under their PyTorch names (dwconv, norm, pwconv1, pwconv2, gamma).
 */
import { tf } from '../backend';
import { NativeOps, nativeOps } from '../native';
import { Conv2d } from './conv';
import { Linear } from './linear';
import { Module } from './module';
import { LayerNorm } from './norm';
import { PackedWeight } from './packed-weight';

/** What the fast paths read of a ConvNeXt block (src/convnext/block.ts's Block has these members). */
export interface BlockParts {
  readonly dwconv: Module;
  readonly norm: LayerNorm;
  readonly pwconv1: Linear;
  readonly pwconv2: Linear;
  readonly attn?: Module;
  readonly gamma?: tf.Variable;
  readonly dropPathRate: number;
  readonly training: boolean;
}

/** A block's fast paths and the packed Linear weights they keep; a module cache of its block. */
export class FastBlock {
  private readonly packed1: PackedWeight;
  private readonly packed2: PackedWeight;

  constructor(private readonly block: BlockParts) {
    this.packed1 = new PackedWeight(block.pwconv1.weight);
    this.packed2 = new PackedWeight(block.pwconv2.weight);
  }

  /**
   * The dispatch between the block's forward paths: the fused kernels' result, or undefined where the
   * caller must run the reference block.
   */
  forward(x: tf.Tensor4D): tf.Tensor4D | undefined {
    const ops = nativeOps();
    const { block } = this;
    const conv = block.dwconv;
    // The kernels fuse exactly the paper's block: a 'same'-padded depthwise Conv2d and no attention hook.
    // Without them (another backend, CONVNEXT_NATIVE=0, withoutNativeOps) or for any variant: the reference.
    if (!ops || block.attn || !(conv instanceof Conv2d && conv.depthwise && conv.samePadding)) return undefined;
    // Eval mode with no gradient being recorded (e.g. not a saliency map) needs no backward pass.
    const inference = !block.training && !tf.engine().isTapeOn();
    return tf.tidy(() => inference
      ? inferenceBlock(ops, block, conv, this.packed1, this.packed2, x)
      : fusedBlock(ops, block, conv, x));
  }

  dispose(): void {
    this.packed1.dispose();
    this.packed2.dispose();
  }
}

/**
 * The block as one differentiable op over fused kernels: depthwise conv + LayerNorm (the conv's bias
 * folded in) → matmul → bias + GELU → matmul → bias + layer scale + drop path + residual, and a hand-written
 * backward pass. Autodiff of the plain-op block records ~40 ops per block and runs ~15 full memory passes
 * for norm and activation alone; this runs 3 kernels forward and 4 backward, plus the matmuls.
 */
function fusedBlock(ops: NativeOps, block: BlockParts, conv: Conv2d, x: tf.Tensor4D): tf.Tensor4D {
  const [n, , , c] = x.shape;
  // Per-sample residual scale: stochastic depth's keep mask / keep probability, as dropPath draws it.
  const rate = block.training ? block.dropPathRate : 0;
  const s = rate > 0
    ? tf.div(tf.floor(tf.add(tf.randomUniform([n, 1, 1, 1]), 1 - rate)), 1 - rate).reshape([n]) as tf.Tensor1D
    : tf.ones([n]) as tf.Tensor1D;
  const gamma = block.gamma ?? tf.ones([c]);
  const dwBias = conv.bias ?? tf.zeros([c]);
  const eps = block.norm.eps;
  const f = tf.customGrad((...args: unknown[]) => {
    const [xi, k, bd, lw, lb, w1, b1, w2, b2, g, si] = args as tf.Tensor[];
    const save = args[11] as tf.GradSaveFunc;
    const [nf, mean, rstd, d] = ops.depthwiseNormTrain(xi as tf.Tensor4D, k, bd, lw, lb, eps);
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
        // dx: the residual's dy plus the conv's input gradient, summed in the kernel.
        const [dX, dK] = ops.depthwiseResidualBackward(dy, dD, xs as tf.Tensor4D, k);
        return [dX, dK, dBd, dLw, dLb, dW1, dB1, dW2, dB2, dG, tf.zerosLike(si)];
      },
    };
  }) as (...t: tf.Tensor[]) => tf.Tensor4D;
  const { norm, pwconv1, pwconv2 } = block;
  return f(x, conv.weight, dwBias, norm.weight, norm.bias, pwconv1.weight, pwconv1.bias, pwconv2.weight, pwconv2.bias,
    gamma, s);
}

/**
 * The fused forward for inference: depthwise conv + LayerNorm in one kernel, matmul + bias + GELU in one,
 * matmul + bias + layer scale + residual in one (on AVX-512, `ops.packedLinear`; else TensorFlow's MatMul
 * beside the bias-GELU and residual kernels). No saved tensors; drop path is off in eval.
 */
function inferenceBlock(
  ops: NativeOps, block: BlockParts, conv: Conv2d, packed1: PackedWeight, packed2: PackedWeight, x: tf.Tensor4D,
): tf.Tensor4D {
  const [n, , , c] = x.shape;
  const { norm, pwconv1, pwconv2 } = block;
  const gamma = block.gamma ?? tf.ones([c]);
  const normed = ops.depthwiseNorm(x, conv.weight, conv.bias ?? tf.zeros([c]), norm.weight, norm.bias, norm.eps);
  if (ops.packedLinear) {
    const h = ops.linearGelu(normed, packed1.get(), pwconv1.bias);
    return ops.linearScaleResidual(h, packed2.get(), pwconv2.bias, gamma, x) as tf.Tensor4D;
  }
  const h = ops.biasGelu(ops.matMul(normed, pwconv1.weight, false, false), pwconv1.bias);
  const o = ops.matMul(h, pwconv2.weight, false, false);
  return ops.scaleResidual(x, o, pwconv2.bias, gamma, tf.ones([n]) as tf.Tensor1D) as tf.Tensor4D;
}
