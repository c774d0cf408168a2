/**
 * What the emitters share while a model is written to ONNX: the graph, the values flowing between
 * modules with their layout and static shape, parameters as initializers, and the small op helpers
 * (layout changes, reductions, activations) that several emitters need.
 *
 * Layouts. ONNX's Conv, pools and BatchNormalization are NCHW, so spatial maps travel as NCHW; the
 * channel-last layers (LayerNorm over channels, Linear) want the channels last, as PyTorch's ConvNeXt
 * permutes to NHWC around them. A value says which it is, and `toLayout` inserts a Transpose only where
 * the next layer needs the other one (once per value: the result is remembered).
 */
import { tf } from '../../backend';
import type { Module } from '../../nn/module';
import { AttrValue, GraphBuilder, floatAttr } from './graph';

/**
 * nchw: a map [N, C, H, W]; nhwc: a map [N, H, W, C]; flat: [N, C]; tokens: token sequences [N, L, C]
 * (N counts sequences: images for ViT, windows for Swin). `shape` leaves out the (dynamic) leading axis.
 */
export type Layout = 'nchw' | 'nhwc' | 'flat' | 'tokens';

export interface Value {
  name: string;
  layout: Layout;
  shape: number[];
}

/** Writes one module (or a plain function of the forward pass) as nodes; returns its output. */
export type Emitter = (ctx: OnnxContext, module: Module, input: Value | Value[], path: string, extra?: unknown) => Value;

export class OnnxContext {
  private readonly paramNames = new Map<tf.Variable, string>();
  private readonly paramCache = new Map<string, string>();
  private readonly layoutCache = new Map<string, Value>();

  constructor(
    readonly g: GraphBuilder,
    root: Module,
    private readonly dispatch: (m: Module) => Emitter | undefined,
  ) {
    for (const [name, p] of root.namedParameters()) this.paramNames.set(p, name);
  }

  get opset(): number {
    return this.g.opset;
  }

  /** Emits `module` (found by its class); a class without an emitter is an error naming it and its path. */
  emit(module: Module, input: Value | Value[], path: string, extra?: unknown): Value {
    const emitter = this.dispatch(module);
    if (!emitter) {
      throw new Error(`ONNX export: no emitter for module class ${module.constructor.name} at ` +
        `"${path || '(the model)'}"; add one in src/convnext/onnx/emit.ts`);
    }
    return emitter(this, module, input, path, extra);
  }

  /**
   * A parameter as an initializer under its dotted name (`stages.0.0.dwconv.weight`), optionally
   * transposed (`perm`) and reshaped (`shape`) into the layout the op wants; made once per layout.
   */
  param(v: tf.Variable, opts: { perm?: number[]; shape?: number[] } = {}): string {
    const name = this.paramNames.get(v);
    if (name === undefined) throw new Error('ONNX export: a parameter that the model does not register was used');
    const key = `${name}|${opts.perm?.join(',') ?? ''}|${opts.shape?.join(',') ?? ''}`;
    const known = this.paramCache.get(key);
    if (known) return known;
    // The tidy returns the tensor, not its data: tidy walks what it returns, element by element.
    const t = opts.perm || opts.shape ? tf.tidy(() => {
      const p = opts.perm ? tf.transpose(v, opts.perm) : v;
      return opts.shape ? p.reshape(opts.shape) : p.clone();
    }) : v;
    const init = this.g.floats(name, t.dataSync() as Float32Array, t.shape);
    if (t !== v) t.dispose();
    this.paramCache.set(key, init);
    return init;
  }

  /** A constant float tensor computed at export time (e.g. a resampled position embedding, a mask). */
  constant(stem: string, data: Float32Array, dims: number[]): string {
    return this.g.floats(stem, data, dims);
  }

  node(op: string, inputs: string[], attrs: Record<string, AttrValue | undefined> = {}, stem?: string): string {
    return this.g.node(op, inputs, attrs, stem);
  }

  /** The same value in another layout (maps: nchw ⇄ nhwc). */
  toLayout(v: Value, layout: 'nchw' | 'nhwc'): Value {
    if (v.layout === layout) return v;
    if (v.layout !== 'nchw' && v.layout !== 'nhwc') {
      throw new Error(`ONNX export: a ${v.layout} value (${v.name}) cannot be used as a ${layout} map`);
    }
    const key = `${v.name}->${layout}`;
    const known = this.layoutCache.get(key);
    if (known) return known;
    const toNhwc = layout === 'nhwc';
    const [a, b, c] = v.shape;
    const out: Value = {
      name: this.node('Transpose', [v.name], { perm: toNhwc ? [0, 2, 3, 1] : [0, 3, 1, 2] }, `${v.name}:${layout}`),
      layout,
      shape: toNhwc ? [b, c, a] : [c, a, b],
    };
    this.layoutCache.set(key, out);
    return out;
  }

