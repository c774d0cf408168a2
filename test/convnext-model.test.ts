import { strict as assert } from 'assert';
import { tf } from '../src/backend';
import { ConvNeXt, createModel, dropPathRates, listModels } from '../src/convnext';

const small = { depths: [1, 1, 2, 1], dims: [8, 16, 24, 32], numClasses: 5 };

describe('ConvNeXt model', () => {
  it('lists every family variant', () => {
    for (const v of ['atto', 'femto', 'pico', 'nano', 'tiny', 'small', 'base', 'large', 'xlarge']) {
      assert.ok(listModels().includes(`convnext_${v}`), v);
    }
  });

  it('rejects unknown model names, listing the known ones', () => {
    assert.throws(() => createModel('convnext_huge'), /unknown model "convnext_huge"\. Known models: .*convnext_tiny/);
  });

  it('stochastic depth rises linearly from 0 to the rate over all blocks (torch.linspace)', () => {
    const r = dropPathRates([1, 1, 2, 1], 0.4);
    assert.deepEqual(r.map((x) => +x.toFixed(10)), [0, 0.1, 0.2, 0.3, 0.4]);
    const m = new ConvNeXt({ ...small, dropPathRate: 0.4 });
    const blockRates = m.stages.flatMap((s) => s.layers.map((b) => (b as unknown as { dropPathRate: number }).dropPathRate));
    assert.deepEqual(blockRates.map((x) => +x.toFixed(10)), [0, 0.1, 0.2, 0.3, 0.4]);
    m.dispose();
  });

  it('initialises as the official code: zero biases, unit LayerNorms, gamma = 1e-6, head scaled', () => {
    const m = new ConvNeXt({ ...small, headInitScale: 0.001 });
    for (const [name, p] of m.namedParameters()) {
      const v = p.dataSync();
      if (name.endsWith('.gamma')) assert.ok(v.every((x) => Math.abs(x - 1e-6) < 1e-12), name);
      else if (name.endsWith('bias')) assert.ok(v.every((x) => x === 0), name);
    }
    const head = Array.from(m.head.weight.dataSync());
    const std = Math.sqrt(head.reduce((s, x) => s + x * x, 0) / head.length);
    assert.ok(std > 0.02 * 0.001 * 0.5 && std < 0.02 * 0.001 * 1.5, `head std ${std}`);
    m.dispose();
  });

  it('maps an NHWC batch at any size divisible by 32 to logits, in eval and train mode', () => {
    const m = new ConvNeXt({ ...small, dropPathRate: 0.2 });
    for (const size of [32, 64, 96]) {
      const y = tf.tidy(() => m.forward(tf.randomNormal([2, size, size, 3])));
      assert.deepEqual(y.shape, [2, 5]);
      y.dispose();
    }
    const x = tf.randomNormal([3, 32, 32, 3]) as tf.Tensor4D;
    const a = m.eval().forward(x);
    const b = m.eval().forward(x);
    assert.deepEqual(a.arraySync(), b.arraySync(), 'eval mode is deterministic');
    tf.dispose([a, b, x]);
    m.dispose();
  });

  it('rejects inputs not divisible by the total stride or with the wrong channel count', () => {
    const m = new ConvNeXt(small);
    assert.throws(() => m.forward(tf.zeros([1, 48, 48, 3])), /48x48 is not divisible by this ConvNeXt's total stride 32/);
    assert.throws(() => m.forward(tf.zeros([1, 32, 32, 1])), /input has 1 channels, model expects 3/);
    m.dispose();
  });

  it('leaks no tensors in forward passes', () => {
    const m = new ConvNeXt({ ...small, dropPathRate: 0.1 });
    const x = tf.randomNormal([2, 32, 32, 3]) as tf.Tensor4D;
    m.forward(x).dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) m.forward(x).dispose();
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
    m.dispose();
  });
});
