import { strict as assert } from 'assert';

import { tf } from '../../src/backend';
import { Linear } from '../../src/nn/linear';
import { ModelEma } from '../../src/train/ema';

describe('ModelEma (timm ModelEmaV2)', () => {
  it('starts as a copy and moves by (1 − decay) towards the live weights each update', async () => {
    const m = new Linear(2, 1);
    m.weight.assign(tf.tensor2d([[1], [2]]));
    m.bias.assign(tf.tensor1d([0]));
    const ema = new ModelEma(m, 0.9);
    m.weight.assign(tf.tensor2d([[11], [12]]));
    ema.update(); // 0.9·1 + 0.1·11 = 2, 0.9·2 + 0.1·12 = 3
    m.weight.assign(tf.tensor2d([[2], [3]]));
    ema.update(); // 0.9·2 + 0.1·2 = 2, 0.9·3 + 0.1·3 = 3
    const st = ema.state();
    assert.deepEqual(Array.from(st['weight']).map((x) => +x.toFixed(5)), [2, 3]);
    // withWeights swaps the averages in and restores the live weights afterwards.
    const inside = await ema.withWeights(() => Array.from(m.weight.dataSync()));
    assert.deepEqual(inside.map((x) => +x.toFixed(5)), [2, 3]);
    assert.deepEqual(Array.from(m.weight.dataSync()), [2, 3]);
    m.weight.assign(tf.tensor2d([[7], [7]]));
    await ema.withWeights(() => undefined);
    assert.deepEqual(Array.from(m.weight.dataSync()), [7, 7]);
    ema.dispose();
    m.dispose();
  });

  it('state round-trips and update leaks no tensors', () => {
    const m = new Linear(3, 2);
    const ema = new ModelEma(m, 0.9999);
    ema.update();
    const before = tf.memory().numTensors;
    ema.update();
    assert.equal(tf.memory().numTensors, before);
    const other = new ModelEma(m, 0.9999);
    m.weight.assign(tf.zerosLike(m.weight));
    other.loadState(ema.state());
    assert.deepEqual(other.state(), ema.state());
    assert.throws(() => other.loadState({ weight: new Float32Array(1) }), /EMA state for weight/);
    ema.dispose();
    other.dispose();
    m.dispose();
  });
});
