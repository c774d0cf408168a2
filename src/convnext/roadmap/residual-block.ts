/**
 * One configurable residual block that covers every block of the paper's roadmap from the ResNet
 * bottleneck to the ConvNeXt block (Fig. 3 and 4 of the paper): each roadmap step flips one option.
 * Parameter names follow torchvision's ResNet (conv1, bn1, ..., downsample.0/1) whatever the norm
 * layer, as timm's ResNet does, so step 01 loads torchvision's ResNet-50 state dict by name.
 */
import { tf } from '../../backend';
import { BatchNorm2d } from '../../nn/batch-norm';
import { gelu } from '../../nn/activation';
import { Conv2d } from '../../nn/conv';
import { dropPath } from '../../nn/drop-path';
import { LayerNorm } from '../../nn/norm';
import { FeatureShape, MacCounter, Module, Sequential } from '../../nn/module';

/**
 * - basic: ResNet-18/34's two 3x3 convs;
 * - bottleneck: 1x1 → kxk → 1x1, the kxk at the hidden width (narrow for ResNet, wide for the
 *   inverted bottleneck of step 06);
 * - dw-first: kxk depthwise → 1x1 → 1x1, the depthwise conv moved up (step 07), like attention
 *   before the MLP in a Transformer block.
 */
export type BlockLayout = 'basic' | 'bottleneck' | 'dw-first';
export type NormKind = 'batch' | 'layer';
export type ActKind = 'relu' | 'gelu';

export interface ResidualBlockOptions {
  layout: BlockLayout;
  inChannels: number;
  outChannels: number;
  /** Width of the inner layers (bottleneck: the narrow middle; inverted bottleneck: the wide one). */
  hidden: number;
  /** Spatial stride of the block; the first block of stages 2-4 downsamples by 2 in ResNets. */
  stride: number;
  kernelSize: number;
  /** The spatial conv is depthwise (groups = channels): ResNeXt's grouped conv taken to its limit. */
  depthwise: boolean;
  act: ActKind;
  /**
   * 'all': after every conv but the last and after the residual add (ResNet);
   * 'one': only between the two 1x1 convs, as in a Transformer's MLP (step 13).
   */
  activations: 'all' | 'one';
  /** 'all': a norm after every conv (ResNet); 'one': only after the depthwise conv (step 14). */
  norms: 'all' | 'one';
  norm: NormKind;
  /** Initial per-channel scale of the residual branch; 0 or less leaves it out. */
  layerScaleInitValue?: number;
  /** Stochastic depth rate of the residual branch. */
  dropPath?: number;
}

type NormLayer = BatchNorm2d | LayerNorm;

export function makeNorm(kind: NormKind, channels: number): NormLayer {
  // LayerNorm's eps is ConvNeXt's 1e-6, BatchNorm's is PyTorch's 1e-5.
  return kind === 'batch' ? new BatchNorm2d(channels) : new LayerNorm(channels, 1e-6);
}

export function activate<T extends tf.Tensor>(kind: ActKind, x: T): T {
  return kind === 'relu' ? tf.relu(x) : gelu(x);
}

interface ConvSpec {
  kernel: number;
  inC: number;
  outC: number;
  stride: number;
  depthwise: boolean;
}

function convSpecs(o: ResidualBlockOptions): ConvSpec[] {
  const { inChannels: inC, outChannels: outC, hidden, kernelSize: k, stride, depthwise } = o;
  switch (o.layout) {
    case 'basic':
      if (depthwise) throw new Error('the basic block has no depthwise variant');
      return [
        { kernel: k, inC, outC, stride, depthwise: false },
        { kernel: k, inC: outC, outC, stride: 1, depthwise: false },
      ];
    case 'bottleneck':
      // torchvision's ResNet v1.5 strides the spatial conv, not the first 1x1.
      return [
        { kernel: 1, inC, outC: hidden, stride: 1, depthwise: false },
        { kernel: k, inC: hidden, outC: hidden, stride, depthwise },
        { kernel: 1, inC: hidden, outC, stride: 1, depthwise: false },
      ];
    case 'dw-first':
      if (!depthwise) throw new Error('the dw-first layout needs a depthwise spatial conv');
      return [
        { kernel: k, inC, outC: inC, stride, depthwise: true },
        { kernel: 1, inC, outC: hidden, stride: 1, depthwise: false },
        { kernel: 1, inC: hidden, outC, stride: 1, depthwise: false },
      ];
  }
}

/**
 * conv → [norm] → [act] → ... → conv → [norm] → layer scale → drop path → + shortcut → [act].
 * The shortcut is identity, or a strided 1x1 conv + norm (`downsample`) when shape changes.
 */
