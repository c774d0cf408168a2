/**
 * One ONNX emitter per Module class, found by the module's exact class (a subclass may compute
 * something else, so it needs its own). Each writes what the class's `forward` computes in eval mode:
 * BatchNorm with its running statistics, drop path as the identity.
 */
import { tf } from '../../backend';
import { GELU } from '../../nn/activation';
import { BatchNorm2d } from '../../nn/batch-norm';
import { CBAM, ChannelAttention, SpatialAttention } from '../../nn/cbam';
import { Conv2d, ConvLayer } from '../../nn/conv';
import { DynamicConv2d, DynamicConvAttention } from '../../nn/dynamic-conv';
import { FeatureFusion } from '../../nn/feature-fusion';
import { Linear } from '../../nn/linear';
import { MaxPool2d } from '../../nn/max-pool';
import { Module, Sequential } from '../../nn/module';
import { LayerNorm } from '../../nn/norm';
import { ScaledDynamicConv2d } from '../../nn/scaled-conv';
import { SECBAM } from '../../nn/se-cbam';
import { SqueezeExcite } from '../../nn/squeeze-excite';
import { Attention } from '../../nn/attention';
import { ClassifierHead } from '../../nn/classifier-head';
import { LayerScale } from '../../nn/layer-scale';
import { LinearNoBias } from '../../nn/linear-no-bias';
import { Mlp } from '../../nn/mlp';
import { ModuleList } from '../../nn/module-list';
import { PatchEmbed } from '../../nn/patch-embed';
import { PatchMerging } from '../../nn/patch-merging';
import { WindowAttention } from '../../nn/window-attention';
import { relativePositionIndex, shiftedWindowMask } from '../../nn/window';
import { Block } from '../block';
import { ConvNeXt } from '../convnext';
import { ModernResNet } from '../roadmap/modern-resnet';
import { ActKind, ResidualBlock } from '../roadmap/residual-block';
import { StudyConvNeXt } from '../study';
import { SwinTransformer, SwinTransformerBlock, SwinTransformerStage } from '../swin';
import { VisionTransformer, VitBlock } from '../vit';
import { Emitter, OnnxContext, Value } from './context';
import { floatAttr } from './graph';

const EMITTERS = new Map<abstract new (...args: never[]) => Module, Emitter>();

/** Registers the emitter of one class (exact class: subclasses need their own). */
function on<M extends Module, I extends Value | Value[] = Value>(
  cls: abstract new (...args: never[]) => M,
  fn: (ctx: OnnxContext, m: M, x: I, path: string, extra?: unknown) => Value,
): void {
  EMITTERS.set(cls, fn as unknown as Emitter);
}

export function emitterFor(m: Module): Emitter | undefined {
  return EMITTERS.get(m.constructor as abstract new (...args: never[]) => Module);
}

/** Class names that export, for messages and docs (ModuleList only as its owners' part). */
export function exportableClasses(): string[] {
  return [...EMITTERS.keys()].filter((c) => c !== ModuleList).map((c) => c.name).sort();
}

const child = (path: string, name: string): string => (path ? `${path}.${name}` : name);

// ---- layers (src/nn) ----

/** A ConvLayer's conv as ONNX Conv (NCHW, OIHW weights; depthwise as group = channels). */
function conv(ctx: OnnxContext, m: ConvLayer, x: Value, path: string, withBias: boolean): Value {
  const v = ctx.toLayout(x, 'nchw');
  const [, h, w] = v.shape;
  const k = m.kernelSize;
  // HWIO → OIHW; depthwise [k, k, C, 1] → [C, 1, k, k].
  const weight = ctx.param(m.weight, { perm: m.depthwise ? [2, 3, 0, 1] : [3, 2, 0, 1] });
  const inputs = [v.name, weight];
  if (withBias && m.bias) inputs.push(ctx.param(m.bias));
  const p = m.padding;
  const name = ctx.node('Conv', inputs, {
    kernel_shape: [k, k], strides: [m.stride, m.stride], pads: [p, p, p, p], dilations: [1, 1],
    group: m.depthwise ? m.inChannels : 1,
  }, path);
  return { name, layout: 'nchw', shape: [m.outChannels, m.outputSize(h), m.outputSize(w)] };
}

on(Conv2d, (ctx, m, x, path) => conv(ctx, m, x, path, true));

