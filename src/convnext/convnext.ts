import { tf } from '../backend';
import { Block, BlockOptions } from './block';
import { Linear } from '../nn/linear';
import { Conv2d } from '../nn/conv';
import { LayerNorm } from '../nn/norm';
import { FeatureShape, MacCounter, Module, Sequential } from '../nn/module';
import { createStem, stemStride, type StemType } from './stem';

export interface ConvNeXtConfig {
  /** Blocks per stage, e.g. [3, 3, 9, 3] for ConvNeXt-T. */
  depths: number[];
  /** Channels per stage, e.g. [96, 192, 384, 768] for ConvNeXt-T. */
  dims: number[];
  inChans?: number;
  numClasses?: number;
  /** Stochastic depth rate of the last block; rates rise linearly from 0 over all blocks. */
  dropPathRate?: number;
  layerScaleInitValue?: number;
  /** Scales the head's initial weights and bias (the paper uses 0.001 when fine-tuning at 384). */
  headInitScale?: number;
  /** Patchify stem's kernel and stride (4 for ImageNet; 1 or 2 suits 32x32 inputs). */
  stemPatchSize?: number;
  /** The paper's patchify stem, or one of timm's overlapping stems (stem.ts). */
  stemType?: StemType;
  /** Depthwise kernel size of every block. */
  kernelSize?: number;
  /**
   * Per-block hooks (replacement depthwise conv, attention) by stage and block index; the plain
   * ConvNeXt has none. Used by the reproduction study's add-on modules (study.ts).
   */
  blockHooks?: (stage: number, block: number) => Pick<BlockOptions, 'dwconv' | 'attention'>;
}

/** Linearly rising stochastic depth rates over all blocks, as torch.linspace(0, rate, sum(depths)). */
export function dropPathRates(depths: number[], rate: number): number[] {
  const n = depths.reduce((a, b) => a + b, 0);
  return Array.from({ length: n }, (_, i) => (n > 1 ? (rate * i) / (n - 1) : 0));
}

/**
 * ConvNeXt (Liu et al., 2022), NHWC, with the official repository's parameter names:
 * `downsample_layers.{i}`, `stages.{i}.{j}`, `norm`, `head`.
 */
export class ConvNeXt extends Module {
  readonly config: Required<ConvNeXtConfig>;
  readonly downsampleLayers: Sequential[];
  readonly stages: Sequential[];
  readonly norm: LayerNorm;
  readonly head: Linear;

  constructor(config: ConvNeXtConfig) {
    super();
    if (config.depths.length !== config.dims.length) {
      throw new Error(`depths (${config.depths.length}) and dims (${config.dims.length}) must have the same length`);
    }
    const c: Required<ConvNeXtConfig> = {
      inChans: 3, numClasses: 1000, dropPathRate: 0, layerScaleInitValue: 1e-6, headInitScale: 1,
      stemPatchSize: 4, stemType: 'patch', kernelSize: 7, blockHooks: () => ({}), ...config,
    };
    this.config = c;
    const { dims, depths } = c;
    const stem = createStem(c.stemType, c.inChans, dims[0], c.stemPatchSize);
    const downsamples = dims.slice(1).map((d, i) => new Sequential([
      new LayerNorm(dims[i]),
      new Conv2d(dims[i], d, { kernelSize: 2, stride: 2 }),
    ]));
    this.downsampleLayers = this.registerSequentialList('downsample_layers', [stem, ...downsamples]);
    const rates = dropPathRates(depths, c.dropPathRate);
    let cur = 0;
    this.stages = this.registerSequentialList('stages', depths.map((depth, i) => {
      const blocks = Array.from({ length: depth }, (_, j) => new Block(dims[i], {
        dropPath: rates[cur + j], layerScaleInitValue: c.layerScaleInitValue, kernelSize: c.kernelSize,
        ...c.blockHooks(i, j),
      }));
      cur += depth;
      return new Sequential(blocks);
    }));
    this.norm = this.registerModule('norm', new LayerNorm(dims[dims.length - 1]));
    this.head = this.registerModule('head', new Linear(dims[dims.length - 1], c.numClasses));
    if (c.headInitScale !== 1) {
      this.head.weight.assign(tf.mul(this.head.weight, c.headInitScale));
      this.head.bias.assign(tf.mul(this.head.bias, c.headInitScale));
    }
  }

  private registerSequentialList(name: string, items: Sequential[]): Sequential[] {
    // Registered as one container so names read `stages.0.1...`, like torch.nn.ModuleList.
    this.registerModule(name, new Sequential(items));
    return items;
  }

  /** Downsampling factor of the stem (4 for ImageNet ConvNeXts). */
  get stemStride(): number {
    return stemStride(this.config.stemType, this.config.stemPatchSize);
  }

  /** Total downsampling factor from input to the last stage (32 for ImageNet ConvNeXts). */
  get totalStride(): number {
    return this.stemStride * 2 ** (this.config.dims.length - 1);
  }

  /** The four stage outputs (NHWC), for dense heads and feature fusion. */
  forwardStages(x: tf.Tensor4D): tf.Tensor4D[] {
    const stride = this.totalStride;
    if (x.shape[1] % stride !== 0 || x.shape[2] % stride !== 0) {
      throw new Error(`input ${x.shape[1]}x${x.shape[2]} is not divisible by this ConvNeXt's total stride ${stride}`);
    }
    if (x.shape[3] !== this.config.inChans) {
      throw new Error(`input has ${x.shape[3]} channels, model expects ${this.config.inChans} (NHWC input)`);
    }
    const outs: tf.Tensor4D[] = [];
    let h = x;
    for (let i = 0; i < this.stages.length; i++) {
      h = this.stages[i].forward(this.downsampleLayers[i].forward(h));
      outs.push(h);
    }
    return outs;
  }

  /** Global average pool → LayerNorm: the pooled, normalised features the head sees. */
  forwardFeatures(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const stages = this.forwardStages(x);
      return this.norm.forward(tf.mean(stages[stages.length - 1], [1, 2]) as tf.Tensor2D);
    });
  }

  /** Logits for an NHWC batch. */
  forward(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.head.forward(this.forwardFeatures(x)));
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    let s = input;
    for (let i = 0; i < this.stages.length; i++) {
      s = counter.within(`downsample_layers.${i}`, () => this.downsampleLayers[i].profile(s, counter));
      s = counter.within(`stages.${i}`, () => this.stages[i].profile(s, counter));
    }
    return counter.within('head', () => this.head.profile([1, 1, s[2]], counter));
  }
}