export class ResidualBlock extends Module {
  readonly convs: Conv2d[];
  readonly norms: Array<NormLayer | undefined>;
  /** Whether an activation follows conv i (after its norm). */
  readonly actAfter: boolean[];
  readonly actAfterAdd: boolean;
  readonly downsample?: Sequential;
  readonly gamma?: tf.Variable;
  readonly dropPathRate: number;

  constructor(readonly options: ResidualBlockOptions) {
    super();
    const o = options;
    const specs = convSpecs(o);
    const last = specs.length - 1;
    if ((o.activations === 'one' || o.norms === 'one') && o.layout !== 'dw-first') {
      throw new Error(`activations/norms 'one' are defined for the dw-first layout only (got ${o.layout})`);
    }
    const hasNorm = specs.map((_, i) => o.norms === 'all' || i === 0);
    this.actAfter = specs.map((_, i) => i < last && (o.activations === 'all' || i === 1));
    this.actAfterAdd = o.activations === 'all';
    this.convs = [];
    this.norms = [];
    specs.forEach((s, i) => {
      // A conv directly followed by a norm needs no bias (the norm's shift replaces it).
      this.convs.push(this.registerModule(`conv${i + 1}`, new Conv2d(s.inC, s.outC, {
        kernelSize: s.kernel, stride: s.stride, padding: s.kernel >> 1,
        groups: s.depthwise ? s.inC : 1, bias: !hasNorm[i],
      })));
      this.norms.push(hasNorm[i] ? this.registerModule(`bn${i + 1}`, makeNorm(o.norm, s.outC)) : undefined);
    });
    if (o.stride !== 1 || o.inChannels !== o.outChannels) {
      this.downsample = this.registerModule('downsample', new Sequential([
        new Conv2d(o.inChannels, o.outChannels, { kernelSize: 1, stride: o.stride, bias: false }),
        makeNorm(o.norm, o.outChannels),
      ]));
    }
    const ls = o.layerScaleInitValue ?? 0;
    if (ls > 0) this.gamma = this.registerParameter('gamma', tf.fill([o.outChannels], ls));
    this.dropPathRate = o.dropPath ?? 0;
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let h: tf.Tensor4D = x;
      this.convs.forEach((conv, i) => {
        h = conv.forward(h);
        const norm = this.norms[i];
        if (norm) h = norm.forward(h);
        if (this.actAfter[i]) h = activate(this.options.act, h);
      });
      if (this.gamma) h = tf.mul(h, this.gamma) as tf.Tensor4D;
      const shortcut = this.downsample ? this.downsample.forward(x) : x;
      const out = tf.add(shortcut, dropPath(h, this.dropPathRate, this.training)) as tf.Tensor4D;
      return this.actAfterAdd ? activate(this.options.act, out) : out;
    });
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    const out = this.convs.reduce((s, conv, i) => counter.within(`conv${i + 1}`, () => conv.profile(s, counter)), input);
    const ds = this.downsample;
    if (ds) counter.within('downsample', () => ds.profile(input, counter));
    return out;
  }

  /** Values this block's norm layers normalise for one sample of shape `input` (all of kind options.norm). */
  normElements(input: FeatureShape): number {
    let s = input;
    let n = 0;
    this.convs.forEach((conv, i) => {
      s = [conv.outputSize(s[0]), conv.outputSize(s[1]), conv.outChannels];
      if (this.norms[i]) n += s[0] * s[1] * s[2];
    });
    // The shortcut's norm sees the block's output shape.
    if (this.downsample) n += s[0] * s[1] * s[2];
    return n;
  }

  /** One line per layer of the residual branch, e.g. `conv1 1x1 256→64 · BN · ReLU`. */
  describe(): string[] {
    const actName = this.options.act === 'relu' ? 'ReLU' : 'GELU';
    const lines = this.convs.map((c, i) => {
      const kind = c.depthwise ? 'dw ' : '';
      const stride = c.stride > 1 ? `/${c.stride}` : '';
      const parts = [`conv${i + 1} ${kind}${c.kernelSize}x${c.kernelSize}${stride} ${c.inChannels}→${c.outChannels}`];
      const norm = this.norms[i];
      if (norm) parts.push(norm instanceof BatchNorm2d ? 'BN' : 'LN');
      if (this.actAfter[i]) parts.push(actName);
      return parts.join(' · ');
    });
    if (this.gamma) lines.push('layer scale γ');
    const sc = this.downsample
      ? `+ downsample (1x1${this.options.stride > 1 ? `/${this.options.stride}` : ''} conv · ${this.options.norm === 'batch' ? 'BN' : 'LN'})`
      : '+ identity';
    lines.push(this.actAfterAdd ? `${sc} → ${actName}` : sc);
    return lines;
  }
}
