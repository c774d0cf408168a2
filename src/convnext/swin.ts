/**
 * Swin Transformer (Liu et al., ICCV 2021) as timm's swin_transformer.SwinTransformer (timm 1.0), NHWC
 * throughout, with timm's parameter names: `patch_embed.{proj,norm}`, `layers.{i}.downsample.{norm,reduction}`
 * (stages 1…, timm's layout: the patch merging opens the stage), `layers.{i}.blocks.{j}.{norm1,
 * attn.{qkv,proj,relative_position_bias_table},norm2,mlp.fc1,mlp.fc2}`, `norm`, `head.fc`. LayerNorm eps is
 * 1e-5 (torch's default, which timm's Swin keeps).
 *
 * Window sizes and padding follow timm's current code:
 * - Each block's window and shift are fixed when the model is built, from the stage's resolution at
 *   `imgSize` (patch grid // 2^stage): a stage whose map is not larger than the window gets a window the
 *   size of the map and no shift (timm's `_calc_window_shift`; so Swin-T's last stage, 7x7, never shifts).
 *   The relative position bias table's size follows that window.
 * - At run time a map that is not a multiple of the window is zero-padded at the bottom and right after
 *   the cyclic shift, attention runs on the padded windows (the padding takes part as keys, as in timm, and is
 *   masked only where the shifted-window mask says so), and the result is cropped before the reverse shift.
 * - The shifted-window mask is built for the padded size met at run time (timm's `dynamic_mask`, which
 *   `strict_img_size=False` turns on; at `imgSize` it equals the precomputed mask of the strict model).
 * - Patch merging zero-pads an odd height or width.
 * So any input whose sides are multiples of the patch size runs, as timm's with strict_img_size=False.
 */
import { tf } from '../backend';
import {
  ClassifierHead, cyclicShift, dropPath, FeatureShape, LayerNorm, MacCounter, Mlp, Module, ModuleList, PatchEmbed,
  PatchMerging, shiftedWindowMask, WindowAttention, windowPartition, windowReverse, type WindowSize,
} from '../nn';
import { dropPathRates } from './convnext';
import type { Classifier } from './model';
import { definedOnly, type TransformerConfigBase } from './transformer-config';

export interface SwinTransformerConfig extends TransformerConfigBase {
  depths: number[];
  numHeads: number[];
  /** Attention window (7). */
  windowSize?: number;
}

const SWIN_EPS = 1e-5;

/** timm's SwinTransformerBlock._calc_window_shift for one axis. */
function windowAndShift(resolution: number, window: number, shift: number): [number, number] {
  return resolution <= window ? [resolution, 0] : [window, shift];
}

/**
 * (Shifted) window attention then MLP, each pre-norm and residual, on [B, H, W, C]. `shiftSize` (0 for
 * even blocks, window // 2 for odd ones, unless the window covers the whole map) rolls the map by
 * -shift before partitioning and back after.
 */
export class SwinTransformerBlock extends Module {
  readonly norm1: LayerNorm;
  readonly attn: WindowAttention;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;
  readonly windowSize: WindowSize;
  readonly shiftSize: [number, number];
  private readonly masks = new Map<string, tf.Tensor3D>();

  constructor(
    readonly dim: number, numHeads: number, resolution: [number, number], window: number, shift: number,
    mlpRatio = 4, readonly dropPathRate = 0,
  ) {
    super();
    const [wh, sh] = windowAndShift(resolution[0], window, shift);
    const [ww, sw] = windowAndShift(resolution[1], window, shift);
    this.windowSize = [wh, ww];
    this.shiftSize = [sh, sw];
    this.norm1 = this.registerModule('norm1', new LayerNorm(dim, SWIN_EPS));
    this.attn = this.registerModule('attn', new WindowAttention(dim, numHeads, this.windowSize));
    this.norm2 = this.registerModule('norm2', new LayerNorm(dim, SWIN_EPS));
    this.mlp = this.registerModule('mlp', new Mlp(dim, Math.floor(dim * mlpRatio)));
    this.registerCache({ dispose: () => { for (const m of this.masks.values()) m.dispose(); this.masks.clear(); } });
  }

