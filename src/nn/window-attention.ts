/** Swin's window attention (timm's swin_transformer.WindowAttention): attention plus a relative position bias. */
import { tf } from '../backend';
import { Attention } from './attention';
import { truncNormal } from './init';
import { relativePositionIndex, type WindowSize } from './window';

/**
 * Multi-head self-attention inside wh x ww windows with a learned bias per head and relative offset:
 * `relative_position_bias_table` [(2wh-1)(2ww-1), heads] (timm's name and layout, trunc-normal 0.02), read
 * through the fixed relative position index (not a parameter, as timm's non-persistent buffer). Input
 * [B·nW, wh·ww, C]; `mask` the optional shifted-window mask [nW, N, N].
 */
export class WindowAttention extends Attention {
  readonly relativePositionBiasTable: tf.Variable;
  private readonly index: tf.Tensor1D;

  constructor(dim: number, numHeads: number, readonly windowSize: WindowSize) {
    super(dim, numHeads);
    const [wh, ww] = windowSize;
    this.relativePositionBiasTable = this.registerParameter('relative_position_bias_table',
      truncNormal([(2 * wh - 1) * (2 * ww - 1), numHeads]));
    this.index = this.registerCache(tf.tensor1d(relativePositionIndex(wh, ww), 'int32'));
  }

  /** The bias added to every window's attention logits: [heads, N, N]. */
  relativePositionBias(): tf.Tensor3D {
    return tf.tidy(() => {
      const n = this.windowSize[0] * this.windowSize[1];
      return tf.gather(this.relativePositionBiasTable, this.index).reshape([n, n, this.numHeads]).transpose([2, 0, 1]) as tf.Tensor3D;
    });
  }

  override forward(x: tf.Tensor3D, inputs: { mask?: tf.Tensor } = {}): tf.Tensor3D {
    return tf.tidy(() => super.forward(x, { mask: inputs.mask, bias: this.relativePositionBias() }));
  }
}
