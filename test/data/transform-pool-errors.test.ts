/** An error in a loader worker reaches the caller with its name, its message and the file it came from. */
import { strict as assert } from 'assert';

import { buildEvalTransform } from '../../src/augment/transforms';
import { DataLoader, type Dataset } from '../../src/data';
import type { Sample } from '../../src/image/sample';
import { tf } from '../../src/backend';

/** Item 1 claims 40x40 pixels but carries 10 bytes: the resize in the worker rejects it. */
const broken: Dataset = {
  length: 3,
  classes: ['a', 'b'],
  async get(i: number): Promise<Sample> {
    const h = 40;
    const w = 40;
    const image = i === 1 ? new Uint8Array(10) : new Uint8Array(h * w * 3).fill(i * 50);
    return { image, height: h, width: w, channels: 3, label: i % 2, path: `/data/item-${i}.png` };
  },
};

describe('data: transform worker errors', function () {
  this.timeout(60_000);

  for (const workers of [1, 0]) {
    it(`names the file and keeps the reason (workers: ${workers})`, async () => {
      const loader = new DataLoader({ dataset: broken, batchSize: 3, transform: buildEvalTransform({ inputSize: 16, cropPct: 0.875 }), workers });
      try {
        await assert.rejects(async () => {
          for await (const b of loader) tf.dispose([b.x, b.y]);
        }, (err: Error) => {
          if (workers > 0) assert.match(err.message, /\/data\/item-1\.png/);
          assert.match(err.message, /resize: 10 bytes for a 40x40 RGB image/);
          assert.doesNotMatch(err.message, /Unknown error/);
          return true;
        });
      } finally {
        await loader.close();
      }
    });
  }
});
