/**
 * Vision Transformer (Dosovitskiy et al., ICLR 2021) as timm's vision_transformer.VisionTransformer with
 * its defaults (class-token pooling, pre-norm blocks, qkv bias, no layer scale), NHWC in, logits out.
 * Parameter names are timm's, so a timm state dict loads one-to-one and ours load strictly into timm:
 * `cls_token`, `pos_embed`, `patch_embed.proj`, `blocks.{i}.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}`,
 * `norm`, `head`. LayerNorm eps is 1e-6 (timm's ViT).
 *
 * Input size: any height and width divisible by the patch size. The position embedding is learned for
 * the grid of `imgSize`; at another grid it is resized on the fly (bicubic, antialiased, differentiable) as
 * timm does with `dynamic_img_size=True`. `resampleVitPosEmbed` does the same once, for loading weights
 * into a model built at another size (timm's checkpoint_filter_fn).
 *
 * Token shapes in `profile`: [1, N, C] (one sequence of N tokens; see nn/attention.ts).
 */
import { tf } from '../backend';
import {
  Attention, dropPath, FeatureShape, LayerNorm, LayerScale, Linear, MacCounter, Mlp, Module, ModuleList, PatchEmbed,
  resampleAbsPosEmbed, truncNormal,
} from '../nn';
import { dropPathRates } from './convnext';
import type { Classifier } from './model';
import { definedOnly, type TransformerConfigBase } from './transformer-config';
import type { HostTensor, StateDict } from './weights';

export interface VisionTransformerConfig extends TransformerConfigBase {
  depth: number;
  numHeads: number;
  /** timm's `init_values`: LayerScale (`ls1`, `ls2`) with this initial value; 0 or unset: none (timm's default). */
  layerScaleInitValue?: number;
}

const VIT_EPS = 1e-6;

/** timm's vision_transformer.Block: x + attn(norm1(x)), then x + mlp(norm2(x)), on [B, N, C]. */
export class VitBlock extends Module {
  readonly norm1: LayerNorm;
  readonly attn: Attention;
  readonly ls1?: LayerScale;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;
  readonly ls2?: LayerScale;

  constructor(readonly dim: number, numHeads: number, mlpRatio: number, readonly dropPathRate = 0, layerScale = 0) {
    super();
    this.norm1 = this.registerModule('norm1', new LayerNorm(dim, VIT_EPS));
    this.attn = this.registerModule('attn', new Attention(dim, numHeads));
    if (layerScale > 0) this.ls1 = this.registerModule('ls1', new LayerScale(dim, layerScale));
    this.norm2 = this.registerModule('norm2', new LayerNorm(dim, VIT_EPS));
    this.mlp = this.registerModule('mlp', new Mlp(dim, Math.floor(dim * mlpRatio)));
    if (layerScale > 0) this.ls2 = this.registerModule('ls2', new LayerScale(dim, layerScale));
  }

  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      let a = this.attn.forward(this.norm1.forward(x));
      if (this.ls1) a = this.ls1.forward(a);
      const h = tf.add(x, dropPath(a, this.dropPathRate, this.training));
      let m = this.mlp.forward(this.norm2.forward(h));
      if (this.ls2) m = this.ls2.forward(m);
      return tf.add(h, dropPath(m, this.dropPathRate, this.training));
    });
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    counter.within('attn', () => this.attn.profile(input, counter));
    return counter.within('mlp', () => this.mlp.profile(input, counter));
  }
}

export class VisionTransformer extends Module implements Classifier {
  readonly config: Required<VisionTransformerConfig>;
  readonly patchEmbed: PatchEmbed;
  readonly clsToken: tf.Variable;
  readonly posEmbed: tf.Variable;
  readonly blocks: ModuleList<VitBlock>;
  readonly norm: LayerNorm;
  readonly head: Linear;
  /** The patch grid the position embedding is learned for. */
  readonly gridSize: [number, number];