/** Linear over the last axis: Gemm on [N, C], MatMul + Add on maps and token sequences. */
function linear(ctx: OnnxContext, weight: tf.Variable, bias: tf.Variable | undefined, out: number, x: Value, path: string): Value {
  const v = ctx.channelsLast(x);
  const shape = [...v.shape.slice(0, -1), out];
  if (v.layout === 'flat') {
    const inputs = [v.name, ctx.param(weight)];
    if (bias) inputs.push(ctx.param(bias));
    return { name: ctx.node('Gemm', inputs, {}, path), layout: 'flat', shape };
  }
  const mm = ctx.node('MatMul', [v.name, ctx.param(weight)], {}, bias ? `${path}/matmul` : path);
  return { name: bias ? ctx.node('Add', [mm, ctx.param(bias)], {}, path) : mm, layout: v.layout, shape };
}

on(Linear, (ctx, m, x, path) => linear(ctx, m.weight, m.bias, m.outFeatures, x, path));
on(LinearNoBias, (ctx, m, x, path) => linear(ctx, m.weight, undefined, m.outFeatures, x, path));
on(LayerNorm, (ctx, m, x, path) => ctx.layerNorm(x, m.weight, m.bias, m.eps, path));
on(GELU, (ctx, _m, x, path) => ctx.gelu(x, path));
on(LayerScale, (ctx, m, x, path) => ctx.mulChannels(x, m.gamma, path));

on(BatchNorm2d, (ctx, m, x, path) => {
  const v = ctx.toLayout(x, 'nchw');
  const name = ctx.node('BatchNormalization',
    [v.name, ctx.param(m.weight), ctx.param(m.bias), ctx.param(m.runningMean), ctx.param(m.runningVar)],
    { epsilon: floatAttr(m.eps) }, path);
  return { ...v, name };
});

on(MaxPool2d, (ctx, m, x, path) => {
  const v = ctx.toLayout(x, 'nchw');
  const [c, h, w] = v.shape;
  const p = m.padding;
  // ONNX pads MaxPool with -inf, as the module does.
  const name = ctx.node('MaxPool', [v.name], {
    kernel_shape: [m.kernelSize, m.kernelSize], strides: [m.stride, m.stride], pads: [p, p, p, p],
  }, path);
  return { name, layout: 'nchw', shape: [c, m.outputSize(h), m.outputSize(w)] };
});

on(Sequential, (ctx, m, x, path) => m.layers.reduce((h, l, i) => ctx.emit(l, h, child(path, String(i))), x));

/** Per-sample channel factors [N, C] (flat) multiplied onto an NCHW map. */
function scaleChannels(ctx: OnnxContext, x: Value, factors: Value, path: string): Value {
  const v = ctx.toLayout(x, 'nchw');
  return { ...v, name: ctx.node('Mul', [v.name, ctx.perChannel(factors.name, 'nchw', `${path}/factors`)], {}, path) };
}

/** fc2(relu(fc1(pooled))) of an attention MLP. */
function mlpReLU(ctx: OnnxContext, fc1: Linear, fc2: Linear, pooled: Value, path: string): Value {
  const h = ctx.unary('Relu', ctx.emit(fc1, pooled, child(path, 'fc1')), `${child(path, 'fc1')}/relu`);
  return ctx.emit(fc2, h, child(path, 'fc2'));
}

on(SqueezeExcite, (ctx, m, x, path) => {
  const v = ctx.toLayout(x, 'nchw');
  const s = ctx.unary('Sigmoid', mlpReLU(ctx, m.fc1, m.fc2, ctx.spatialMean(v, `${path}/avgpool`), path), `${path}/excite`);
  const y = scaleChannels(ctx, v, s, `${path}/scale`);
  return m.bn ? ctx.emit(m.bn, y, child(path, 'bn')) : y;
});

on(ChannelAttention, (ctx, m, x, path) => {
  const v = ctx.toLayout(x, 'nchw');
  const c = v.shape[0];
  const avg = mlpReLU(ctx, m.fc1, m.fc2, ctx.spatialMean(v, `${path}/avgpool`), path);
  const maxPooled = ctx.node('Flatten', [ctx.node('GlobalMaxPool', [v.name], {}, `${path}/maxpool`)], { axis: 1 }, `${path}/maxpool`);
  const max = mlpReLU(ctx, m.fc1, m.fc2, { name: maxPooled, layout: 'flat', shape: [c] }, path);
  const s = ctx.unary('Sigmoid', ctx.add(avg, max, `${path}/sum`), `${path}/weights`);
  return scaleChannels(ctx, v, s, path);
});

