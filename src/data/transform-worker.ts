/** Entry point of a DataLoader transform worker (see ./transform-pool): jobs in, host batches out. */
import { parentPort, workerData } from 'worker_threads';

import { batchTransformFromSpec, sampleTransformFromSpec } from '../augment/transforms';
import { finishBatch, transformSample, type BatchRecipe } from './collate';
import type { WorkerJob, WorkerReply, WorkerSetup } from './transform-pool';

const setup = workerData as WorkerSetup;
const recipe: BatchRecipe = {
  seed: setup.seed,
  numClasses: setup.numClasses,
  normalize: setup.normalize,
  transform: setup.sample && sampleTransformFromSpec(setup.sample),
  batchTransform: setup.batch && batchTransformFromSpec(setup.batch),
};
const port = parentPort!;

/** A sample's transform failure, tagged with the sample's file so the parent can name it. */
class SampleError extends Error {
  constructor(
    override readonly cause: Error,
    readonly file: string | undefined,
  ) {
    super(cause.message);
    this.name = cause.name;
    this.stack = cause.stack;
  }
}

port.on('message', async (job: WorkerJob) => {
  try {
    const samples = await Promise.all(job.samples.map(async (s, i) => {
      try {
        return await transformSample(s, job.indices[i], job.epoch, recipe);
      } catch (e) {
        throw new SampleError(e instanceof Error ? e : new Error(String(e)), s.path);
      }
    }));
    const host = finishBatch(samples, job.indices, job, recipe);
    port.postMessage({ id: job.id, host } satisfies WorkerReply, [...new Set([host.x.buffer, host.y.buffer])] as ArrayBuffer[]);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const file = err instanceof SampleError ? err.file : undefined;
    port.postMessage({
      id: job.id,
      error: { name: err.name, message: err.message || String(e), stack: err.stack, ...(file ? { file } : {}) },
    } satisfies WorkerReply);
  }
});
