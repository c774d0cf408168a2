/**
 * Where an eval-mode forward pass spends its time, op by op: tfjs-node runs every TensorFlow op eagerly
 * and synchronously on the calling thread, so timing each backend call measures that op (kernel, dispatch
 * and output allocation); what is left of the forward pass is JavaScript and tfjs bookkeeping.
 *
 *   npx tsx bench/op-profile.ts                                  # ConvNeXt-T, 224, batch 1
 *   npx tsx bench/op-profile.ts --model convnext_atto --size 64 --batch 16 --top 10
 *   npx tsx bench/op-profile.ts --matmuls    # also each product alone, beside PyTorch's F.linear
 *   npx tsx bench/op-profile.ts --model convnext_atto --size 64 --batch 64 --train   # the bench's training step
 */
import * as os from 'os';
import { Command } from 'commander';
import { tf } from '../src/backend';
import { PackedWeight } from '../src/nn/packed-weight';
import { createModel } from '../src/convnext/registry';
import { nativeOps, nativeStatus } from '../src/native';
import { median, timeSteps, timeStepsSync } from '../src/util/timing';
import { trainStep } from './lib/ours';
import { findTorch, torchLinears } from './lib/torch';

interface OpTotal {
  ms: number;
  calls: number;
}

type Execute = (name: string, attrs: unknown, inputs: tf.Tensor[], ...rest: unknown[]) => unknown;

/**
 * Wraps the backend's op entry points so each call adds its wall time under `op firstInputShape`; the
 * shapes of the products (2-D MatMuls, and the block Linears' CnxLinearGelu / CnxLinearScaleResidual) go to
 * `matmuls` as `MxKxN`.
 */
