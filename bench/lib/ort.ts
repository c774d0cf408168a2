/**
 * The ONNX Runtime side of the bench: our model exported by `exportOnnx` (src/convnext/onnx/export.ts),
 * run by `onnxruntime-node` in this process with the bench's thread count, sequential execution and every
 * graph optimisation, as a Node.js user deploying it would. Inference only. Before timing, the session runs
 * the bench's check input and its logits are compared with ours for the same weights, so that what is
 * timed is the same network.
 */
import * as fs from 'fs';
import type * as OrtModule from 'onnxruntime-node';
import { timeSteps, timingStats, type TimingOptions, type TimingStats } from '../../src/util/timing';
import type { ModelCase } from './ours';

/** Relative tolerance of the logits check: max |ours − ORT| ≤ this × max(1, max |ours|). */
export const ORT_CHECK_TOLERANCE = 1e-4;

export interface OrtCase extends Omit<ModelCase, 'name'> {
  /** The .onnx file of the check model (writeCheckFiles with `onnx: true`). */
  onnx: string;
  threads: number;
  /** Raw float32 NHWC check input and our eval-mode logits for it. */
  checkInput: string;
  checkLogits: string;
}

export interface OrtResult extends TimingStats {
  version: string;
  /** Session options: intra-op threads (the bench's --threads), inter-op threads, optimisation, execution mode. */
  intraOpThreads: number;
  interOpThreads: number;
  graphOptimizationLevel: string;
  executionMode: string;
  opset?: number;
  /** max |ours − ORT| of the logits for the check input, and max |ours| (the scale). */
  checkMaxAbsDiff: number;
  checkMaxAbsLogit: number;
  /** checkMaxAbsDiff ≤ ORT_CHECK_TOLERANCE × max(1, checkMaxAbsLogit). */
  checkOk: boolean;
}

let ortModule: typeof OrtModule | undefined;

/** onnxruntime-node, loaded on first use (undefined when it does not load here). */
export function loadOrt(): typeof OrtModule | undefined {
  if (ortModule) return ortModule;
  try {
    ortModule = require('onnxruntime-node') as typeof OrtModule;
  } catch {
    return undefined;
  }
  return ortModule;
}

export function ortVersion(): string | undefined {
  return loadOrt()?.env.versions?.node;
}

/** NHWC → NCHW float32. */
export function toNchw(nhwc: Float32Array, n: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(nhwc.length);
  const hw = h * w;
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < hw; p++) {
      for (let k = 0; k < c; k++) out[(b * c + k) * hw + p] = nhwc[(b * hw + p) * c + k];
    }
  }
  return out;
}

function readF32(file: string): Float32Array {
  const buf = fs.readFileSync(file);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** An ONNX Runtime session with the bench's options, kept open across a case's rounds. */
export class OrtPeer {
  private constructor(
    private readonly ort: typeof OrtModule,
    private readonly session: OrtModule.InferenceSession,
    private readonly c: OrtCase,
    readonly check: { maxAbsDiff: number; maxAbsLogit: number; ok: boolean },
  ) {}

  static readonly OPTIONS = { interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' } as const;

  /** Opens the session and runs the logits check (untimed). */
  static async open(c: OrtCase): Promise<OrtPeer> {
    const ort = loadOrt();
    if (!ort) throw new Error('onnxruntime-node does not load');
    const session = await ort.InferenceSession.create(c.onnx, { ...OrtPeer.OPTIONS, intraOpNumThreads: c.threads });
    try {
      const x = readF32(c.checkInput);
      const n = x.length / (c.size * c.size * 3);
      const out = await session.run({ input: new ort.Tensor('float32', toNchw(x, n, c.size, c.size, 3), [n, 3, c.size, c.size]) });
      const got = out.logits.data as Float32Array;
      const want = readF32(c.checkLogits);
      if (got.length !== want.length) throw new Error(`ORT gives ${got.length} logits, ours ${want.length}`);
      let maxAbsDiff = 0;
      let maxAbsLogit = 0;
      for (let i = 0; i < want.length; i++) {
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs(got[i] - want[i]));
        maxAbsLogit = Math.max(maxAbsLogit, Math.abs(want[i]));
      }
      const ok = maxAbsDiff <= ORT_CHECK_TOLERANCE * Math.max(1, maxAbsLogit);
      return new OrtPeer(ort, session, c, { maxAbsDiff, maxAbsLogit, ok });
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  /** Times `session.run` on one random NCHW batch (the logits read back are already in JS memory). */
  async time(t: TimingOptions): Promise<number[]> {
    const { batch, size } = this.c;
    const data = Float32Array.from({ length: batch * 3 * size * size }, () => Math.random() * 2 - 1);
    const feeds = { input: new this.ort.Tensor('float32', data, [batch, 3, size, size]) };
    return timeSteps(async () => {
      const out = await this.session.run(feeds);
      void (out.logits.data as Float32Array)[0];
    }, t);
  }

  /** Step statistics of all rounds together, with the session's settings and the logits check. */
  result(timesMs: number[], opset?: number): OrtResult {
    return {
      ...timingStats(timesMs, this.c.batch),
      version: ortVersion() ?? 'unknown',
      intraOpThreads: this.c.threads,
      interOpThreads: OrtPeer.OPTIONS.interOpNumThreads,
      graphOptimizationLevel: OrtPeer.OPTIONS.graphOptimizationLevel,
      executionMode: OrtPeer.OPTIONS.executionMode,
      ...(opset !== undefined ? { opset } : {}),
      checkMaxAbsDiff: this.check.maxAbsDiff,
      checkMaxAbsLogit: this.check.maxAbsLogit,
      checkOk: this.check.ok,
    };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
