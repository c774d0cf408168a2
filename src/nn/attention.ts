/**
 * Multi-head self-attention with one fused qkv projection (timm's vision_transformer.Attention, and the
 * core of Swin's WindowAttention).
 *
 * Token sequences and FeatureShape: a Module's `profile` walks [H, W, C] shapes. A batch of token sequences
 * is described as [S, N, C]: S independent sequences (1 for ViT's single sequence, the number of windows for
 * Swin) of N tokens with C channels. Linear's MAC count (H·W·in·out) then reads S·N·in·out, as it should.
 */
import { tf } from '../backend';
import { Linear } from './linear';
import { FeatureShape, MacCounter, Module } from './module';

export interface AttentionInputs {
  /**
   * Additive bias on the attention logits shared by every sequence, [heads, N, N]: Swin's relative
   * position bias.
   */
  bias?: tf.Tensor;
  /**
   * Additive mask [M, N, N] (0 where attention is allowed, a large negative number where not): sequence b
   * uses mask[b mod M]. Swin's shifted-window mask, with the batch's windows laid out image by image.
   */
  mask?: tf.Tensor;
}

/**
 * softmax(q·kᵀ / √d + bias + mask)·v over `numHeads` heads of `dim / numHeads` channels, then `proj`.
 * Input and output [B, N, C]. Parameters `qkv` (C → 3C, columns ordered q, k, v, then head, then channel,
 * as timm's reshape(B, N, 3, heads, d)) and `proj` (C → C).
 *
 * MACs, the paper's convention: qkv and proj, plus the two attention products q·kᵀ and attn·v
 * (N·N·d per head each); no softmax, scaling, bias or mask.
 */
export class Attention extends Module {
  readonly qkv: Linear;
  readonly proj: Linear;
  readonly headDim: number;
  readonly scale: number;

  constructor(readonly dim: number, readonly numHeads: number) {
    super();
    if (dim % numHeads !== 0) throw new Error(`attention dim ${dim} is not divisible by ${numHeads} heads`);
    this.headDim = dim / numHeads;
    this.scale = this.headDim ** -0.5;
    this.qkv = this.registerModule('qkv', new Linear(dim, 3 * dim));
    this.proj = this.registerModule('proj', new Linear(dim, dim));
  }

  forward(x: tf.Tensor3D, inputs: AttentionInputs = {}): tf.Tensor3D {
    return tf.tidy(() => {
      const [b, n] = x.shape;
      const h = this.numHeads;
      const d = this.headDim;
      // [B, N, 3C] → [3, B, heads, N, d]
      const qkv = this.qkv.forward(x).reshape([b, n, 3, h, d]).transpose([2, 0, 3, 1, 4]);
      const [q, k, v] = tf.unstack(qkv) as tf.Tensor4D[];
      let attn: tf.Tensor = tf.matMul(tf.mul(q, this.scale) as tf.Tensor4D, k, false, true); // [B, heads, N, N]
      if (inputs.bias) attn = tf.add(attn, inputs.bias);
      if (inputs.mask) {
        const m = inputs.mask.shape[0];
        if (b % m !== 0) throw new Error(`attention mask for ${m} sequences does not divide a batch of ${b}`);
        attn = tf.add(attn.reshape([b / m, m, h, n, n]), inputs.mask.reshape([1, m, 1, n, n])).reshape([b, h, n, n]);
      }
      const out = tf.matMul(tf.softmax(attn) as tf.Tensor4D, v).transpose([0, 2, 1, 3]).reshape([b, n, this.dim]);
      return this.proj.forward(out as tf.Tensor3D);
    });
  }

  /** `input` is [S, N, C] (see the file's comment); the output has the same shape. */
  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    const [s, n] = input;
    counter.within('qkv', () => this.qkv.profile(input, counter));
    // q·kᵀ and attn·v: per sequence and head N·N·d each, so S·N·N·C for each product.
    counter.add(2 * s * n * n * this.dim);
    return counter.within('proj', () => this.proj.profile(input, counter));
  }
}
