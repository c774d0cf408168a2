import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { tf } from '../../src/backend';
import { augmentConfig, buildBatchTransform, buildCropPadTransform, buildEvalTransform, buildTrainTransform } from '../../src/augment';
import { DataLoader, ImageFolder, InMemoryDataset, type Dataset } from '../../src/data';
import { defaultWorkers } from '../../src/data/transform-pool';
import { transforms } from '../../src/train/run-config';
import { evalLoader, trainLoader } from '../../src/train/loaders';
import { makeImageFolder, tempDir } from '../fixtures/data/make';
import { Rng } from "../../src/util";

/** Every batch of one iteration as raw bytes (x, y) plus indices, tensors disposed. */
async function bytes(loader: DataLoader): Promise<{ x: Buffer[]; y: Buffer[]; indices: number[][] }> {
  const out = { x: [] as Buffer[], y: [] as Buffer[], indices: [] as number[][] };
  for await (const b of loader) {
    out.x.push(Buffer.from(b.x.dataSync().buffer));
    out.y.push(Buffer.from(b.y.dataSync().buffer));
    out.indices.push(Array.from(b.indices));
    tf.dispose([b.x, b.y]);
  }
  return out;
}

/** Noise images of varying sizes, so every augmentation has something to move. */
function noiseDataset(n: number, classes: string[], labels?: number[]): InMemoryDataset {
  const rng = new Rng(11);
  const heights = Int32Array.from({ length: n }, (_, i) => 20 + (i % 3) * 4);
  const widths = Int32Array.from({ length: n }, (_, i) => 24 + (i % 2) * 6);
  let total = 0;
  for (let i = 0; i < n; i++) total += heights[i] * widths[i] * 3;
  const pixels = Uint8Array.from({ length: total }, () => rng.int(0, 256));
  const targets = Float64Array.from(labels ?? Array.from({ length: n }, (_, i) => i % classes.length));
  return new InMemoryDataset(classes, targets, heights, widths, pixels, Array.from({ length: n }, (_, i) => `img-${i}.png`));
}

/**
 * Counts worker threads started and alive by wrapping worker_threads.Worker (the pool looks it up when it
 * starts a worker), while `fn` runs. OS thread counts are no good here: threads of earlier tests come and go.
 */
async function countingWorkers<T>(
  fn: (alive: () => number, started: () => number, allExited: () => Promise<void>) => Promise<T>,
): Promise<T> {
  const wt = require('worker_threads') as typeof import('worker_threads');
  const Original = wt.Worker;
  let alive = 0;
  let started = 0;
  let exits: Promise<void>[] = [];
  wt.Worker = class extends Original {
    constructor(...args: ConstructorParameters<typeof Original>) {
      super(...args);
      alive++;
      started++;
      exits.push(new Promise((resolve) => this.once('exit', () => { alive--; resolve(); })));
    }
  };
  try {
    return await fn(() => alive, () => started, async () => {
      await Promise.all(exits);
      exits = [];
    });
  } finally {
    wt.Worker = Original;
  }
}

