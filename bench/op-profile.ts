/**
 * Where an eval-mode forward pass spends its time, op by op: tfjs-node runs every TensorFlow op eagerly
 * and synchronously on the calling thread, so timing each backend call measures that op (kernel, dispatch
 * and output allocation); what is left of the forward pass is JavaScript and tfjs bookkeeping.
 *
 *   npx tsx bench/op-profile.ts                                  # ConvNeXt-T, 224, batch 1
 *   npx tsx bench/op-profile.ts --model convnext_atto --size 64 --batch 16 --top 10
 */
import { Command } from 'commander';
import { tf } from '../src/backend';
import { createModel } from '../src/convnext/registry';
import { nativeStatus } from '../src/native';

interface OpTotal {
  ms: number;
  calls: number;
}

type Execute = (name: string, attrs: unknown, inputs: tf.Tensor[], ...rest: unknown[]) => unknown;

/** Wraps the backend's op entry points so each call adds its wall time under `op firstInputShape`. */
function instrument(totals: Map<string, OpTotal>): void {
  const backend = tf.backend() as unknown as Record<string, Execute>;
  for (const method of ['executeSingleOutput', 'executeMultipleOutputs']) {
    const original = backend[method].bind(backend);
    backend[method] = (name, attrs, inputs, ...rest) => {
      const start = performance.now();
      try {
        return original(name, attrs, inputs, ...rest);
      } finally {
        const key = `${name} ${inputs[0]?.shape.join('x') ?? ''}`;
        const t = totals.get(key) ?? { ms: 0, calls: 0 };
        t.ms += performance.now() - start;
        t.calls++;
        totals.set(key, t);
      }
    };
  }
}

const opts = new Command('op-profile')
  .option('--model <name>', 'registry name', 'convnext_tiny')
  .option('--size <px>', 'input size', '224')
  .option('--batch <n>', 'batch size', '1')
  .option('--iters <n>', 'timed forward passes', '10')
  .option('--top <n>', 'rows of the per-shape table', '24')
  .parse()
  .opts<{ model: string; size: string; batch: string; iters: string; top: string }>();

const model = createModel(opts.model, { numClasses: 1000 }).eval();
const size = Number(opts.size);
const x = tf.randomNormal([Number(opts.batch), size, size, 3]) as tf.Tensor4D;
const forward = () => {
  const y = tf.tidy(() => model.forward(x));
  y.dataSync();
  y.dispose();
};
if (tf.getBackend() !== 'tensorflow') console.warn(`backend ${tf.getBackend()}: op timings need tfjs-node (synchronous ops)`);
forward();
forward();
const totals = new Map<string, OpTotal>();
instrument(totals);
const iters = Number(opts.iters);
const start = performance.now();
for (let i = 0; i < iters; i++) forward();
const wall = (performance.now() - start) / iters;

const rows = [...totals].map(([key, t]) => ({ key, ms: t.ms / iters, calls: t.calls / iters })).sort((a, b) => b.ms - a.ms);
const inOps = rows.reduce((s, r) => s + r.ms, 0);
const byOp = new Map<string, number>();
for (const r of rows) byOp.set(r.key.split(' ')[0], (byOp.get(r.key.split(' ')[0]) ?? 0) + r.ms);
console.log(`${opts.model} ${size}px batch ${opts.batch}, eval; fused kernels ${nativeStatus().enabled ? 'on' : 'off'}`);
console.log(`forward ${wall.toFixed(1)} ms: ${inOps.toFixed(1)} ms in ${rows.reduce((s, r) => s + r.calls, 0)} ops, ` +
  `${(wall - inOps).toFixed(1)} ms outside them`);
console.log(`by op: ${[...byOp].sort((a, b) => b[1] - a[1]).map(([n, ms]) => `${n} ${ms.toFixed(1)}`).join(', ')}`);
for (const r of rows.slice(0, Number(opts.top))) {
  console.log(`  ${r.key.padEnd(36)} ${r.ms.toFixed(2).padStart(7)} ms  ${r.calls}x ${(r.ms / r.calls * 1000).toFixed(0)} us`);
}
tf.dispose(x);
model.dispose();