  constructor(config: VisionTransformerConfig) {
    super();
    const c: Required<VisionTransformerConfig> = {
      imgSize: 224, patchSize: 16, inChans: 3, numClasses: 1000, mlpRatio: 4, dropPathRate: 0,
      layerScaleInitValue: 0, headInitScale: 1, ...definedOnly(config),
    };
    this.config = c;
    if (c.imgSize % c.patchSize !== 0) throw new Error(`imgSize ${c.imgSize} is not divisible by the patch size ${c.patchSize}`);
    const g = c.imgSize / c.patchSize;
    this.gridSize = [g, g];
    // timm: cls_token ~ N(0, 1e-6), pos_embed ~ trunc_normal(0.02).
    this.clsToken = this.registerParameter('cls_token', tf.tidy(() => tf.mul(truncNormal([1, 1, c.embedDim], 1), 1e-6)));
    this.posEmbed = this.registerParameter('pos_embed', truncNormal([1, g * g + 1, c.embedDim]));
    this.patchEmbed = this.registerModule('patch_embed', new PatchEmbed(c.patchSize, c.inChans, c.embedDim));
    const rates = dropPathRates([c.depth], c.dropPathRate);
    this.blocks = this.registerModule('blocks', new ModuleList(Array.from({ length: c.depth }, (_, i) =>
      new VitBlock(c.embedDim, c.numHeads, c.mlpRatio, rates[i], c.layerScaleInitValue))));
    this.norm = this.registerModule('norm', new LayerNorm(c.embedDim, VIT_EPS));
    this.head = this.registerModule('head', new Linear(c.embedDim, c.numClasses));
    if (c.headInitScale !== 1) {
      this.head.weight.assign(tf.mul(this.head.weight, c.headInitScale));
      this.head.bias.assign(tf.mul(this.head.bias, c.headInitScale));
    }
  }

  /** The input must be a multiple of this (the patch size). */
  get totalStride(): number {
    return this.config.patchSize;
  }

  /** The position embedding for a gh x gw grid: the learned one, or it resampled (timm's dynamic_img_size). */
  positionEmbedding(gh: number, gw: number): tf.Tensor3D {
    return resampleAbsPosEmbed(this.posEmbed, [gh, gw], this.gridSize, 1);
  }

  /** Patch tokens with the class token in front, position embedding added, through every block: [B, 1 + N, C]. */
  forwardTokens(x: tf.Tensor4D): tf.Tensor3D {
    if (x.shape[3] !== this.config.inChans) {
      throw new Error(`input has ${x.shape[3]} channels, model expects ${this.config.inChans} (NHWC input)`);
    }
    const p = this.config.patchSize;
    if (x.shape[1] % p !== 0 || x.shape[2] % p !== 0) {
      throw new Error(`input ${x.shape[1]}x${x.shape[2]} is not divisible by this ViT's patch size ${p}`);
    }
    return tf.tidy(() => {
      const b = x.shape[0];
      const d = this.config.embedDim;
      const patches = this.patchEmbed.forward(x);
      const [, gh, gw] = patches.shape;
      const cls = tf.tile(this.clsToken, [b, 1, 1]);
      let t = tf.add(tf.concat([cls, patches.reshape([b, gh * gw, d])], 1), this.positionEmbedding(gh, gw)) as tf.Tensor3D;
      for (const blk of this.blocks.items) t = blk.forward(t);
      return t;
    });
  }

  /** Every token after the final norm (timm's forward_features): [B, 1 + N, C]. */
  forwardFeatures(x: tf.Tensor4D): tf.Tensor3D {
    return tf.tidy(() => this.norm.forward(this.forwardTokens(x)));
  }

  /** Logits: the class token, normalised, through the head (the norm is per token, so only it is normalised). */
  forward(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const t = this.forwardTokens(x);
      const cls = t.slice([0, 0, 0], [t.shape[0], 1, t.shape[2]]).reshape([t.shape[0], t.shape[2]]) as tf.Tensor2D;
      return this.head.forward(this.norm.forward(cls));
    });
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    const [gh, gw, d] = counter.within('patch_embed', () => this.patchEmbed.profile(input, counter));
    const tokens = counter.within('blocks', () => this.blocks.profile([1, gh * gw + 1, d], counter));
    return counter.within('head', () => this.head.profile([1, 1, tokens[2]], counter));
  }
}

/**
 * A checkpoint's `pos_embed` resized to `model`'s grid (timm's checkpoint_filter_fn with
 * resample_abs_pos_embed), for loading weights trained at another resolution; the other entries pass
 * through. The old grid is taken as square, as timm does when it is not given.
 */
export function resampleVitPosEmbed(sd: StateDict, model: VisionTransformer): StateDict {
  const pe = sd.get('pos_embed');
  if (!pe) return sd;
  const want = model.posEmbed.shape;
  if (pe.shape.length === 3 && pe.shape[1] === want[1]) return sd;
  const old = Math.round(Math.sqrt(pe.shape[1] - 1));
  if (old * old !== pe.shape[1] - 1) throw new Error(`pos_embed with ${pe.shape[1]} tokens is not a class token and a square grid`);
  const resized = tf.tidy(() => resampleAbsPosEmbed(tf.tensor3d(pe.data, pe.shape as [number, number, number]),
    model.gridSize, [old, old], 1));
  const out: HostTensor = { shape: [...resized.shape], data: resized.dataSync() as Float32Array };
  resized.dispose();
  return new Map([...sd].map(([k, v]) => [k, k === 'pos_embed' ? out : v]));
}
