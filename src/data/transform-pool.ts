/**
 * Worker threads that turn samples into host batches (per-sample transform, collate, batch transform).
 * tfjs-node runs every op synchronously on the main thread, so augmentation done there waits for the
 * training step and the step for it; in workers the two overlap. Workers rebuild the transforms from
 * their descriptions (../augment/spec) and run the same code as the in-process path, so batches are
 * byte-for-byte the same.
 */
import * as os from 'os';
import { Worker } from 'worker_threads';

import type { BatchSpec, SampleSpec } from '../augment/spec';
import type { BatchPlace } from './collate';

import type { Normalization } from '../image/normalize';
import type { HostBatch } from '../image/batch';
import type { Sample } from '../image/sample';

/** What a worker needs to rebuild the loader's recipe (structured-cloneable). */
export interface WorkerSetup {
  seed: number;
  numClasses: number;
  normalize: Normalization;
  sample?: SampleSpec;
  batch?: BatchSpec;
}

export interface WorkerJob extends BatchPlace {
  id: number;
  samples: Sample[];
  indices: Int32Array;
}

/** A worker's failure as it crosses the thread boundary: the sample's file when one sample's transform failed. */
export interface WorkerError {
  name: string;
  message: string;
  stack?: string;
  file?: string;
}

export type WorkerReply = { id: number; host: HostBatch } | { id: number; error: WorkerError };

interface Pending {
  resolve: (h: HostBatch) => void;
  reject: (e: Error) => void;
  worker: Worker;
}

/** One worker per core the TensorFlow step leaves, at most 4. */
export function defaultWorkers(): number {
  return Math.max(1, Math.min(4, os.availableParallelism() - 1));
}

// Workers start without the parent's require hooks: tsx compiles the TypeScript worker as it loads.
const BOOT = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(require.resolve('./transform-worker'))});`;

export class TransformPool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, Pending>();
  private readonly busy = new Map<Worker, number>();
  private nextId = 0;
  private closed = false;
  private failed = false;

  constructor(size: number, setup: WorkerSetup) {
    this.workers = Array.from({ length: size }, () => {
      const w = new Worker(BOOT, { eval: true, workerData: setup });
      w.on('message', (r: WorkerReply) => this.settle(r));
      w.on('error', (e) => this.failAll(w, e));
      w.on('exit', (code) => this.failAll(w, new Error(`a DataLoader transform worker exited (code ${code})`)));
      // Idle workers never keep the process alive, so an abandoned iterator cannot hang it.
      w.unref();
      this.busy.set(w, 0);
      return w;
    });
  }

  /** Transforms and collates one batch in a worker. */
  run(samples: Sample[], indices: Int32Array, at: BatchPlace): Promise<HostBatch> {
    if (this.closed) return Promise.reject(new Error('TransformPool is closed'));
    const id = this.nextId++;
    const worker = this.workers[id % this.workers.length];
    // Own copies: a view into a dataset's big buffer would clone the whole buffer.
    const copies = samples.map((s) => ({ ...s, image: s.image.slice() }));
    const job: WorkerJob = { id, epoch: at.epoch, b: at.b, samples: copies, indices };
    return new Promise<HostBatch>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker });
      this.track(worker, +1);
      worker.postMessage(job, copies.map((s) => s.image.buffer as ArrayBuffer));
    });
  }

  /** Terminates the workers; batches still in flight are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private settle(r: WorkerReply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    this.track(p.worker, -1);
    if ('host' in r) {
      p.resolve(r.host);
    } else {
      p.reject(workerError(r.error));
    }
  }

  /** False once closed or once a worker has died: the loader then starts a new pool. */
  get usable(): boolean {
    return !this.closed && !this.failed;
  }

  private failAll(worker: Worker, err: Error): void {
    this.failed = true;
    for (const [id, p] of this.pending) {
      if (p.worker !== worker) continue;
      this.pending.delete(id);
      this.track(worker, -1);
      p.reject(this.closed ? new Error('TransformPool closed with batches in flight') : err);
    }
  }

  private track(worker: Worker, delta: number): void {
    const n = this.busy.get(worker)! + delta;
    this.busy.set(worker, n);
    // A closing worker stays referenced (terminate() refs it) so that its exit resolves close().
    if (n === 0 && !this.closed) worker.unref();
    else if (n === 1 && delta > 0) worker.ref();
  }
}

/**
 * The parent-side Error for a worker's failure: its name and message, the file of the sample whose
 * transform failed (in the message and as `file`), and the worker's stack under DEBUG.
 */
export function workerError(e: WorkerError): Error & { file?: string } {
  const reason = e.message || `${e.name || 'Error'} without a message`;
  const err: Error & { file?: string } = new Error(e.file ? `${e.file}: ${reason}` : reason);
  err.name = e.name || 'Error';
  if (e.file) err.file = e.file;
  if (e.stack) err.stack = `${err.name}: ${err.message}\n    in a DataLoader worker:\n${e.stack.split('\n').slice(1).join('\n')}`;
  return err;
}
