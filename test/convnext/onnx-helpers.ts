/** Shared by the ONNX tests: deterministic non-trivial weights for any model. */
import { tf } from '../../src/backend';
import type { Module } from '../../src/nn/module';

/** Deterministic pseudo-random normals (Box-Muller over an LCG). */
export function normals(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const u = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 1) / 4294967297;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

/**
 * Non-trivial weights everywhere: kernels and Linear weights ~ N(0, 1/fan_in), norm scales around 1,
 * biases and shifts ~ N(0, 0.1²), BatchNorm running means ~ N(0, 0.1²) and variances in [0.5, 1.5],
 * layer scales around 0.5, so that every branch changes the logits.
 */
export function randomize(model: Module, seed = 1): void {
  model.namedParameters().forEach(([name, p], i) => {
    const z = normals(p.size, seed * 7919 + i);
    const shape = p.shape as number[];
    const last = name.split('.').pop() as string;
    let v: Float32Array;
    if (last === 'running_var') v = z.map((x) => 1 + 0.5 * Math.tanh(x));
    else if (last === 'gamma') v = z.map((x) => 0.5 + 0.1 * x);
    else if (last === 'weight' && shape.length >= 2) {
      const k = shape.length === 2 ? shape[0] : shape.length === 5 ? shape[1] * shape[2]
        : shape[3] === 1 && shape[2] > 1 ? shape[0] * shape[1] : shape[0] * shape[1] * shape[2];
      v = z.map((x) => x / Math.sqrt(k));
    } else if (last === 'weight') v = z.map((x) => 1 + 0.1 * x);
    else if (last === 'weights') v = z;
    else if (last === 'relative_position_bias_table') v = z.map((x) => 0.5 * x);
    else v = z.map((x) => 0.1 * x);
    p.assign(tf.tensor(v, shape));
  });
}

