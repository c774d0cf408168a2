/**
 * The base of the optimizers: every trainable parameter is viewed as one flat vector, so an update is a
 * dozen element-wise ops on that vector instead of a dozen per parameter (ConvNeXt-T has ~180 tensors;
 * per-op dispatch would dominate small models). Per-group learning-rate scales and weight decays become
 * per-element vectors, or plain scalars when every group agrees.
 */
import { tf } from '../backend';
import { nativeOps } from '../native';
import type { ParamGroup } from './param-groups';

export interface StepHyper {
  /** Scheduled learning rate; each group uses lr * its lrScale. */
  lr: number;
  /**
   * Scheduled weight decay: replaces the decay of every group whose decay is > 0, as the official
   * training loop does with its weight-decay schedule. Absent: each group's own value.
   */
  weightDecay?: number;
}

/** Serialisable optimizer state: per-slot, per-parameter arrays (PyTorch names) and the step count. */
export interface OptimizerState {
  kind: string;
  step: number;
  hyper: Record<string, number | boolean>;
  /** slot → parameter name → values (shape of the parameter, flattened). */
  slots: Record<string, Record<string, Float32Array>>;
}

/** A per-element value: a scalar when every parameter shares it, else a flat vector. */
type PerElement = number | tf.Tensor1D;

export abstract class Optimizer {
  readonly variables: tf.Variable[];
  readonly names: string[];
  readonly size: number;
  stepCount = 0;
  protected readonly sizes: number[];
  protected readonly shapes: number[][];
  /** lrScale of each element. */
  protected readonly lrScale: PerElement;
  /** Weight decay of each element (its group's own value). */
  protected readonly decay: PerElement;
  /** 1 where the group decays, 0 elsewhere (where a scheduled decay value applies). */
  protected readonly decayMask: PerElement;
  /** Each parameter's group lrScale and weight decay (for per-parameter fused kernels). */
  protected readonly paramLrScale: number[];
  protected readonly paramDecay: number[];
  private readonly slotVars = new Map<string, tf.Variable>();

  constructor(readonly groups: ParamGroup[], readonly kind: string) {
    const all = groups.flatMap((g) => g.params.map(([n, v]) => ({ n, v, g })));
    if (all.length === 0) throw new Error(`${kind}: no trainable parameters`);
    const seen = new Set<tf.Variable>();
    for (const { n, v } of all) {
      if (seen.has(v)) throw new Error(`${kind}: parameter ${n} is in more than one group`);
      seen.add(v);
    }
    this.variables = all.map((e) => e.v);
    this.names = all.map((e) => e.n);
    this.sizes = all.map((e) => e.v.size);
    this.shapes = all.map((e) => e.v.shape);
    this.size = this.sizes.reduce((a, b) => a + b, 0);
    this.paramLrScale = all.map((e) => e.g.lrScale);
    this.paramDecay = all.map((e) => e.g.weightDecay);
    this.lrScale = this.perElement(this.paramLrScale);
    this.decay = this.perElement(this.paramDecay);
    this.decayMask = this.perElement(all.map((e) => (e.g.weightDecay > 0 ? 1 : 0)));
  }

  private perElement(values: number[]): PerElement {
    if (values.every((v) => v === values[0])) return values[0];
    const out = new Float32Array(this.size);
    let off = 0;
    values.forEach((v, i) => {
      out.fill(v, off, off + this.sizes[i]);
      off += this.sizes[i];
    });
    return tf.tensor1d(out);
  }

  /** A zero-initialised state vector, saved and restored with the optimizer. */
  protected slot(name: string): tf.Variable {
    let v = this.slotVars.get(name);
    if (!v) {
      v = tf.variable(tf.zeros([this.size]), false);
      this.slotVars.set(name, v);
    }
    return v;
  }

  /** Concatenates tensors shaped like the parameters into one flat vector. */
  flatten(ts: readonly tf.Tensor[]): tf.Tensor1D {
    if (ts.length !== this.variables.length) {
      throw new Error(`${this.kind}: got ${ts.length} gradients for ${this.variables.length} parameters`);
    }
    const native = nativeOps();
    if (native) return native.flatConcat([...ts]);
    return tf.tidy(() => tf.concat(ts.map((t) => t.reshape([-1])), 0) as tf.Tensor1D);
  }

  /** The weight decay of each element for this step (inside a tidy). */
  protected weightDecayFor(hp: StepHyper): PerElement {
    if (hp.weightDecay === undefined) return this.decay;
    return typeof this.decayMask === 'number' ? this.decayMask * hp.weightDecay : (tf.mul(this.decayMask, hp.weightDecay) as tf.Tensor1D);
  }