  /** Maps go channels-last; flat vectors and token sequences already are. */
  channelsLast(v: Value): Value {
    return v.layout === 'nchw' ? this.toLayout(v, 'nhwc') : v;
  }

  channels(v: Value): number {
    return v.layout === 'nchw' ? v.shape[0] : v.shape[v.shape.length - 1];
  }

  /** A ReduceX over `axes` (axes an attribute before opset 18, an input from 18 on). */
  reduce(op: 'ReduceMean' | 'ReduceMax' | 'ReduceSum', x: string, axes: number[], keepdims: boolean, stem?: string): string {
    const keep = keepdims ? 1 : 0;
    if (op === 'ReduceSum' || this.opset >= 18) return this.node(op, [x, this.g.ints(axes)], { keepdims: keep }, stem);
    return this.node(op, [x], { axes, keepdims: keep }, stem);
  }

  /** Mean over the spatial axes: a map → [N, C]. */
  spatialMean(v: Value, stem: string): Value {
    const c = this.channels(v);
    if (v.layout === 'nchw') {
      const pooled = this.node('GlobalAveragePool', [v.name], {}, `${stem}/pool`);
      return { name: this.node('Flatten', [pooled], { axis: 1 }, stem), layout: 'flat', shape: [c] };
    }
    if (v.layout !== 'nhwc') throw new Error(`ONNX export: spatial mean of a ${v.layout} value`);
    return { name: this.reduce('ReduceMean', v.name, [1, 2], false, stem), layout: 'flat', shape: [c] };
  }

  /** Exact GELU: ONNX's Gelu from opset 20, else its erf form x · ½ · (1 + erf(x / √2)), as ours. */
  gelu(v: Value, stem: string): Value {
    if (this.opset >= 20) return { ...v, name: this.node('Gelu', [v.name], {}, stem) };
    const scaled = this.node('Mul', [v.name, this.g.scalar(Math.SQRT1_2)], {}, `${stem}/scaled`);
    const erf1 = this.node('Add', [this.node('Erf', [scaled], {}, `${stem}/erf`), this.g.scalar(1)], {}, `${stem}/erf1`);
    const half = this.node('Mul', [v.name, this.g.scalar(0.5)], {}, `${stem}/half`);
    return { ...v, name: this.node('Mul', [half, erf1], {}, stem) };
  }

  unary(op: 'Relu' | 'Sigmoid', v: Value, stem: string): Value {
    return { ...v, name: this.node(op, [v.name], {}, stem) };
  }

  add(a: Value, b: Value, stem: string): Value {
    const bb = a.layout === 'nchw' || a.layout === 'nhwc' ? this.toLayout(b, a.layout) : b;
    return { ...a, name: this.node('Add', [a.name, bb.name], {}, stem) };
  }

  /** Multiplies every channel of `v` by a per-channel parameter (layer scale γ), in v's layout. */
  mulChannels(v: Value, gamma: tf.Variable, stem: string): Value {
    const c = this.channels(v);
    const g = v.layout === 'nchw' ? this.param(gamma, { shape: [c, 1, 1] }) : this.param(gamma);
    return { ...v, name: this.node('Mul', [v.name, g], {}, stem) };
  }

  /** [N, C] per-sample factors broadcast over a map's spatial axes: [N, C, 1, 1] (nchw) or [N, 1, 1, C] (nhwc). */
  perChannel(factors: string, layout: 'nchw' | 'nhwc', stem: string): string {
    return this.node('Unsqueeze', [factors, this.g.ints(layout === 'nchw' ? [2, 3] : [1, 2])], {}, stem);
  }

  /** Reshape with a dynamic leading axis (-1) and static others. */
  reshape(x: string, dims: number[], stem: string): string {
    return this.node('Reshape', [x, this.g.ints([-1, ...dims])], {}, stem);
  }

  transpose(x: string, perm: number[], stem: string): string {
    return this.node('Transpose', [x], { perm }, stem);
  }

  /** x[..., start:end, ...] on one axis. */
  slice(x: string, axis: number, start: number, end: number, stem: string): string {
    return this.node('Slice', [x, this.g.ints([start]), this.g.ints([end]), this.g.ints([axis])], {}, stem);
  }

  /** Element `index` of `axis` (that axis dropped). */
  gather(x: string, axis: number, index: number, stem: string): string {
    return this.node('Gather', [x, this.g.ints([index], [])], { axis }, stem);
  }

  /** LayerNormalization over the last axis. */
  layerNorm(v: Value, weight: tf.Variable, bias: tf.Variable, eps: number, stem: string): Value {
    const x = this.channelsLast(v);
    return {
      ...x,
      name: this.node('LayerNormalization', [x.name, this.param(weight), this.param(bias)],
        { axis: -1, epsilon: floatAttr(eps) }, stem),
    };
  }
}