on(SpatialAttention, (ctx, m, x, path) => {
  const v = ctx.toLayout(x, 'nchw');
  const [, h, w] = v.shape;
  const max = ctx.reduce('ReduceMax', v.name, [1], true, `${path}/max_c`);
  const mean = ctx.reduce('ReduceMean', v.name, [1], true, `${path}/mean_c`);
  const pooled: Value = { name: ctx.node('Concat', [max, mean], { axis: 1 }, `${path}/pooled`), layout: 'nchw', shape: [2, h, w] };
  const a = ctx.unary('Sigmoid', ctx.emit(m.bn, ctx.emit(m.conv, pooled, child(path, 'conv')), child(path, 'bn')), `${path}/weights`);
  return { ...v, name: ctx.node('Mul', [v.name, a.name], {}, path) };
});

on(CBAM, (ctx, m, x, path) => ctx.emit(m.spatial, ctx.emit(m.channel, x, child(path, 'channel')), child(path, 'spatial')));
on(SECBAM, (ctx, m, x, path) => ctx.emit(m.cbam, ctx.emit(m.se, x, child(path, 'se')), child(path, 'cbam')));

on(ScaledDynamicConv2d, (ctx, m, x, path) => {
  const v = ctx.toLayout(x, 'nchw');
  const s = ctx.unary('Sigmoid', ctx.emit(m.gate, ctx.spatialMean(v, `${path}/avgpool`), child(path, 'gate')), `${path}/scales`);
  const y = scaleChannels(ctx, conv(ctx, m, v, `${path}/conv`, false), s, `${path}/scaled`);
  if (!m.bias) return y;
  return { ...y, name: ctx.node('Add', [y.name, ctx.param(m.bias, { shape: [m.outChannels, 1, 1] })], {}, path) };
});

on(DynamicConvAttention, (ctx, m, x, path) => {
  const v = ctx.toLayout(x, 'nchw');
  const z = mlpReLU(ctx, m.fc1, m.fc2, ctx.spatialMean(v, `${path}/avgpool`), path);
  // The temperature the module has now (after the schedule's last onEpochStart).
  const scaled = ctx.node('Div', [z.name, ctx.g.scalar(m.temperature, 'temperature')], {}, `${path}/tau`);
  return { ...z, name: ctx.node('Softmax', [scaled], { axis: -1 }, path) };
});

/**
 * Σ_k π_k · dwconv(x, W_k) + Σ_k π_k b_k, which equals the module's conv with the mixed kernel Σ_k π_k W_k
 * (the conv is linear in its kernel). ONNX's Conv has one kernel for the whole batch, so the K kernels
 * run as one grouped conv with K outputs per channel, then are mixed by each sample's π.
 */
on(DynamicConv2d, (ctx, m, x, path) => {
  const v = ctx.toLayout(x, 'nchw');
  const [c, h, w] = v.shape;
  const { kernels: kk, kernelSize: k, padding: p } = m;
  const pi = ctx.emit(m.attention, v, child(path, 'attention'));
  // [K, k, k, C, 1] → [C, K, 1, k, k] → [C·K, 1, k, k]: output channel c·K + j is channel c under kernel j.
  const weight = ctx.param(m.weight, { perm: [3, 0, 4, 1, 2], shape: [c * kk, 1, k, k] });
  const ho = m.outputSize(h);
  const wo = m.outputSize(w);
  const y = ctx.node('Conv', [v.name, weight], {
    kernel_shape: [k, k], strides: [m.stride, m.stride], pads: [p, p, p, p], dilations: [1, 1], group: c,
  }, `${path}/convs`);
  const perKernel = ctx.reshape(y, [c, kk, ho, wo], `${path}/per_kernel`);
  const weights = ctx.node('Unsqueeze', [pi.name, ctx.g.ints([1, 3, 4])], {}, `${path}/pi`);
  const mixed = ctx.reduce('ReduceSum', ctx.node('Mul', [perKernel, weights], {}, `${path}/weighted`), [2], false, `${path}/mixed`);
  const bias = ctx.perChannel(ctx.node('MatMul', [pi.name, ctx.param(m.bias)], {}, `${path}/bias`), 'nchw', `${path}/bias`);
  return { name: ctx.node('Add', [mixed, bias], {}, path), layout: 'nchw', shape: [c, ho, wo] };
});

