import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import {
  ModernResNet, ModernResNetConfig, RESNET18, ROADMAP, buildModernResNet, complexity, roadmapStep, smallScale,
} from '../../src/convnext';
import { loadState, nhwc, readForward, slice } from '../fixtures/roadmap/load';

const { manifest, data } = readForward();

function smallConfig(name: string): ModernResNetConfig {
  const base = name === 'resnet18' ? RESNET18 : roadmapStep(name).config;
  return {
    ...smallScale(base, { widthMultiplier: manifest.widthMultiplier, numClasses: manifest.numClasses }),
    depths: manifest.depths,
  };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('roadmap: forward passes match PyTorch (small widths, 32x32, random weights and statistics)', () => {
  for (const ref of manifest.models) {
    it(`${ref.name}: logits in eval mode (running stats) and train mode (batch stats)`, () => {
      const model = new ModernResNet(smallConfig(ref.name));
      loadState(model, data, ref.state);
      const x = nhwc(data, manifest.input);
      model.eval();
      const evalOut = model.forward(x);
      assert.ok(maxAbsDiff(evalOut.dataSync(), slice(data, ref.eval)) < 1e-4, 'eval logits');
      model.train();
      const trainOut = model.forward(x);
      assert.ok(maxAbsDiff(trainOut.dataSync(), slice(data, ref.train)) < 1e-4, 'train logits');
      tf.dispose([x, evalOut, trainOut]);
      model.dispose();
    });
  }
});

describe('roadmap: the 32x32 adaptation', () => {
  it('both stems take 32x32 to 16x16, so stages run at 16, 8, 4, 2 for every step', () => {
    for (const step of ROADMAP) {
      const c = smallScale(step.config, { widthMultiplier: 1 / 8, numClasses: 10 });
      const m = buildModernResNet({ ...c, depths: [1, 1, 1, 1] });
      const x = tf.zeros([2, 32, 32, 3]) as tf.Tensor4D;
      if (m instanceof ModernResNet) {
        const stem = m.forwardStem(x);
        assert.deepEqual(stem.shape, [2, 16, 16, c.stemChannels], step.id);
        stem.dispose();
      } else {
        assert.equal(m.totalStride, 16, step.id);
      }
      const y = m.forward(x);
      assert.deepEqual(y.shape, [2, 10], step.id);
      tf.dispose([x, y]);
      m.dispose();
    }
  });

  it('scales every width by the multiplier and keeps depths and kernels', () => {
    const c = smallScale(roadmapStep('09-kernel-7').config, { widthMultiplier: 1 / 4, numClasses: 10 });
    assert.deepEqual(c.dims, [24, 48, 96, 192]);
    assert.equal(c.stemChannels, 24);
    assert.equal(c.stemStride, 2);
    assert.deepEqual(c.depths, [3, 3, 9, 3]);
    assert.equal(c.kernelSize, 7);
    const m = buildModernResNet(c);
    assert.equal(complexity(m, 32).outputShape[2], 10);
    m.dispose();
  });

  it('leaks no tensors across training-mode forward passes', () => {
    const m = buildModernResNet({ ...smallConfig('01-resnet50'), dropPathRate: 0.1 });
    const x = tf.randomNormal([2, 32, 32, 3]) as tf.Tensor4D;
    m.forward(x).dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) m.forward(x).dispose();
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
    m.dispose();
  });
});
