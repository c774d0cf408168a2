/**
 * The "modernized ResNet" of the paper's roadmap (Sec. 2, Fig. 2): one builder whose config moves a
 * torchvision ResNet-50, one option at a time, to ConvNeXt-T.
 */
import { tf } from '../../backend';
import { ConvNeXt, dropPathRates } from '../convnext';
import { Conv2d } from '../../nn/conv';
import { Linear } from '../../nn/linear';
import { FeatureShape, MacCounter, Module, Sequential } from '../../nn/module';
import { MaxPool2d } from '../../nn/max-pool';
import { ResidualBlock, ResidualBlockOptions, activate, makeNorm } from './residual-block';

/** The block options every block of the network shares (documented on ResidualBlockOptions). */
type SharedBlockOptions = Pick<ResidualBlockOptions,
  'layout' | 'kernelSize' | 'depthwise' | 'act' | 'activations' | 'norms' | 'norm'>;

export interface ModernResNetConfig extends SharedBlockOptions {
  /** Blocks per stage: 3,4,6,3 for ResNet-50, 3,3,9,3 for Swin-T's 1:1:3:1 ratio. */
  depths: number[];
  /** Output channels of each stage's blocks: 256..2048 for ResNet-50, 96..768 for ConvNeXt-T. */
  dims: number[];
  /** A block's inner width as a multiple of its output channels: 1/4 bottleneck, 4 inverted. */
  hiddenRatio: number;
  /**
   * resnet: 7x7 conv (stride `stemStride`) → norm → act → 3x3/2 max pool;
   * patchify: `stemStride`x`stemStride` conv with equal stride → norm, like ViT's patch embedding.
   */
  stem: 'resnet' | 'patchify';
  stemChannels: number;
  /** 2 for the ResNet stem's conv and 4 for the patchify stem at 224; halved for 32x32 inputs. */
  stemStride: number;
  /**
   * in-block: the first block of stages 2-4 strides its spatial conv and projects its shortcut (ResNet);
   * separate: a norm + 2x2/2 conv between stages, as in Swin and ConvNeXt (the last step).
   */
  downsampling: 'in-block' | 'separate';
  /** Per-channel scale of every residual branch at init (part of the paper's recipe); 0 disables. */
  layerScaleInitValue: number;
  dropPathRate?: number;
  /** Scales the classifier's initial weights and bias, as ConvNeXt's head_init_scale. */
  headInitScale?: number;
  numClasses?: number;
  inChans?: number;
}

/**
 * A ResNet whose blocks, stem and norms are set by the config. Names follow torchvision
 * (`conv1`, `bn1`, `layer{1..4}.{j}.*`, `fc`), so the ResNet-50 config is torchvision's resnet50.
 */
export class ModernResNet extends Module {
  readonly config: ModernResNetConfig;
  readonly conv1: Conv2d;
  readonly bn1: Module & { forward(x: tf.Tensor4D): tf.Tensor4D };
  readonly maxpool?: MaxPool2d;
  readonly layers: Sequential[];
  readonly fc: Linear;

  constructor(config: ModernResNetConfig) {
    super();
    const c = config;
    if (c.downsampling !== 'in-block') {
      throw new Error('ModernResNet builds in-block downsampling; use buildModernResNet for separate downsampling layers');
    }
    if (c.depths.length !== c.dims.length) {
      throw new Error(`depths (${c.depths.length}) and dims (${c.dims.length}) must have the same length`);
    }
    this.config = c;
    const inChans = c.inChans ?? 3;
    this.conv1 = this.registerModule('conv1', c.stem === 'resnet'
      ? new Conv2d(inChans, c.stemChannels, { kernelSize: 7, stride: c.stemStride, padding: 3, bias: false })
      : new Conv2d(inChans, c.stemChannels, { kernelSize: c.stemStride, stride: c.stemStride, bias: false }));
    this.bn1 = this.registerModule('bn1', makeNorm(c.norm, c.stemChannels));
    if (c.stem === 'resnet') this.maxpool = this.registerModule('maxpool', new MaxPool2d(3, 2, 1));
    const rates = dropPathRates(c.depths, c.dropPathRate ?? 0);
    let inC = c.stemChannels;
    let k = 0;
    this.layers = c.depths.map((depth, i) => {
      const blocks = Array.from({ length: depth }, (_, j) => {
        const block = new ResidualBlock({
          layout: c.layout, inChannels: j === 0 ? inC : c.dims[i], outChannels: c.dims[i],
          hidden: Math.round(c.dims[i] * c.hiddenRatio), stride: i > 0 && j === 0 ? 2 : 1,
          kernelSize: c.kernelSize, depthwise: c.depthwise, act: c.act, activations: c.activations,
          norms: c.norms, norm: c.norm, layerScaleInitValue: c.layerScaleInitValue, dropPath: rates[k++],
        });
        return block;
      });
      inC = c.dims[i];
      return this.registerModule(`layer${i + 1}`, new Sequential(blocks));
    });
    this.fc = this.registerModule('fc', new Linear(inC, c.numClasses ?? 1000));
    const headScale = c.headInitScale ?? 1;
    if (headScale !== 1) {
      this.fc.weight.assign(tf.mul(this.fc.weight, headScale));
      this.fc.bias.assign(tf.mul(this.fc.bias, headScale));
    }
  }