function instrument(totals: Map<string, OpTotal>, matmuls: Set<string>): void {
  const backend = tf.backend() as unknown as Record<string, Execute>;
  for (const method of ['executeSingleOutput', 'executeMultipleOutputs']) {
    const original = backend[method].bind(backend);
    backend[method] = (name, attrs, inputs, ...rest) => {
      const start = performance.now();
      try {
        return original(name, attrs, inputs, ...rest);
      } finally {
        const key = `${name} ${inputs[0]?.shape.join('x') ?? ''}`;
        const [a, b] = inputs.map((t) => t.shape);
        if (name === 'MatMul' && a?.length === 2 && b?.length === 2 && a[1] === b[0]) matmuls.add(`${a[0]}x${a[1]}x${b[1]}`);
        if (name.startsWith('CnxLinear')) {
          const k = a[a.length - 1];
          matmuls.add(`${inputs[0].size / k}x${k}x${inputs[2].size}`);
        }
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
  .option('--matmuls', 'also time each product alone, and PyTorch\'s F.linear on it when torch is found')
  .option('--train', 'profile the bench\'s training step (forward, backward, AdamW; 10 classes) instead of a forward pass')
  .parse()
  .opts<{ model: string; size: string; batch: string; iters: string; top: string; matmuls?: boolean; train?: boolean }>();

const size = Number(opts.size);
const batch = Number(opts.batch);
const model = createModel(opts.model, { numClasses: opts.train ? 10 : 1000 });
model.train(opts.train === true);
const x = tf.randomNormal([batch, size, size, 3]) as tf.Tensor4D;
const y = tf.tidy(() => tf.oneHot(tf.zeros([batch], 'int32'), 10).toFloat() as tf.Tensor2D);
const train = opts.train ? trainStep(model, () => ({ x, y })) : undefined;
const forward = () => {
  const out = tf.tidy(() => model.forward(x));
  out.dataSync();
  out.dispose();
};
if (tf.getBackend() !== 'tensorflow') console.warn(`backend ${tf.getBackend()}: op timings need tfjs-node (synchronous ops)`);
const iters = Number(opts.iters);
const totals = new Map<string, OpTotal>();
const matmuls = new Set<string>();
async function main(): Promise<void> {
  // The mean, not the median: it is set beside the per-op totals, which are means too.
  let wall: number;
  if (train) {
    const step = async () => {
      await train.step();
    };
    await timeSteps(step, { warmup: 3, minIters: 0, maxIters: 0, minSeconds: 0 });
    instrument(totals, matmuls);
    wall = (await timeSteps(step, { warmup: 0, minIters: iters, maxIters: iters, minSeconds: 0 })).reduce((a, b) => a + b, 0) / iters;
  } else {
    forward();
    forward();
    instrument(totals, matmuls);
    wall = timeStepsSync(forward, { warmup: 0, minIters: iters, maxIters: iters, minSeconds: 0 }).reduce((a, b) => a + b, 0) / iters;
  }

  const rows = [...totals].map(([key, t]) => ({ key, ms: t.ms / iters, calls: t.calls / iters })).sort((a, b) => b.ms - a.ms);
  const inOps = rows.reduce((s, r) => s + r.ms, 0);
  const byOp = new Map<string, number>();
  for (const r of rows) byOp.set(r.key.split(' ')[0], (byOp.get(r.key.split(' ')[0]) ?? 0) + r.ms);
  console.log(`${opts.model} ${size}px batch ${batch}, ${train ? 'training step' : 'eval'}; fused kernels ${nativeStatus().enabled ? 'on' : 'off'}`);
  console.log(`${train ? 'step' : 'forward'} ${wall.toFixed(1)} ms (${((1000 * batch) / wall).toFixed(0)} img/s): ${inOps.toFixed(1)} ms in ${rows.reduce((s, r) => s + r.calls, 0)} ops, ` +
    `${(wall - inOps).toFixed(1)} ms outside them`);
  console.log(`by op: ${[...byOp].sort((a, b) => b[1] - a[1]).map(([n, ms]) => `${n} ${ms.toFixed(1)}`).join(', ')}`);
  for (const r of rows.slice(0, Number(opts.top))) {
    console.log(`  ${r.key.padEnd(36)} ${r.ms.toFixed(2).padStart(7)} ms  ${r.calls}x ${(r.ms / r.calls * 1000).toFixed(0)} us`);
  }
  train?.dispose();
  tf.dispose([x, y]);
  model.dispose();
  if (opts.matmuls) compareMatmuls([...matmuls]);
}

void main();

/**
 * Median ms of each product alone, ours beside PyTorch's: hot (the same weight every call) and cold (cycling
 * through 64 MiB of weights, so each comes from memory, as in a forward pass: ConvNeXt-T's are 110 MB).
 * Ours is the kernel the forward pass runs: with the native kernels, CnxLinearGelu on pre-packed weights
 * (bias and GELU included); else tf.matMul. F.linear includes the bias.
 */
function compareMatmuls(shapes: string[]): void {
  const ops = nativeOps();
  const threads = os.cpus().length;
  const torch = findTorch();
  const theirs = torch ? torchLinears(torch, threads, shapes) : undefined;
  console.log(`\neach product alone (ours: ${ops ? 'CnxLinearGelu' : 'tf.matMul'}), median ms of 40, weight hot / cold; ` +
    `PyTorch ${torch ? `${torch.version} F.linear, ${threads} threads` : 'not found'}`);
  shapes.forEach((shape, i) => {
    const [m, k, n] = shape.split('x').map(Number);
    const a = tf.randomNormal([m, k]);
    const bias = tf.randomNormal([n]);
    const weights = Array.from({ length: Math.ceil((64 << 20) / (4 * k * n)) }, () => {
      const w = tf.tidy(() => tf.variable(tf.randomNormal([k, n])));
      const packed = new PackedWeight(w);
      if (ops) packed.get(); // laid out before timing, as the model does once
      return { w, packed };
    });
    const product = ({ w, packed }: (typeof weights)[number]) => (ops ? ops.linearGelu(a, packed.get(), bias) : tf.matMul(a, w));
    const medianMs = (pick: (call: number) => (typeof weights)[number], warmup: number) => {
      let call = 0;
      return median(timeStepsSync(() => product(pick(call++)).dispose(), { warmup, minIters: 40, maxIters: 40, minSeconds: 0 }));
    };
    const hot = medianMs(() => weights[0], 5);
    const cold = medianMs((call) => weights[call % weights.length], 0);
    const ms = (v: number) => v.toFixed(2).padStart(5);
    const vs = theirs
      ? `   PyTorch ${ms(theirs[i].hotMs)} / ${ms(theirs[i].coldMs)}   ours/PyTorch ${(hot / theirs[i].hotMs).toFixed(2)} / ${(cold / theirs[i].coldMs).toFixed(2)}`
      : '';
    console.log(`  ${shape.padEnd(14)} ours ${ms(hot)} / ${ms(cold)}${vs}`);
    for (const { w, packed } of weights) {
      packed.dispose();
      w.dispose();
    }
    tf.dispose([a, bias]);
  });
}
