import { tf } from '../backend';

/**
 * A Linear weight [K, N] laid out as column panels [ceil(N / 32), K, 32] (zero-padded) for the native
 * inference kernels (CnxLinearGelu, CnxLinearScaleResidual): made on first use, and again after the
 * variable is assigned (tfjs gives an assigned variable new data). Why keep a copy: re-laying the weight out
 * on every call reads it with a stride, which at batch 1 cost more than the product itself.
 */
export class PackedWeight {
  private packed?: tf.Tensor3D;
  private source?: object;

  constructor(private readonly weight: tf.Variable) {}

  /** The panels of the weight's current value; owned here, so callers must not dispose them. */
  get(): tf.Tensor3D {
    if (this.packed && this.source === this.weight.dataId) return this.packed;
    this.dispose();
    const [k, n] = this.weight.shape;
    const panels = Math.ceil(n / 32);
    this.packed = tf.keep(tf.tidy(() => tf.pad(this.weight, [[0, 0], [0, panels * 32 - n]])
      .reshape([k, panels, 32]).transpose([1, 0, 2]) as tf.Tensor3D));
    this.source = this.weight.dataId;
    return this.packed;
  }

  dispose(): void {
    this.packed?.dispose();
    this.packed = undefined;
  }
}
