import { strict as assert } from 'assert';
import * as path from 'path';

import { tf } from '../../src/backend';
import { augmentConfig, buildBatchTransform, buildTrainTransform } from '../../src/augment';
import { DataLoader, ImageFolder, type Batch } from '../../src/data';
import { makeImageFolder, tempDir } from '../fixtures/data/make';
import { NO_NORM } from "../../src/image";

async function collect(loader: DataLoader): Promise<{ shapes: number[][]; indices: number[][]; x: number[][] }> {
  const out = { shapes: [] as number[][], indices: [] as number[][], x: [] as number[][] };
  for await (const b of loader) {
    out.shapes.push([...b.x.shape, ...b.y.shape]);
    out.indices.push(Array.from(b.indices));
    out.x.push(Array.from(b.x.dataSync()));
    tf.dispose([b.x, b.y]);
  }
  return out;
}

describe('data: DataLoader', () => {
  let root: string;
  let ds: ImageFolder;
  before(async () => {
    root = path.join(tempDir(), 'folder');
    await makeImageFolder(root, { a: 4, b: 3, c: 3 }, 4); // 10 images, 4x4
    ds = new ImageFolder(root);
  });

  it('batches shapes, one-hot targets and normalised pixels', async () => {
    const loader = new DataLoader({ dataset: ds, batchSize: 4, normalize: NO_NORM });
    assert.equal(loader.numBatches, 3); // ceil(10 / 4)
    const batches: Batch[] = [];
    for await (const b of loader) batches.push(b);
    assert.deepEqual(batches.map((b) => b.x.shape), [[4, 4, 4, 3], [4, 4, 4, 3], [2, 4, 4, 3]]);
    assert.deepEqual(batches.map((b) => b.y.shape), [[4, 3], [4, 3], [2, 3]]);
    // Unshuffled: items 0-3 are class a, 4-6 b, 7-9 c; batch 1 = items 4..7 → labels b,b,b,c.
    assert.deepEqual(Array.from(batches[1].labels), [1, 1, 1, 2]);
    assert.deepEqual(Array.from(batches[1].y.dataSync()), [0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1]);
    // Item 5 = class b (c=1) image 1 → red 11, green 10, blue 200; NO_NORM maps v → v / 255.
    const px = batches[1].x.dataSync().slice(16 * 3, 16 * 3 + 3);
    assert.ok(Math.abs(px[0] - 11 / 255) < 1e-6 && Math.abs(px[1] - 10 / 255) < 1e-6 && Math.abs(px[2] - 200 / 255) < 1e-6);
    for (const b of batches) tf.dispose([b.x, b.y]);
  });

  it('drops the last partial batch with dropLast', async () => {
    const loader = new DataLoader({ dataset: ds, batchSize: 4, dropLast: true });
    assert.equal(loader.numBatches, 2);
    assert.deepEqual((await collect(loader)).shapes.map((s) => s[0]), [4, 4]);
  });

  it('ImageNet normalisation by default', async () => {
    const loader = new DataLoader({ dataset: ds, batchSize: 10 });
    const { x } = await collect(loader);
    // item 0: red 0 → (0 - 0.485) / 0.229; blue 200 → (200/255 - 0.406) / 0.225
    assert.ok(Math.abs(x[0][0] - -0.485 / 0.229) < 1e-5);
    assert.ok(Math.abs(x[0][2] - (200 / 255 - 0.406) / 0.225) < 1e-5);
  });

  it('shuffles per epoch, reproducibly from (seed, epoch), and resumes mid-epoch', async () => {
    const mk = (): DataLoader => new DataLoader({ dataset: ds, batchSize: 3, shuffle: true, seed: 7, prefetch: 3 });
    const a = mk();
    const e0 = (await collect(a)).indices;
    a.setEpoch(1);
    const e1 = (await collect(a)).indices;
    assert.deepEqual(e0.flat().sort((p, q) => p - q), [...Array(10).keys()]); // a permutation
    assert.notDeepEqual(e0, e1);
    const b = mk();
    b.setEpoch(1);
    assert.deepEqual((await collect(b)).indices, e1);
    b.setEpoch(1, 2); // resume at batch 2 of epoch 1
    assert.deepEqual((await collect(b)).indices, e1.slice(2));
    const other = new DataLoader({ dataset: ds, batchSize: 3, shuffle: true, seed: 8 });
    assert.notDeepEqual((await collect(other)).indices, e0);
  });

  it('augmentation draws depend only on (seed, epoch, index): same pixels on rerun and on resume', async () => {
    const cfg = augmentConfig({ inputSize: 4, reprob: 0.5 });
    const mk = (prefetch: number): DataLoader =>
      new DataLoader({
        dataset: ds,
        batchSize: 4,
        shuffle: true,
        seed: 3,
        prefetch,
        transform: buildTrainTransform(cfg),
        batchTransform: buildBatchTransform(cfg, 3),
      });
    const a = mk(0);
    a.setEpoch(2);
    const full = await collect(a);
    const b = mk(3); // different prefetch depth: decode completion order differs, draws must not
    b.setEpoch(2, 1);
    const resumed = await collect(b);
    assert.deepEqual(resumed.x, full.x.slice(1));
    a.setEpoch(3);
    assert.notDeepEqual((await collect(a)).x, full.x);
  });

  it('mixup / smoothing targets from the batch transform sum to 1 per row', async () => {
    const cfg = augmentConfig({ inputSize: 4, randAugment: '' });
    const loader = new DataLoader({ dataset: ds, batchSize: 5, transform: buildTrainTransform(cfg), batchTransform: buildBatchTransform(cfg, 3) });
    for await (const b of loader) {
      const y = b.y.arraySync();
      for (const row of y) assert.ok(Math.abs(row.reduce((p, q) => p + q, 0) - 1) < 1e-5);
      assert.ok(y.flat().every((v) => v >= 0.1 / 3 - 1e-6), 'smoothing keeps every entry >= 0.1 / K');
      tf.dispose([b.x, b.y]);
    }
  });

  it('keeps the tensor count flat across epochs, also when an epoch is cut short', async () => {
    const loader = new DataLoader({ dataset: ds, batchSize: 2, shuffle: true, prefetch: 2 });
    const before = tf.memory().numTensors;
    for (let e = 0; e < 3; e++) {
      loader.setEpoch(e);
      for await (const b of loader) tf.dispose([b.x, b.y]);
      assert.equal(tf.memory().numTensors, before);
    }
    for await (const b of loader) {
      tf.dispose([b.x, b.y]);
      break; // prefetched host batches are plain arrays: nothing to leak
    }
    assert.equal(tf.memory().numTensors, before);
  });

  it('rejects bad options and mismatched image sizes clearly', async () => {
    assert.throws(() => new DataLoader({ dataset: ds, batchSize: 0 }), /batchSize/);
    assert.throws(() => new DataLoader({ dataset: ds, batchSize: 11, dropLast: true }), /no batch/);
    const mixed = {
      length: 2,
      classes: ['x'],
      get: async (i: number) => ({ image: new Uint8Array((i + 1) * (i + 1) * 3), height: i + 1, width: i + 1, channels: 3 as const, label: 0 }),
    };
    const loader = new DataLoader({ dataset: mixed, batchSize: 2 });
    await assert.rejects(collect(loader), /cannot batch a 2x2 image .* with 1x1/);
  });

  it('regression datasets give [B, 1] targets', async () => {
    const reg = {
      length: 3,
      classes: [],
      get: async (i: number) => ({ image: new Uint8Array(12), height: 2, width: 2, channels: 3 as const, label: 12.5 * i }),
    };
    const loader = new DataLoader({ dataset: reg, batchSize: 3 });
    for await (const b of loader) {
      assert.deepEqual(b.y.shape, [3, 1]);
      assert.deepEqual(Array.from(b.y.dataSync()), [0, 12.5, 25]);
      assert.ok(b.labels instanceof Float32Array);
      tf.dispose([b.x, b.y]);
    }
  });
});