  /** Parameter i's weight decay for this step: the scheduled value where its group decays, else its own. */
  protected paramWeightDecay(i: number, hp: StepHyper): number {
    if (hp.weightDecay === undefined) return this.paramDecay[i];
    return this.paramDecay[i] > 0 ? hp.weightDecay : 0;
  }

  /**
   * One update. `grads` are aligned with `variables` (or already flat, e.g. accumulated micro-batch
   * gradients). Runs inside one tidy; the caller keeps ownership of `grads`.
   */
  step(grads: readonly tf.Tensor[] | tf.Tensor1D, hp: StepHyper): void {
    if (!Number.isFinite(hp.lr)) throw new Error(`${this.kind}: learning rate ${hp.lr} is not finite`);
    this.stepCount++;
    tf.tidy(() => {
      const g = Array.isArray(grads) ? this.flatten(grads) : (grads as tf.Tensor1D);
      if (g.size !== this.size) throw new Error(`${this.kind}: flat gradient has ${g.size} values, expected ${this.size}`);
      if (this.fusedUpdate(g, hp)) return;
      const p = this.flatten(this.variables);
      this.writeBack(this.update(p, g, hp));
    });
  }

  /**
   * Optimizers with a fused native kernel run the whole step here and return true (inside a tidy);
   * false runs `update` on the flat vectors.
   */
  protected fusedUpdate(_g: tf.Tensor1D, _hp: StepHyper): boolean {
    return false;
  }

  /** The new flat parameters from the old ones and the gradient (inside a tidy; may assign slots). */
  protected abstract update(p: tf.Tensor1D, g: tf.Tensor1D, hp: StepHyper): tf.Tensor1D;

  /** Hyper-parameters recorded with the state (and checked on load). */
  protected abstract hyper(): Record<string, number | boolean>;

  private writeBack(flat: tf.Tensor1D): void {
    const parts = tf.split(flat, this.sizes);
    parts.forEach((t, i) => this.variables[i].assign(t.reshape(this.shapes[i])));
  }

  state(): OptimizerState {
    const slots: OptimizerState['slots'] = {};
    for (const [slot, v] of this.slotVars) {
      const flat = v.dataSync() as Float32Array;
      const perParam: Record<string, Float32Array> = {};
      let off = 0;
      this.names.forEach((n, i) => {
        perParam[n] = flat.slice(off, off + this.sizes[i]);
        off += this.sizes[i];
      });
      slots[slot] = perParam;
    }
    return { kind: this.kind, step: this.stepCount, hyper: this.hyper(), slots };
  }

  loadState(state: OptimizerState): void {
    if (state.kind !== this.kind) throw new Error(`cannot load ${state.kind} state into ${this.kind}`);
    for (const [slot, perParam] of Object.entries(state.slots)) {
      const flat = new Float32Array(this.size);
      let off = 0;
      this.names.forEach((n, i) => {
        const values = perParam[n];
        if (!values) throw new Error(`${this.kind} state has no ${slot} for parameter ${n}`);
        if (values.length !== this.sizes[i]) {
          throw new Error(`${this.kind} state ${slot}.${n} has ${values.length} values, parameter has ${this.sizes[i]}`);
        }
        flat.set(values, off);
        off += this.sizes[i];
      });
      this.slot(slot).assign(tf.tensor1d(flat));
    }
    this.stepCount = state.step;
  }

  dispose(): void {
    for (const v of this.slotVars.values()) v.dispose();
    this.slotVars.clear();
    for (const t of [this.lrScale, this.decay, this.decayMask]) if (typeof t !== 'number') t.dispose();
  }
}

/** a * b * s for per-element values, staying scalar when both are (inside a tidy). */
export function product(a: PerElement, b: PerElement, s = 1): PerElement {
  if (typeof a === 'number' && typeof b === 'number') return a * b * s;
  return tf.mul(tf.mul(a, b), s) as tf.Tensor1D;
}

/** t * x for a per-element x (no op when x is the scalar 1). */
export function mulPer<T extends tf.Tensor>(t: T, x: PerElement): T {
  return (x === 1 ? t : tf.mul(t, x)) as T;
}

/** Whether a per-element value is identically zero (skips the weight-decay ops). */
export function isZero(x: PerElement): boolean {
  return typeof x === 'number' && x === 0;
}

export type { PerElement };
