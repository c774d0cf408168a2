/** Entry point of a DataLoader transform worker (see ./transform-pool): jobs in, host batches out. */
import * as fs from 'fs';
import * as os from 'os';
import { parentPort, workerData } from 'worker_threads';

import { batchTransformFromSpec, sampleTransformFromSpec } from '../augment/transforms';
import { finishBatch, transformSample, type BatchRecipe } from './collate';
import type { WorkerJob, WorkerReply, WorkerSetup } from './transform-pool';

/**
 * Lowers this thread to the lowest scheduling priority (Linux: nice is per thread, set through the thread
 * id). TensorFlow splits each op across all cores; a worker competing for one of them makes that half of
 * every op late, so training slows by more than the worker's share. At low priority the worker uses the
 * time the step leaves idle, and gets whole cores whenever training waits for it.
 */
function runInBackground(): void {
  try {
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    os.setPriority(tid, os.constants.priority.PRIORITY_LOW);
  } catch {
    // Not Linux, or not allowed: the worker keeps normal priority.
  }
}

const setup = workerData as WorkerSetup;
if (setup.background) runInBackground();
const recipe: BatchRecipe = {
  seed: setup.seed,
  numClasses: setup.numClasses,
  normalize: setup.normalize,
  transform: setup.sample && sampleTransformFromSpec(setup.sample),
  batchTransform: setup.batch && batchTransformFromSpec(setup.batch),
};
const port = parentPort!;

port.on('message', async (job: WorkerJob) => {
  try {
    const samples = await Promise.all(job.samples.map((s, i) => transformSample(s, job.indices[i], job.epoch, recipe)));
    const host = finishBatch(samples, job.indices, job, recipe);
    port.postMessage({ id: job.id, host } satisfies WorkerReply, [...new Set([host.x.buffer, host.y.buffer])] as ArrayBuffer[]);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    port.postMessage({ id: job.id, error: { name: err.name, message: err.message } } satisfies WorkerReply);
  }
});