/** Nearest-neighbour upsampling of an NHWC map by an integer factor (output i reads input floor(i / f)). */
function upsampleNearest(ctx: OnnxContext, x: Value, f: number, path: string): Value {
  const [h, w, c] = x.shape;
  const split = ctx.reshape(x.name, [h, 1, w, 1, c], `${path}/split`);
  const expanded = ctx.node('Expand', [split, ctx.g.ints([1, 1, f, 1, f, 1])], {}, `${path}/repeat`);
  return { name: ctx.reshape(expanded, [h * f, w * f, c], path), layout: 'nhwc', shape: [h * f, w * f, c] };
}

on<FeatureFusion, Value[]>(FeatureFusion, (ctx, m, stages, path) => {
  const t = m.targetStage;
  const maps = stages.map((s, i) => {
    const normed = ctx.emit(m.norms[i], s, child(path, `norms.${i}`));
    const proj = child(path, `proj.${i}`);
    if (i < t) {
      const f = 2 ** (t - i);
      const v = ctx.toLayout(normed, 'nchw');
      const [c, h, w] = v.shape;
      const pooled: Value = {
        name: ctx.node('AveragePool', [v.name], { kernel_shape: [f, f], strides: [f, f] }, `${path}/pool.${i}`),
        layout: 'nchw', shape: [c, Math.floor(h / f), Math.floor(w / f)],
      };
      return ctx.emit(m.proj[i], pooled, proj);
    }
    const p = ctx.emit(m.proj[i], normed, proj);
    return i > t ? upsampleNearest(ctx, p, 2 ** (i - t), `${path}/upsample.${i}`) : p;
  });
  if (m.weights) {
    const w = ctx.node('Softmax', [ctx.param(m.weights)], { axis: 0 }, `${path}/weights`);
    const terms = maps.map((p, i) => ctx.node('Mul', [p.name, ctx.gather(w, 0, i, `${path}/weight.${i}`)], {}, `${path}/term.${i}`));
    return { ...maps[0], name: ctx.node('Sum', terms, {}, path) };
  }
  const cat: Value = {
    name: ctx.node('Concat', maps.map((p) => p.name), { axis: -1 }, `${path}/concat`),
    layout: 'nhwc', shape: [...maps[0].shape.slice(0, 2), maps.length * m.width],
  };
  return ctx.emit(m.fuse as Linear, cat, child(path, 'fuse'));
});

// ---- transformer layers ----

on(Mlp, (ctx, m, x, path) =>
  ctx.emit(m.fc2, ctx.gelu(ctx.emit(m.fc1, x, child(path, 'fc1')), `${child(path, 'fc1')}/gelu`), child(path, 'fc2')));

on(PatchEmbed, (ctx, m, x, path) => {
  const y = ctx.emit(m.proj, x, child(path, 'proj'));
  return m.norm ? ctx.emit(m.norm, y, child(path, 'norm')) : y;
});

/** Attention inputs beyond the tokens: Swin's relative position bias and shifted-window mask. */
interface AttentionExtra {
  bias?: string;
  /** [1, M, 1, N, N] mask, sequence b using mask b mod M. */
  mask?: { name: string; windows: number };
}

function attention(ctx: OnnxContext, m: Attention, x: Value, path: string, extra: AttentionExtra = {}): Value {
  if (x.layout !== 'tokens') throw new Error(`ONNX export: ${path} expects token sequences, got a ${x.layout} value`);
  const [n, c] = x.shape;
  const { numHeads: h, headDim: d } = m;
  const qkv = ctx.emit(m.qkv, x, child(path, 'qkv'));
  // [B, N, 3C] → [3, B, heads, N, d]
  const split = ctx.transpose(ctx.reshape(qkv.name, [n, 3, h, d], `${path}/qkv_heads`), [2, 0, 3, 1, 4], `${path}/qkv_split`);
  const [q, k, v] = ['q', 'k', 'v'].map((s, i) => ctx.gather(split, 0, i, `${path}/${s}`));
  const qs = ctx.node('Mul', [q, ctx.g.scalar(m.scale, `${path}/scale`)], {}, `${path}/q_scaled`);
  let logits = ctx.node('MatMul', [qs, ctx.transpose(k, [0, 1, 3, 2], `${path}/k_t`)], {}, `${path}/logits`);
  if (extra.bias) logits = ctx.node('Add', [logits, extra.bias], {}, `${path}/logits_bias`);
  if (extra.mask) {
    const byWindow = ctx.reshape(logits, [extra.mask.windows, h, n, n], `${path}/logits_windows`);
    logits = ctx.reshape(ctx.node('Add', [byWindow, extra.mask.name], {}, `${path}/logits_masked`), [h, n, n], `${path}/logits_mask`);
  }
  const probs = ctx.node('Softmax', [logits], { axis: -1 }, `${path}/softmax`);
  const out = ctx.node('MatMul', [probs, v], {}, `${path}/context`);
  const merged = ctx.reshape(ctx.transpose(out, [0, 2, 1, 3], `${path}/heads_last`), [n, c], `${path}/merge_heads`);
  return ctx.emit(m.proj, { name: merged, layout: 'tokens', shape: [n, c] }, child(path, 'proj'));
}

