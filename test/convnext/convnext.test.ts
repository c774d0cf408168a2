import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { ConvNeXt, complexity, createModel, dropPathRates, listModels, makeDivisible } from '../../src/convnext';

const small = { depths: [1, 1, 2, 1], dims: [8, 16, 24, 32], numClasses: 5 };

describe('ConvNeXt model', () => {
  it('lists every family variant', () => {
    for (const v of ['atto', 'femto', 'pico', 'nano', 'tiny', 'small', 'base', 'large', 'xlarge']) {
      assert.ok(listModels().includes(`convnext_${v}`), v);
    }
  });

  it('rejects unknown model names, suggesting the closest known ones', () => {
    assert.throws(() => createModel('convnext_huge'), /unknown model "convnext_huge" \(did you mean [^)]*convnext_base[^)]*\?\); .* shows all \d+/);
    assert.throws(() => createModel('resnet_50'), /unknown model "resnet_50" \(did you mean resnet50/);
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

  it('overlapping stems: stride 4, timm\'s parameter layout and channel widths, MACs by hand', () => {
    // 32x32 input: 3x3 stride-2 conv to 16x16 with `mid` channels, 3x3 stride-2 conv to 8x8x32, LayerNorm.
    const cases = [
      { stemType: 'overlap', mid: 32, names: ['0.weight', '0.bias', '1.weight', '1.bias', '2.weight', '2.bias'] },
      { stemType: 'overlap_tiered', mid: 16, names: ['0.weight', '0.bias', '1.weight', '1.bias', '2.weight', '2.bias'] },
      { stemType: 'overlap_act', mid: 32, names: ['0.weight', '0.bias', '2.weight', '2.bias', '3.weight', '3.bias'] },
    ] as const;
    for (const c of cases) {
      const m = new ConvNeXt({ depths: [1, 1], dims: [32, 48], numClasses: 5, stemType: c.stemType });
      assert.equal(m.totalStride, 8);
      const stem = m.namedParameters().filter(([n]) => n.startsWith('downsample_layers.0.'));
      assert.deepEqual(stem.map(([n]) => n.slice('downsample_layers.0.'.length)), c.names, c.stemType);
      assert.deepEqual(stem[0][1].shape, [3, 3, 3, c.mid]);
      const macs = complexity(m, 32).macsByScope.get('downsample_layers.0');
      assert.equal(macs, 16 * 16 * 27 * c.mid + 8 * 8 * 9 * c.mid * 32, c.stemType);
      const y = m.forward(tf.zeros([2, 32, 32, 3]));
      assert.deepEqual(y.shape, [2, 5]);
      y.dispose();
      m.dispose();
    }
    assert.throws(() => new ConvNeXt({ ...small, stemType: 'conv' as never }), /unknown stem type "conv"/);
  });

  it('makeDivisible rounds channel counts as timm\'s make_divisible', () => {
    // timm: max(8, int(v + 4) // 8 * 8), plus 8 when that is below 0.9 v.
    assert.deepEqual([4, 12, 20, 64, 100].map((v) => makeDivisible(v)), [8, 16, 24, 64, 104]);
  });
});
