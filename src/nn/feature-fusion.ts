/**
 * Multi-scale feature fusion (FF): the four stage maps of a ConvNeXt brought to one resolution and one
 * width, then fused by a learned weighted sum or by concatenation and a 1x1 projection.
 */
import { tf } from '../backend';
import { Linear } from './linear';
import { LayerNorm } from './norm';
import { FeatureShape, MacCounter, Module, Sequential } from './module';

export type FusionMode = 'sum' | 'concat';

export interface FeatureFusionOptions {
  /** 'sum': softmax-normalised learned weights; 'concat': channel concat → 1x1 projection. */
  mode?: FusionMode;
  /** Index of the stage whose resolution the fused map has (default: the last, the smallest). */
  targetStage?: number;
  /** Channels of the fused map (default: the target stage's width). */
  width?: number;
}

/**
 * Each stage map i goes LayerNorm (`norms.i`) → resample to the target stage → 1x1 projection
 * (`proj.i`, a Linear over channels) to `width`. Finer maps are average-pooled by 2^(t-i) BEFORE the
 * projection (pooling and an affine 1x1 map commute, and pooling first needs 4^(t-i) fewer MACs);
 * coarser maps are projected first and then upsampled by nearest-neighbour repetition. Then either
 * Σ softmax(`weights`)_i · p_i, or `fuse`(concat_i p_i). Stage widths may differ; stage i's map must
 * be 2^(t-i) times the target's size (ConvNeXt halves the resolution at every stage).
 */
export class FeatureFusion extends Module {
  readonly mode: FusionMode;
  readonly targetStage: number;
  readonly width: number;
  readonly norms: LayerNorm[];
  readonly proj: Linear[];
  readonly weights?: tf.Variable;
  readonly fuse?: Linear;

  constructor(readonly dims: number[], opts: FeatureFusionOptions = {}) {
    super();
    if (dims.length < 2) throw new Error(`FeatureFusion needs at least two stages, got ${dims.length}`);
    this.mode = opts.mode ?? 'sum';
    if (this.mode !== 'sum' && this.mode !== 'concat') {
      throw new Error(`FeatureFusion mode must be 'sum' or 'concat', got '${String(this.mode)}'`);
    }
    this.targetStage = opts.targetStage ?? dims.length - 1;
    if (!(Number.isInteger(this.targetStage) && this.targetStage >= 0 && this.targetStage < dims.length)) {
      throw new Error(`targetStage ${this.targetStage} is not a stage index 0..${dims.length - 1}`);
    }
    this.width = opts.width ?? dims[this.targetStage];
    // Registered through Sequential containers so the names read `norms.0`, `proj.0`, like a ModuleList.
    this.norms = dims.map((d) => new LayerNorm(d));
    this.proj = dims.map((d) => new Linear(d, this.width));
    this.registerModule('norms', new Sequential(this.norms));
    this.registerModule('proj', new Sequential(this.proj));
    if (this.mode === 'sum') {
      // Zero logits: the fusion starts as a plain average of the projected maps.
      this.weights = this.registerParameter('weights', tf.zeros([dims.length]));
    } else {
      this.fuse = this.registerModule('fuse', new Linear(dims.length * this.width, this.width));
    }
  }

  /** The fusion weights (softmax of `weights`), for the sum mode. */
  fusionWeights(): number[] | undefined {
    return this.weights ? Array.from(tf.tidy(() => tf.softmax(this.weights as tf.Tensor1D)).dataSync()) : undefined;
  }

  /** Fuses stage maps [N, H_i, W_i, C_i] into one [N, H_t, W_t, width] map. */
  forward(stages: tf.Tensor4D[]): tf.Tensor4D {
    if (stages.length !== this.dims.length) {
      throw new Error(`FeatureFusion expects ${this.dims.length} stage maps, got ${stages.length}`);
    }
    const t = this.targetStage;
    const [, ht, wt] = stages[t].shape;
    stages.forEach((s, i) => {
      const f = 2 ** (t - i);
      if (s.shape[3] !== this.dims[i] || s.shape[1] !== ht * f || s.shape[2] !== wt * f) {
        throw new Error(`stage ${i} map is [${s.shape.join(', ')}]; expected ${this.dims[i]} channels at ` +
          `${ht * f}x${wt * f} (${f}x the target stage ${t}'s ${ht}x${wt})`);
      }
    });
    return tf.tidy(() => {
      const maps = stages.map((s, i) => {
        const h = this.norms[i].forward(s);
        if (i < t) {
          const f = 2 ** (t - i);
          return this.proj[i].forward(tf.avgPool(h, f, f, 'valid'));
        }
        const p = this.proj[i].forward(h);
        return i > t ? upsampleNearest(p, 2 ** (i - t)) : p;
      });
      if (this.weights) {
        const w = tf.softmax(this.weights as tf.Tensor1D);
        return tf.addN(maps.map((m, i) => tf.mul(m, w.slice([i], [1])))) as tf.Tensor4D;
      }
      return (this.fuse as Linear).forward(tf.concat(maps, 3) as tf.Tensor4D);
    });
  }

  /**
   * MACs from the stage-0 map shape `input` (stage i has half the size of stage i - 1); returns the
   * fused map's shape.
   */
  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    const t = this.targetStage;
    const h = input[0] / 2 ** t;
    const w = input[1] / 2 ** t;
    this.proj.forEach((p, i) => {
      // Finer maps are projected after pooling, i.e. at the target resolution.
      const size: FeatureShape = i <= t ? [h, w, this.dims[i]] : [input[0] / 2 ** i, input[1] / 2 ** i, this.dims[i]];
      counter.within(`proj.${i}`, () => p.profile(size, counter));
    });
    const fuse = this.fuse;
    if (fuse) counter.within('fuse', () => fuse.profile([h, w, this.dims.length * this.width], counter));
    return [h, w, this.width];
  }
}

/**
 * Nearest-neighbour upsampling by an integer factor: output pixel i reads input pixel floor(i / f), as
 * F.interpolate(mode='nearest') (TF's resize without align-corners or half-pixel centres).
 */
export function upsampleNearest(x: tf.Tensor4D, factor: number): tf.Tensor4D {
  return tf.image.resizeNearestNeighbor(x, [x.shape[1] * factor, x.shape[2] * factor], false, false);
}
