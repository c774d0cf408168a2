/**
 * Fused CPU kernels for ConvNeXt (convnext_ops.cc), compiled on first use and registered as TensorFlow
 * ops inside the libtensorflow that tfjs-node runs. They replace the many-op compositions of LayerNorm,
 * bias + exact GELU and bias + layer scale + drop path + residual (one memory pass each instead of 3-10,
 * forward and backward), the depthwise conv with its LayerNorm and its backward pass, and at inference the
 * block's two Linears with their epilogues — where the time went when profiling ConvNeXt against PyTorch (bench/).
 *
 * Available only on the tfjs-node CPU backend with a C++ compiler (g++, or $CXX) and Node's headers;
 * everywhere else `nativeOps()` is undefined and the layers use plain TensorFlow.js ops with the same
 * numerics. `CONVNEXT_NATIVE=0` turns the kernels off. The build (~3 s) is cached in
 * `.cache/native/`, keyed by the source, compiler flags, Node version and CPU.
 */
import * as fs from 'fs';
import * as path from 'path';
import { backendInfo, tf } from '../backend';
import { buildAddon } from './build';

const SOURCE = path.join(__dirname, 'convnext_ops.cc');

interface TfjsNodeBackend {
  binding: { TF_ATTR_FLOAT: number; TF_ATTR_INT: number; TF_ATTR_BOOL: number; TF_ATTR_TYPE: number; TF_ATTR_STRING: number; TF_FLOAT: number };
  executeMultipleOutputs(name: string, attrs: unknown[], inputs: tf.Tensor[], numOutputs: number): tf.Tensor[];
}