on(Attention, (ctx, m, x, path, extra) => attention(ctx, m, x, path, extra as AttentionExtra | undefined));

on(WindowAttention, (ctx, m, x, path, extra) => {
  const [wh, ww] = m.windowSize;
  const n = wh * ww;
  const index = ctx.g.ints(Array.from(relativePositionIndex(wh, ww)), [n * n], `${path}.relative_position_index`);
  const table = ctx.param(m.relativePositionBiasTable);
  const gathered = ctx.node('Gather', [table, index], { axis: 0 }, `${path}/bias_gather`);
  const bias = ctx.transpose(ctx.node('Reshape', [gathered, ctx.g.ints([n, n, m.numHeads])], {}, `${path}/bias_grid`),
    [2, 0, 1], `${path}/relative_position_bias`);
  return attention(ctx, m, x, path, { ...(extra as AttentionExtra | undefined), bias });
});

on(ClassifierHead, (ctx, m, x, path) => ctx.emit(m.fc, ctx.spatialMean(x, `${path}/pool`), child(path, 'fc')));

on(PatchMerging, (ctx, m, x, path) => {
  const v = ctx.toLayout(x, 'nhwc');
  const [h, w, c] = v.shape;
  let name = v.name;
  if (h % 2 || w % 2) {
    name = ctx.node('Pad', [name, ctx.g.ints([0, 0, 0, 0, 0, h % 2, w % 2, 0])], {}, `${path}/pad`);
  }
  const [hp, wp] = [h + (h % 2), w + (w % 2)];
  // [B, H/2, dy, W/2, dx, C] → [B, H/2, W/2, dx, dy, C]: timm's (x0, x1, x2, x3) order.
  const blocks = ctx.transpose(ctx.reshape(name, [hp / 2, 2, wp / 2, 2, c], `${path}/blocks`), [0, 1, 3, 4, 2, 5], `${path}/order`);
  const merged: Value = { name: ctx.reshape(blocks, [hp / 2, wp / 2, 4 * c], `${path}/merged`), layout: 'nhwc', shape: [hp / 2, wp / 2, 4 * c] };
  return ctx.emit(m.reduction, ctx.emit(m.norm, merged, child(path, 'norm')), child(path, 'reduction'));
});

// ---- models (src/convnext) ----

on(Block, (ctx, m, x, path) => {
  const input = ctx.toLayout(x, 'nchw');
  let h = ctx.emit(m.dwconv, input, child(path, 'dwconv'));
  h = ctx.emit(m.norm, h, child(path, 'norm'));
  h = ctx.emit(m.pwconv1, h, child(path, 'pwconv1'));
  h = ctx.gelu(h, `${child(path, 'pwconv1')}/gelu`);
  h = ctx.emit(m.pwconv2, h, child(path, 'pwconv2'));
  if (m.attn) h = ctx.emit(m.attn, h, child(path, 'attn'));
  if (m.gamma) h = ctx.mulChannels(h, m.gamma, child(path, 'gamma'));
  return ctx.add(input, h, path);
});

/** The stem, stages and head of ConvNeXt: returns each stage's output. */
function convnextStages(ctx: OnnxContext, m: ConvNeXt, x: Value): Value[] {
  const outs: Value[] = [];
  let h = x;
  for (let i = 0; i < m.stages.length; i++) {
    h = ctx.emit(m.downsampleLayers[i], h, `downsample_layers.${i}`);
    h = ctx.emit(m.stages[i], h, `stages.${i}`);
    outs.push(h);
  }
  return outs;
}