  get shifted(): boolean {
    return this.shiftSize[0] > 0 || this.shiftSize[1] > 0;
  }

  /** The map's size padded up to whole windows. */
  paddedSize(h: number, w: number): [number, number] {
    const [wh, ww] = this.windowSize;
    return [Math.ceil(h / wh) * wh, Math.ceil(w / ww) * ww];
  }

  /** The shifted-window mask [nW, N, N] for a padded map, kept for the model's lifetime (one per size met). */
  private mask(hp: number, wp: number): tf.Tensor3D {
    const key = `${hp}x${wp}`;
    let m = this.masks.get(key);
    if (!m) {
      const n = this.windowSize[0] * this.windowSize[1];
      const nw = (hp / this.windowSize[0]) * (wp / this.windowSize[1]);
      m = tf.keep(tf.tensor3d(shiftedWindowMask(hp, wp, this.windowSize, this.shiftSize), [nw, n, n]));
      this.masks.set(key, m);
    }
    return m;
  }

  /** The attention branch: shift, pad, partition, attend, merge, crop, shift back. */
  private windowAttention(x: tf.Tensor4D): tf.Tensor4D {
    const [b, h, w, c] = x.shape;
    const [sh, sw] = this.shiftSize;
    const [hp, wp] = this.paddedSize(h, w);
    const [wh, ww] = this.windowSize;
    let s = this.shifted ? cyclicShift(x, -sh, -sw) : x;
    if (hp !== h || wp !== w) s = tf.pad(s, [[0, 0], [0, hp - h], [0, wp - w], [0, 0]]);
    const windows = windowPartition(s, this.windowSize).reshape([-1, wh * ww, c]) as tf.Tensor3D;
    const attended = this.attn.forward(windows, { mask: this.shifted ? this.mask(hp, wp) : undefined });
    let y = windowReverse(attended.reshape([-1, wh, ww, c]), this.windowSize, hp, wp);
    if (hp !== h || wp !== w) y = y.slice([0, 0, 0, 0], [b, h, w, c]);
    return this.shifted ? cyclicShift(y, sh, sw) : y;
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const h = tf.add(x, dropPath(this.windowAttention(this.norm1.forward(x)), this.dropPathRate, this.training));
      return tf.add(h, dropPath(this.mlp.forward(this.norm2.forward(h)), this.dropPathRate, this.training));
    });
  }

  /** Attention on the padded windows ([nW, N, C]; see nn/attention.ts), the MLP on the map itself. */
  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    const [hp, wp] = this.paddedSize(input[0], input[1]);
    const [wh, ww] = this.windowSize;
    counter.within('attn', () => this.attn.profile([(hp / wh) * (wp / ww), wh * ww, input[2]], counter));
    return counter.within('mlp', () => this.mlp.profile(input, counter));
  }
}

/** One stage: the patch merging that opens it (stages after the first), then its blocks. */
export class SwinTransformerStage extends Module {
  readonly downsample?: PatchMerging;
  readonly blocks: ModuleList<SwinTransformerBlock>;

  constructor(downsample: PatchMerging | undefined, blocks: SwinTransformerBlock[]) {
    super();
    if (downsample) this.downsample = this.registerModule('downsample', downsample);
    this.blocks = this.registerModule('blocks', new ModuleList(blocks));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let h = this.downsample ? this.downsample.forward(x) : x;
      for (const blk of this.blocks.items) h = blk.forward(h);
      return h;
    });
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    const ds = this.downsample;
    const s = ds ? counter.within('downsample', () => ds.profile(input, counter)) : input;
    return counter.within('blocks', () => this.blocks.profile(s, counter));
  }
}