  /** The stem: a ResNet stem keeps its activation; the patchify stem is a plain projection + norm. */
  forwardStem(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const h = this.bn1.forward(this.conv1.forward(x));
      return this.maxpool ? this.maxpool.forward(activate(this.config.act, h)) : h;
    });
  }

  /** Logits for an NHWC batch: stem → stages → global average pool → fc. */
  forward(x: tf.Tensor4D): tf.Tensor2D {
    const inChans = this.config.inChans ?? 3;
    if (x.rank !== 4 || x.shape[3] !== inChans) {
      throw new Error(`expected an NHWC batch with ${inChans} channels, got shape [${x.shape.join(', ')}]`);
    }
    return tf.tidy(() => {
      const h = this.layers.reduce((t, layer) => layer.forward(t), this.forwardStem(x));
      return this.fc.forward(tf.mean(h, [1, 2]) as tf.Tensor2D);
    });
  }

  /** Values normalised by the stem's and every block's norm layers for one `size`x`size` image. */
  normElements(size: number): number {
    let s: FeatureShape = [this.conv1.outputSize(size), this.conv1.outputSize(size), this.conv1.outChannels];
    let n = s[0] * s[1] * s[2];
    if (this.maxpool) s = this.maxpool.profile(s);
    for (const layer of this.layers) {
      for (const block of layer.layers as ResidualBlock[]) {
        n += block.normElements(s);
        s = block.profile(s, new MacCounter());
      }
    }
    return n;
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    let s = counter.within('conv1', () => this.conv1.profile(input, counter));
    const pool = this.maxpool;
    if (pool) s = pool.profile(s);
    this.layers.forEach((layer, i) => {
      s = counter.within(`layer${i + 1}`, () => layer.profile(s, counter));
    });
    return counter.within('fc', () => this.fc.profile([1, 1, s[2]], counter));
  }
}

/**
 * Builds a roadmap config. Separate downsampling layers are the last step, where the block has
 * become exactly ConvNeXt's, so that config builds the library's ConvNeXt (official parameter names,
 * final LayerNorm after pooling) rather than a look-alike.
 */
export function buildModernResNet(c: ModernResNetConfig): ModernResNet | ConvNeXt {
  if (c.downsampling === 'in-block') return new ModernResNet(c);
  const isConvNeXtBlock = c.layout === 'dw-first' && c.depthwise && c.act === 'gelu' && c.activations === 'one' &&
    c.norms === 'one' && c.norm === 'layer' && c.hiddenRatio === 4 && c.stem === 'patchify' &&
    c.stemChannels === c.dims[0];
  if (!isConvNeXtBlock) {
    throw new Error('separate downsampling layers are built for the ConvNeXt block only (dw-first, depthwise, one GELU, ' +
      'one LayerNorm, hidden ratio 4, patchify stem with stemChannels = dims[0])');
  }
  return new ConvNeXt({
    depths: c.depths, dims: c.dims, kernelSize: c.kernelSize, stemPatchSize: c.stemStride,
    layerScaleInitValue: c.layerScaleInitValue, dropPathRate: c.dropPathRate ?? 0,
    headInitScale: c.headInitScale ?? 1, numClasses: c.numClasses ?? 1000, inChans: c.inChans ?? 3,
  });
}