function convnextHead(ctx: OnnxContext, m: ConvNeXt, map: Value): Value {
  const pooled = ctx.spatialMean(map, 'pool');
  return ctx.emit(m.head, ctx.emit(m.norm, pooled, 'norm'), 'head');
}

on(ConvNeXt, (ctx, m, x) => {
  const stages = convnextStages(ctx, m, x);
  return convnextHead(ctx, m, stages[stages.length - 1]);
});

on(StudyConvNeXt, (ctx, m, x) => {
  const stages = convnextStages(ctx, m, x);
  const map = m.fusion ? ctx.emit(m.fusion, stages, 'fusion') : stages[stages.length - 1];
  return convnextHead(ctx, m, map);
});

function activate(ctx: OnnxContext, kind: ActKind, v: Value, stem: string): Value {
  return kind === 'relu' ? ctx.unary('Relu', v, stem) : ctx.gelu(v, stem);
}

on(ResidualBlock, (ctx, m, x, path) => {
  const input = ctx.toLayout(x, 'nchw');
  let h = input;
  m.convs.forEach((c, i) => {
    h = ctx.emit(c, h, child(path, `conv${i + 1}`));
    const norm = m.norms[i];
    if (norm) h = ctx.emit(norm, h, child(path, `bn${i + 1}`));
    if (m.actAfter[i]) h = activate(ctx, m.options.act, h, `${child(path, `conv${i + 1}`)}/act`);
  });
  if (m.gamma) h = ctx.mulChannels(h, m.gamma, child(path, 'gamma'));
  const shortcut = m.downsample ? ctx.emit(m.downsample, input, child(path, 'downsample')) : input;
  const out = ctx.add(ctx.toLayout(shortcut, 'nchw'), h, `${path}/add`);
  return m.actAfterAdd ? activate(ctx, m.options.act, out, `${path}/act`) : out;
});

on(ModernResNet, (ctx, m, x) => {
  let h = ctx.emit(m.bn1, ctx.emit(m.conv1, x, 'conv1'), 'bn1');
  if (m.maxpool) h = ctx.emit(m.maxpool, activate(ctx, m.config.act, h, 'stem/act'), 'maxpool');
  m.layers.forEach((layer, i) => {
    h = ctx.emit(layer, h, `layer${i + 1}`);
  });
  return ctx.emit(m.fc, ctx.spatialMean(h, 'pool'), 'fc');
});

on(VitBlock, (ctx, m, x, path) => {
  let a = ctx.emit(m.attn, ctx.emit(m.norm1, x, child(path, 'norm1')), child(path, 'attn'));
  if (m.ls1) a = ctx.emit(m.ls1, a, child(path, 'ls1'));
  const h = ctx.add(x, a, `${path}/attn_residual`);
  let f = ctx.emit(m.mlp, ctx.emit(m.norm2, h, child(path, 'norm2')), child(path, 'mlp'));
  if (m.ls2) f = ctx.emit(m.ls2, f, child(path, 'ls2'));
  return ctx.add(h, f, path);
});

on(VisionTransformer, (ctx, m, x) => {
  const patches = ctx.toLayout(ctx.emit(m.patchEmbed, x, 'patch_embed'), 'nhwc');
  const [gh, gw, d] = patches.shape;
  const l = gh * gw;
  const seq = ctx.reshape(patches.name, [l, d], 'patch_tokens');
  // The class token, repeated over the batch: Expand to [N, 1, D] with N read from the input.
  const batch = ctx.node('Shape', [seq], { start: 0, end: 1 }, 'batch_size');
  const clsShape = ctx.node('Concat', [batch, ctx.g.ints([1, d])], { axis: 0 }, 'cls_shape');
  const cls = ctx.node('Expand', [ctx.param(m.clsToken), clsShape], {}, 'cls_tokens');
  const tokens = ctx.node('Concat', [cls, seq], { axis: 1 }, 'tokens');
  // The position embedding for this grid: the parameter itself, or it resampled once at export time.
  let peName: string;
  if (gh === m.gridSize[0] && gw === m.gridSize[1]) {
    peName = ctx.param(m.posEmbed);
  } else {
    const pe = m.positionEmbedding(gh, gw);
    peName = ctx.constant(`pos_embed_${gh}x${gw}`, pe.dataSync() as Float32Array, [1, l + 1, d]);
    pe.dispose();
  }
  let t: Value = { name: ctx.node('Add', [tokens, peName], {}, 'tokens_pos'), layout: 'tokens', shape: [l + 1, d] };
  m.blocks.items.forEach((b, i) => {
    t = ctx.emit(b, t, `blocks.${i}`);
  });
  const clsOut: Value = { name: ctx.gather(t.name, 1, 0, 'cls_out'), layout: 'flat', shape: [d] };
  return ctx.emit(m.head, ctx.emit(m.norm, clsOut, 'norm'), 'head');
});