export class SwinTransformer extends Module implements Classifier {
  readonly config: Required<SwinTransformerConfig>;
  readonly patchEmbed: PatchEmbed;
  readonly layers: ModuleList<SwinTransformerStage>;
  readonly norm: LayerNorm;
  readonly head: ClassifierHead;

  constructor(config: SwinTransformerConfig) {
    super();
    const c: Required<SwinTransformerConfig> = {
      imgSize: 224, patchSize: 4, inChans: 3, numClasses: 1000, windowSize: 7, mlpRatio: 4, dropPathRate: 0,
      headInitScale: 1, ...definedOnly(config),
    };
    if (c.depths.length !== c.numHeads.length) {
      throw new Error(`depths (${c.depths.length}) and numHeads (${c.numHeads.length}) must have the same length`);
    }
    this.config = c;
    const dims = c.depths.map((_, i) => c.embedDim * 2 ** i);
    const grid = Math.floor(c.imgSize / c.patchSize);
    if (Math.floor(grid / 2 ** (dims.length - 1)) < 1) {
      throw new Error(`imgSize ${c.imgSize} is too small for ${dims.length} stages of patch size ${c.patchSize}`);
    }
    this.patchEmbed = this.registerModule('patch_embed', new PatchEmbed(c.patchSize, c.inChans, c.embedDim, { eps: SWIN_EPS }));
    const rates = dropPathRates(c.depths, c.dropPathRate);
    let cur = 0;
    this.layers = this.registerModule('layers', new ModuleList(c.depths.map((depth, i) => {
      const res = Math.floor(grid / 2 ** i);
      const blocks = Array.from({ length: depth }, (_, j) => new SwinTransformerBlock(
        dims[i], c.numHeads[i], [res, res], c.windowSize, j % 2 === 0 ? 0 : Math.floor(c.windowSize / 2),
        c.mlpRatio, rates[cur + j]));
      cur += depth;
      return new SwinTransformerStage(i > 0 ? new PatchMerging(dims[i - 1], dims[i], SWIN_EPS) : undefined, blocks);
    })));
    this.norm = this.registerModule('norm', new LayerNorm(dims[dims.length - 1], SWIN_EPS));
    this.head = this.registerModule('head', new ClassifierHead(dims[dims.length - 1], c.numClasses));
    if (c.headInitScale !== 1) {
      this.head.fc.weight.assign(tf.mul(this.head.fc.weight, c.headInitScale));
      this.head.fc.bias.assign(tf.mul(this.head.fc.bias, c.headInitScale));
    }
  }

  /** The input must be a multiple of this (the patch size: windows and merging pad what else is needed). */
  get totalStride(): number {
    return this.config.patchSize;
  }

  /** Each stage's output, NHWC. */
  forwardStages(x: tf.Tensor4D): tf.Tensor4D[] {
    if (x.shape[3] !== this.config.inChans) {
      throw new Error(`input has ${x.shape[3]} channels, model expects ${this.config.inChans} (NHWC input)`);
    }
    const p = this.config.patchSize;
    if (x.shape[1] % p !== 0 || x.shape[2] % p !== 0) {
      throw new Error(`input ${x.shape[1]}x${x.shape[2]} is not divisible by this Swin's patch size ${p}`);
    }
    const outs: tf.Tensor4D[] = [];
    let h = this.patchEmbed.forward(x);
    for (const stage of this.layers.items) {
      h = stage.forward(h);
      outs.push(h);
    }
    return outs;
  }

  /** The last stage after the final norm (timm's forward_features): [B, H/32, W/32, C]. */
  forwardFeatures(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const stages = this.forwardStages(x);
      return this.norm.forward(stages[stages.length - 1]);
    });
  }

  /** Logits: final norm per token, global average pool, head. */
  forward(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.head.forward(this.forwardFeatures(x)));
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    const s = counter.within('patch_embed', () => this.patchEmbed.profile(input, counter));
    const out = counter.within('layers', () => this.layers.profile(s, counter));
    return counter.within('head', () => this.head.profile(out, counter));
  }
}