/** The fused kernels; every function takes and returns float32 tensors tracked by tf.tidy. */
export interface NativeOps {
  /** LayerNorm over the last axis of x + biasIn: y as [rows, C], and per-row mean and 1/std for the backward pass. */
  layerNorm(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, biasIn: tf.Tensor, eps: number): [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
  /**
   * Inference only (no gradient): LayerNorm(w, b) over the channels of the k x k depthwise conv of x (stride 1,
   * 'same' padding) + convBias, in one pass; [rows, C], ready for the next Linear's matmul.
   */
  depthwiseNorm(x: tf.Tensor4D, filter: tf.Tensor, convBias: tf.Tensor, w: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor2D;
  /**
   * `depthwiseNorm` for training: also the norm's per-row mean and 1/std and the conv output before its bias
   * (what `layerNormGrad` and `depthwiseResidualBackward` read).
   */
  depthwiseNormTrain(x: tf.Tensor4D, filter: tf.Tensor, convBias: tf.Tensor, w: tf.Tensor, b: tf.Tensor, eps: number):
    [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.Tensor4D];
  /**
   * The depthwise conv's backward pass given dConv, its output's gradient: dy + the input gradient (dy is the
   * residual's gradient, added in the same pass) and the filter gradient [k, k, C, 1].
   */
  depthwiseResidualBackward(dy: tf.Tensor, dConv: tf.Tensor, x: tf.Tensor4D, filter: tf.Tensor): [tf.Tensor4D, tf.Tensor4D];
  /** The k x k depthwise conv of x alone (stride 1, 'same' padding), filter [k, k, C, 1]. */
  depthwise(x: tf.Tensor4D, filter: tf.Tensor): tf.Tensor4D;
  /** Gradients of `depthwise` for x and the filter, given dConv, its output's gradient. */
  depthwiseBackward(dConv: tf.Tensor, x: tf.Tensor4D, filter: tf.Tensor): [tf.Tensor4D, tf.Tensor4D];
  /** Each sample's k x k depthwise conv (stride 1, 'same' padding) with its own filter, filters [N, k, k, C]. */
  depthwisePerSample(x: tf.Tensor4D, filters: tf.Tensor4D): tf.Tensor4D;
  /** Gradients of `depthwisePerSample` for x and the filters, given its output's gradient dy. */
  depthwisePerSampleBackward(dy: tf.Tensor, x: tf.Tensor4D, filters: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D];
  /** Gradients of `layerNorm` for x, w, b and biasIn. */
  layerNormGrad(dy: tf.Tensor, x: tf.Tensor, w: tf.Tensor, biasIn: tf.Tensor, mean: tf.Tensor1D, rstd: tf.Tensor1D):
    [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
  /** gelu(a + b), exact erf form, b broadcast over the last axis. */
  biasGelu(a: tf.Tensor, b: tf.Tensor): tf.Tensor;
  /** Gradients of `biasGelu` for a and b. */
  biasGeluGrad(dy: tf.Tensor, a: tf.Tensor, b: tf.Tensor): [tf.Tensor, tf.Tensor1D];
  /** x + s[n] * gamma * (o + b): bias, layer scale, per-sample drop-path scale s and the residual add. */
  scaleResidual(x: tf.Tensor, o: tf.Tensor, b: tf.Tensor, gamma: tf.Tensor, s: tf.Tensor1D): tf.Tensor;
  /** Gradients of `scaleResidual` for o, b and gamma (x's is dy itself). */
  scaleResidualGrad(dy: tf.Tensor, o: tf.Tensor, b: tf.Tensor, gamma: tf.Tensor, s: tf.Tensor1D): [tf.Tensor, tf.Tensor1D, tf.Tensor1D];
  /**
   * TensorFlow's 2-D MatMul op. tf.matMul always runs BatchMatMulV2, which oneDNN serves up to 2x
   * slower for ConvNeXt's [N*H*W, C] x [C, 4C] shapes. No gradient is recorded: for custom-gradient code.
   */
  matMul(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor2D;
  /** Whether linearGelu and linearScaleResidual beat MatMul + biasGelu / scaleResidual here (AVX-512 builds). */
  readonly packedLinear: boolean;
  /**
   * Inference: gelu(x w + b) as [rows, N], for x [.., K] and w [K, N] given as PackedWeight's panels
   * wp [ceil(N / 32), K, 32]; matmul, bias and exact GELU in one kernel.
   */
  linearGelu(x: tf.Tensor, wp: tf.Tensor3D, b: tf.Tensor): tf.Tensor2D;
  /** Inference: shortcut + gamma * (h w + b), shaped like shortcut, w as in linearGelu; one kernel. */
  linearScaleResidual(h: tf.Tensor, wp: tf.Tensor3D, b: tf.Tensor, gamma: tf.Tensor, shortcut: tf.Tensor): tf.Tensor;
  /** Every tensor's values in order as one flat vector (no per-tensor reshape ops). */
  flatConcat(ts: tf.Tensor[]): tf.Tensor1D;
  /**
   * One torch.optim.AdamW step over all parameters in one memory pass: the new parameters and moments.
   * g, m and v are flat over `params` in order; coef [N, 2] holds each parameter's decay factor
   * 1 - lr·lrScale·wd and step size lr·lrScale / (1 - β1ᵗ); hyper is [β1, β2, ε, √(1 - β2ᵗ)].
   */
  adamW(params: tf.Tensor[], g: tf.Tensor1D, m: tf.Tensor1D, v: tf.Tensor1D, coef: tf.Tensor2D, hyper: tf.Tensor1D):
    { params: tf.Tensor[]; m: tf.Tensor1D; v: tf.Tensor1D };
}

export interface NativeStatus {
  enabled: boolean;
  /** Why the kernels are off, or where the addon came from. */
  detail: string;
  threads?: number;
}

let loaded: { ops?: NativeOps; status: NativeStatus } | undefined;
let suspended = 0;

/** The fused kernels when they can run here, else undefined (callers fall back to plain ops). */
export function nativeOps(): NativeOps | undefined {
  if (suspended > 0) return undefined;
  loaded ??= load();
  return loaded.ops;
}

/**
 * Runs `fn` on the plain-op code paths, e.g. to compare them with the fused kernels. An async `fn` keeps
 * them off until its promise settles (for everything running meanwhile too).
 */
export function withoutNativeOps<T>(fn: () => T): T {
  suspended++;
  let result: T;
  try {
    result = fn();
  } catch (err) {
    suspended--;
    throw err;
  }
  if (result instanceof Promise) return result.finally(() => { suspended--; }) as T;
  suspended--;
  return result;
}

export function nativeStatus(): NativeStatus {
  loaded ??= load();
  return loaded.status;
}

function off(detail: string): { status: NativeStatus } {
  return { status: { enabled: false, detail } };
}

function load(): { ops?: NativeOps; status: NativeStatus } {
  if (process.env.CONVNEXT_NATIVE === '0') return off('disabled by CONVNEXT_NATIVE=0');
  const backend = backendInfo().name;
  if (backend !== 'node') return off(`backend ${backend} (the kernels need tfjs-node on the CPU)`);
  try {
    const file = build();
    const addon = require(file) as { error: string; threads: number; packedLinear: boolean };
    if (addon.error) return off(`registering the ops failed: ${addon.error}`);
    const ops = wrap(tf.backend() as unknown as TfjsNodeBackend, addon.packedLinear);
    return { ops, status: { enabled: true, detail: file, threads: addon.threads } };
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0];
    if (process.env.CONVNEXT_NATIVE === '1') throw new Error(`CONVNEXT_NATIVE=1 but the fused kernels failed: ${msg}`);
    process.emitWarning(`convnext-ts: fused CPU kernels unavailable (${msg}); using plain TensorFlow.js ops`);
    return off(msg);
  }
}

function tensorflowLibDir(): string {
  const pkg = path.dirname(require.resolve('@tensorflow/tfjs-node/package.json'));
  const dir = path.join(pkg, 'deps', 'lib');
  if (!fs.existsSync(path.join(dir, 'libtensorflow_framework.so.2'))) {
    throw new Error(`libtensorflow_framework.so.2 not found in ${dir}`);
  }
  return dir;
}

/** The fused kernels' addon, linked against the libtensorflow_framework that tfjs-node loads. */
function build(): string {
  const libDir = tensorflowLibDir();
  return buildAddon({
    name: 'convnext_ops', source: SOURCE,
    link: [`-L${libDir}`, '-l:libtensorflow_framework.so.2', `-Wl,-rpath,${libDir}`],
    keyFiles: [path.join(libDir, 'libtensorflow_framework.so.2')],
  });
}

function wrap(backend: TfjsNodeBackend, packedLinear: boolean): NativeOps {
  const run = (name: string, inputs: tf.Tensor[], n: number, attrs: unknown[] = []) =>
    backend.executeMultipleOutputs(name, attrs, inputs, n);
  return {
    packedLinear,
    layerNorm: (x, w, b, biasIn, eps) => {
      const eAttr = { name: 'eps', type: backend.binding.TF_ATTR_FLOAT, value: eps };
      return run('CnxLayerNorm', [x, w, b, biasIn], 3, [eAttr]) as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
    },
    layerNormGrad: (dy, x, w, biasIn, mean, rstd) =>
      run('CnxLayerNormGrad', [dy, x, w, biasIn, mean, rstd], 4) as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D],
    biasGelu: (a, b) => run('CnxBiasGelu', [a, b], 1)[0],
    biasGeluGrad: (dy, a, b) => run('CnxBiasGeluGrad', [dy, a, b], 2) as [tf.Tensor, tf.Tensor1D],
    scaleResidual: (x, o, b, gamma, s) => run('CnxScaleResidual', [x, o, b, gamma, s], 1)[0],
    scaleResidualGrad: (dy, o, b, gamma, s) =>
      run('CnxScaleResidualGrad', [dy, o, b, gamma, s], 3) as [tf.Tensor, tf.Tensor1D, tf.Tensor1D],
    matMul: (a, b, transposeA, transposeB) => run('MatMul', [a, b], 1, [
      { name: 'T', type: backend.binding.TF_ATTR_TYPE, value: backend.binding.TF_FLOAT },
      { name: 'transpose_a', type: backend.binding.TF_ATTR_BOOL, value: transposeA },
      { name: 'transpose_b', type: backend.binding.TF_ATTR_BOOL, value: transposeB },
    ])[0] as tf.Tensor2D,
    depthwiseNorm: (x, filter, convBias, w, b, eps) => run('CnxDepthwiseNorm', [x, filter, convBias, w, b], 1,
      [{ name: 'eps', type: backend.binding.TF_ATTR_FLOAT, value: eps }])[0] as tf.Tensor2D,
    depthwiseNormTrain: (x, filter, convBias, w, b, eps) => run('CnxDepthwiseNormTrain', [x, filter, convBias, w, b], 4,
      [{ name: 'eps', type: backend.binding.TF_ATTR_FLOAT, value: eps }]) as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.Tensor4D],
    depthwiseResidualBackward: (dy, dConv, x, filter) =>
      run('CnxDepthwiseResidualBackward', [dy, dConv, x, filter], 2) as [tf.Tensor4D, tf.Tensor4D],
    depthwise: (x, filter) => run('CnxDepthwise', [x, filter], 1)[0] as tf.Tensor4D,
    depthwiseBackward: (dConv, x, filter) => run('CnxDepthwiseBackward', [dConv, x, filter], 2) as [tf.Tensor4D, tf.Tensor4D],
    depthwisePerSample: (x, filters) => run('CnxDepthwisePerSample', [x, filters], 1)[0] as tf.Tensor4D,
    depthwisePerSampleBackward: (dy, x, filters) =>
      run('CnxDepthwisePerSampleBackward', [dy, x, filters], 2) as [tf.Tensor4D, tf.Tensor4D],
    flatConcat: (ts) => run('CnxFlatConcat', ts, 1, [{ name: 'N', type: backend.binding.TF_ATTR_INT, value: ts.length }])[0] as tf.Tensor1D,
    adamW: (params, g, m, v, coef, hyper) => {
      const n = params.length;
      const out = run('CnxAdamW', [...params, g, m, v, coef, hyper], n + 2,
        [{ name: 'N', type: backend.binding.TF_ATTR_INT, value: n }]);
      return { params: out.slice(0, n), m: out[n] as tf.Tensor1D, v: out[n + 1] as tf.Tensor1D };
    },
    linearGelu: (x, wp, b) => run('CnxLinearGelu', [x, wp, b], 1)[0] as tf.Tensor2D,
    linearScaleResidual: (h, wp, b, gamma, shortcut) => run('CnxLinearScaleResidual', [h, wp, b, gamma, shortcut], 1)[0],
  };
}
