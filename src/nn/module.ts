import { tf } from '../backend';

/** Shape of one sample flowing through a network in NHWC order, without the batch axis. */
export type FeatureShape = [height: number, width: number, channels: number];

/** Collects multiply-accumulates while a module's `profile` walks shapes without computing. */
export class MacCounter {
  total = 0;
  readonly byScope = new Map<string, number>();
  private readonly scope: string[] = [];

  add(macs: number): void {
    this.total += macs;
    const key = this.scope.join('.');
    this.byScope.set(key, (this.byScope.get(key) ?? 0) + macs);
  }

  within<T>(name: string, fn: () => T): T {
    this.scope.push(name);
    try {
      return fn();
    } finally {
      this.scope.pop();
    }
  }
}

/**
 * A minimal counterpart of torch.nn.Module: named parameters in registration order, child modules,
 * and a train/eval flag. Parameters keep TensorFlow's layouts (HWIO kernels, [in, out] linear weights);
 * `weights.ts` converts to and from PyTorch's layouts under the same names.
 */
export abstract class Module {
  training = true;
  private readonly params = new Map<string, tf.Variable>();
  /** Parameters registered non-trainable: buffers such as BatchNorm's running statistics. */
  private readonly buffers = new Set<tf.Variable>();
  private readonly children = new Map<string, Module>();
  /** Derived tensors (e.g. re-laid-out weights) that live as long as the module. */
  private readonly caches: Array<{ dispose(): void }> = [];

  protected registerParameter(name: string, value: tf.Tensor, trainable = true): tf.Variable {
    const v = tf.variable(value, trainable);
    value.dispose();
    this.params.set(name, v);
    if (!trainable) this.buffers.add(v);
    return v;
  }

  protected registerCache<C extends { dispose(): void }>(cache: C): C {
    this.caches.push(cache);
    return cache;
  }

  protected registerModule<M extends Module>(name: string, module: M): M {
    this.children.set(name, module);
    return module;
  }

  /** Parameters under PyTorch-style dotted names, e.g. `stages.0.0.dwconv.weight`. */
  namedParameters(prefix = ''): Array<[string, tf.Variable]> {
    const out: Array<[string, tf.Variable]> = [];
    for (const [n, p] of this.params) out.push([prefix + n, p]);
    for (const [n, m] of this.children) out.push(...m.namedParameters(`${prefix}${n}.`));
    return out;
  }

  namedModules(prefix = ''): Array<[string, Module]> {
    const out: Array<[string, Module]> = [[prefix.replace(/\.$/, ''), this]];
    for (const [n, m] of this.children) out.push(...m.namedModules(`${prefix}${n}.`));
    return out;
  }

  parameters(): tf.Variable[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Learnable parameters, as torch's `sum(p.numel() for p in parameters())`: buffers are not counted. */
  numParams(): number {
    return this.namedModules().reduce((s, [, m]) =>
      s + [...m.params.values()].filter((p) => !m.buffers.has(p)).reduce((t, p) => t + p.size, 0), 0);
  }

  /** Sets training mode recursively (drop path is active only in training). */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  dispose(): void {
    for (const [, m] of this.namedModules()) for (const c of m.caches) c.dispose();
    for (const p of this.parameters()) p.dispose();
  }

  /** Output shape for an input shape, adding this module's MACs to the counter. */
  abstract profile(input: FeatureShape, counter: MacCounter): FeatureShape;
}

/** Runs children in order, like torch.nn.Sequential; children are named "0", "1", .... */
export class Sequential extends Module {
  readonly layers: Array<Module & { forward(x: tf.Tensor4D): tf.Tensor4D }>;

  constructor(layers: Array<Module & { forward(x: tf.Tensor4D): tf.Tensor4D }>) {
    super();
    this.layers = layers.map((l, i) => this.registerModule(String(i), l));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return this.layers.reduce((h, l) => l.forward(h), x);
  }

  profile(input: FeatureShape, counter: MacCounter): FeatureShape {
    return this.layers.reduce((s, l, i) => counter.within(String(i), () => l.profile(s, counter)), input);
  }
}
