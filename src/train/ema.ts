/**
 * Model EMA as timm's ModelEmaV2 (and the official `--model_ema`): after every optimizer update,
 * ema ← decay·ema + (1 − decay)·param for every parameter and buffer, starting from a copy of the model,
 * with no decay warmup. Kept as one flat vector (one fused update per step). Evaluating "with EMA" swaps
 * the averaged values into the model and back.
 */
import { tf } from '../backend';
import type { Module } from '../nn/module';

export class ModelEma {
  readonly variables: tf.Variable[];
  readonly names: string[];
  private readonly sizes: number[];
  private readonly shadow: tf.Variable;

  constructor(model: Module, readonly decay = 0.9999) {
    if (!(decay >= 0 && decay <= 1)) throw new Error(`EMA decay must be in [0, 1], got ${decay}`);
    const named = model.namedParameters();
    this.names = named.map(([n]) => n);
    this.variables = named.map(([, v]) => v);
    this.sizes = this.variables.map((v) => v.size);
    this.shadow = tf.variable(this.flat(), false);
  }

  private flat(): tf.Tensor1D {
    return tf.tidy(() => tf.concat(this.variables.map((v) => v.reshape([-1])), 0) as tf.Tensor1D);
  }

  update(): void {
    tf.tidy(() => {
      this.shadow.assign(tf.add(tf.mul(this.shadow, this.decay), tf.mul(this.flat(), 1 - this.decay)));
    });
  }

  /** The averaged values as tensors shaped like the parameters (caller disposes). */
  tensors(): tf.Tensor[] {
    return tf.tidy(() => tf.split(this.shadow, this.sizes).map((t, i) => t.reshape(this.variables[i].shape)));
  }

  /** Runs fn with the EMA weights in the model, then restores the live weights (also on error). */
  async withWeights<T>(fn: () => Promise<T> | T): Promise<T> {
    const live = this.variables.map((v) => v.clone());
    const ema = this.tensors();
    this.variables.forEach((v, i) => v.assign(ema[i]));
    tf.dispose(ema);
    try {
      return await fn();
    } finally {
      this.variables.forEach((v, i) => v.assign(live[i]));
      tf.dispose(live);
    }
  }

  /** name → averaged values, for checkpoints. */
  state(): Record<string, Float32Array> {
    const flat = this.shadow.dataSync() as Float32Array;
    const out: Record<string, Float32Array> = {};
    let off = 0;
    this.names.forEach((n, i) => {
      out[n] = flat.slice(off, off + this.sizes[i]);
      off += this.sizes[i];
    });
    return out;
  }

  loadState(state: Record<string, Float32Array>): void {
    const flat = new Float32Array(this.shadow.size);
    let off = 0;
    this.names.forEach((n, i) => {
      const values = state[n];
      if (!values || values.length !== this.sizes[i]) {
        throw new Error(`EMA state for ${n} is ${values ? `${values.length} values, expected ${this.sizes[i]}` : 'missing'}`);
      }
      flat.set(values, off);
      off += this.sizes[i];
    });
    this.shadow.assign(tf.tensor1d(flat));
  }

  dispose(): void {
    this.shadow.dispose();
  }
}