describe('data: DataLoader worker threads', () => {
  const ds = noiseDataset(14, ['a', 'b', 'c']);
  const cfg = augmentConfig({ inputSize: 16, reprob: 0.5 });

  it('gives byte-for-byte the batches of the in-process path, on every epoch and on resume', async () => {
    const setups: Array<[string, Partial<ConstructorParameters<typeof DataLoader>[0]>]> = [
      ['paper train recipe', { transform: buildTrainTransform(cfg), batchTransform: buildBatchTransform(cfg, 3) }],
      ['pad-and-crop', { transform: buildCropPadTransform(augmentConfig({ inputSize: 20, randAugment: 'rand-m9-n2' }), 4) }],
      ['eval', { transform: buildEvalTransform(cfg) }],
    ];
    for (const [name, t] of setups) {
      const mk = (workers: number): DataLoader =>
        new DataLoader({ dataset: ds, batchSize: 4, shuffle: true, seed: 5, dropLast: name !== 'eval', workers, ...t });
      const inProcess = mk(0);
      for (const workers of [1, 2]) {
        const threaded = mk(workers);
        for (const [epoch, start] of [[0, 0], [1, 0], [1, 2]]) {
          inProcess.setEpoch(epoch, start);
          threaded.setEpoch(epoch, start);
          const [want, got] = [await bytes(inProcess), await bytes(threaded)];
          assert.ok(want.x.length > 0);
          assert.deepEqual(got.indices, want.indices, `${name}, ${workers} workers, epoch ${epoch}`);
          assert.ok(got.x.every((x, i) => x.equals(want.x[i])), `${name}: x differs with ${workers} workers, epoch ${epoch}`);
          assert.ok(got.y.every((y, i) => y.equals(want.y[i])), `${name}: y differs with ${workers} workers, epoch ${epoch}`);
        }
      }
    }
  });

  it('uses workers by default only for transforms they can rebuild', () => {
    const train = buildTrainTransform(cfg);
    assert.ok(new DataLoader({ dataset: ds, batchSize: 4, transform: train }).workers >= 1);
    assert.equal(new DataLoader({ dataset: ds, batchSize: 4 }).workers, 0);
    const custom = (s: Awaited<ReturnType<Dataset['get']>>) => s;
    assert.equal(new DataLoader({ dataset: ds, batchSize: 4, transform: custom }).workers, 0);
    assert.throws(() => new DataLoader({ dataset: ds, batchSize: 4, transform: custom, workers: 1 }), /cannot be sent to a thread/);
    assert.throws(() => new DataLoader({ dataset: ds, batchSize: 4, workers: -1 }), /workers must be/);
    assert.throws(() => new DataLoader({ dataset: ds, batchSize: 4, workerIdleMs: -5 }), /workerIdleMs must be/);
  });

  it('the training paths (fit, runFromConfig, pad-and-crop too) get workers', () => {
    const n = defaultWorkers();
    assert.equal(trainLoader({ dataset: ds, augment: { inputSize: 16 } }, 4, 0).workers, n);
    assert.equal(evalLoader({ dataset: ds, augment: { inputSize: 16 } }, 4).workers, n);
    const t = transforms({ inputSize: 16, cropPadding: 2 }, 3);
    for (const transform of [t.train, t.eval]) {
      assert.equal(new DataLoader({ dataset: ds, batchSize: 4, transform, batchTransform: t.batch }).workers, n);
    }
  });

  it('surfaces a corrupt image and an error inside a worker as the in-process error, naming the file', async () => {
    const root = path.join(tempDir(), 'folder');
    await makeImageFolder(root, { a: 3, b: 3 }, 8);
    const bad = path.join(root, 'b', '001.png');
    fs.writeFileSync(bad, 'not an image');
    const folder = new ImageFolder(root);
    const badLabel = noiseDataset(6, ['a', 'b'], [0, 1, 0, 7, 1, 0]);
    for (const [dataset, pattern] of [[folder, /cannot decode image .*b\/001\.png/], [badLabel, /label 7 of img-3\.png is not a class index < 2/]] as const) {
      const errors: Error[] = [];
      for (const workers of [0, 1]) {
        const loader = new DataLoader({ dataset, batchSize: 2, transform: buildEvalTransform(augmentConfig({ inputSize: 8 })), workers });
        await assert.rejects(bytes(loader), (e: Error) => (errors.push(e), true));
      }
      assert.match(errors[0].message, pattern);
      assert.equal(errors[1].message, errors[0].message);
      assert.equal(errors[1].name, errors[0].name);
    }
  });

  it('keeps its threads from one epoch to the next, ends them when idle, cut short or closed, and leaks no tensors', async () => {
    const loader = new DataLoader({ dataset: ds, batchSize: 2, transform: buildTrainTransform(cfg), workers: 2, workerIdleMs: 300 });
    const tensors = tf.memory().numTensors;
    await countingWorkers(async (alive, started, allExited) => {
      await bytes(loader);
      loader.setEpoch(1);
      await bytes(loader);
      assert.equal(started(), 2, 'the second epoch reuses the first epoch\'s two workers');
      assert.equal(alive(), 2, 'workers wait for the next epoch');
      await allExited();
      assert.equal(alive(), 0, 'no worker left once idle for workerIdleMs');
      for await (const b of loader) {
        assert.equal(alive(), 2, 'two worker threads while iterating');
        tf.dispose([b.x, b.y]);
        break;
      }
      await allExited();
      assert.equal(alive(), 0, 'no worker left after breaking out of an epoch');
      // The trainer breaks out after an epoch's last batch: nothing is in flight, so the workers stay.
      let seen = 0;
      for await (const b of loader) {
        tf.dispose([b.x, b.y]);
        if (++seen === loader.numBatches) break;
      }
      assert.equal(alive(), 2, 'workers kept after breaking at the last batch');
      await loader.close();
      assert.equal(alive(), 0, 'no worker left after close()');
      assert.equal(started(), 6);
    });
    assert.equal(tf.memory().numTensors, tensors);
  });

  it('lets a script carry on after breaking out of an epoch with batches in flight (no early exit, no hang)', () => {
    // Nothing but the closing workers keeps this process alive while the iterator returns.
    const script = `
      const { augmentConfig, buildTrainTransform } = require('./src/augment');
      const { DataLoader, InMemoryDataset } = require('./src/data');
      const ds = new InMemoryDataset(['a'], new Float64Array(64), new Int32Array(64).fill(32), new Int32Array(64).fill(32), new Uint8Array(64 * 32 * 32 * 3));
      const loader = new DataLoader({ dataset: ds, batchSize: 4, prefetch: 6, workers: 1, transform: buildTrainTransform(augmentConfig({ inputSize: 32 })) });
      (async () => {
        const it = loader[Symbol.asyncIterator]();
        const first = await it.next();
        first.value.x.dispose(); first.value.y.dispose();
        // A busy main thread (a training step): finished batches queue up unread before the iterator returns.
        for (const t = Date.now(); Date.now() - t < 1000;);
        await it.return();
        console.log('carried on');
      })();`;
    const r = spawnSync(process.execPath, ['-r', 'tsx/cjs', '-e', script], { cwd: path.join(__dirname, '..', '..'), encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /carried on/);
  });
});