/** torch.roll on one axis of an NHWC map (axis 1 or 2): out[i] = x[(i - shift) mod n]. */
function roll(ctx: OnnxContext, x: string, n: number, shift: number, axis: number, stem: string): string {
  const s = ((shift % n) + n) % n;
  if (s === 0) return x;
  const head = ctx.slice(x, axis, 0, n - s, `${stem}/head`);
  const tail = ctx.slice(x, axis, n - s, n, `${stem}/tail`);
  return ctx.node('Concat', [tail, head], { axis }, stem);
}

on(SwinTransformerBlock, (ctx, m, x, path) => {
  const v = ctx.toLayout(x, 'nhwc');
  const [h, w, c] = v.shape;
  const [sh, sw] = m.shiftSize;
  const [wh, ww] = m.windowSize;
  const [hp, wp] = m.paddedSize(h, w);
  const normed = ctx.emit(m.norm1, v, child(path, 'norm1'));
  let s = normed.name;
  if (m.shifted) s = roll(ctx, roll(ctx, s, h, -sh, 1, `${path}/shift_h`), w, -sw, 2, `${path}/shift_w`);
  if (hp !== h || wp !== w) s = ctx.node('Pad', [s, ctx.g.ints([0, 0, 0, 0, 0, hp - h, wp - w, 0])], {}, `${path}/pad`);
  const windows = ctx.reshape(ctx.transpose(ctx.reshape(s, [hp / wh, wh, wp / ww, ww, c], `${path}/grid`),
    [0, 1, 3, 2, 4, 5], `${path}/windows`), [wh * ww, c], `${path}/window_tokens`);
  let mask: AttentionExtra['mask'];
  if (m.shifted) {
    const nw = (hp / wh) * (wp / ww);
    const n = wh * ww;
    mask = { name: ctx.constant(`${path}.attn_mask`, shiftedWindowMask(hp, wp, m.windowSize, m.shiftSize), [1, nw, 1, n, n]), windows: nw };
  }
  const attended = ctx.emit(m.attn, { name: windows, layout: 'tokens', shape: [wh * ww, c] }, child(path, 'attn'), { mask });
  let y = ctx.reshape(ctx.transpose(ctx.reshape(attended.name, [hp / wh, wp / ww, wh, ww, c], `${path}/unwindows`),
    [0, 1, 3, 2, 4, 5], `${path}/ungrid`), [hp, wp, c], `${path}/merged`);
  if (hp !== h || wp !== w) y = ctx.slice(ctx.slice(y, 1, 0, h, `${path}/crop_h`), 2, 0, w, `${path}/crop`);
  if (m.shifted) y = roll(ctx, roll(ctx, y, h, sh, 1, `${path}/unshift_h`), w, sw, 2, `${path}/unshift_w`);
  const r = ctx.add(v, { name: y, layout: 'nhwc', shape: [h, w, c] }, `${path}/attn_residual`);
  const f = ctx.emit(m.mlp, ctx.emit(m.norm2, r, child(path, 'norm2')), child(path, 'mlp'));
  return ctx.add(r, f, path);
});

on(SwinTransformerStage, (ctx, m, x, path) => {
  let h = m.downsample ? ctx.emit(m.downsample, x, child(path, 'downsample')) : x;
  m.blocks.items.forEach((b, i) => {
    h = ctx.emit(b, h, child(path, `blocks.${i}`));
  });
  return h;
});

on(SwinTransformer, (ctx, m, x) => {
  let h = ctx.emit(m.patchEmbed, x, 'patch_embed');
  m.layers.items.forEach((stage, i) => {
    h = ctx.emit(stage, h, `layers.${i}`);
  });
  return ctx.emit(m.head, ctx.emit(m.norm, h, 'norm'), 'head');
});

on(ModuleList, (_ctx, _m, _x, path) => {
  throw new Error(`ONNX export: the ModuleList at "${path}" has no forward of its own; its owner's emitter runs its items`);
});
