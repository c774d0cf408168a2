/** SE's BatchNorm option: the study's SE (BatchNorm on the recalibrated map, the default) and the canonical one without it. */
import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { SqueezeExcite } from '../../src/nn/squeeze-excite';
import { createModel, STUDY_EXTENSION_NAMES, studyPresetLabel } from '../../src/convnext';

describe('SqueezeExcite: batchNorm option', () => {
  it('the canonical SE (batchNorm: false) is x · sigmoid(fc2(relu(fc1(avgpool x)))), with no bn parameters', () => {
    const se = new SqueezeExcite(32, { reduction: 8, batchNorm: false });
    const names = se.namedParameters().map(([n]) => n);
    assert.deepEqual(names.sort(), ['fc1.bias', 'fc1.weight', 'fc2.bias', 'fc2.weight']);
    const x = tf.randomNormal([2, 5, 5, 32], 0, 1, 'float32', 7) as tf.Tensor4D;
    const y = se.train(true).forward(x);
    const expected = tf.tidy(() => tf.mul(x, tf.reshape(se.excitation(x), [2, 1, 1, 32])));
    assert.ok(tf.max(tf.abs(tf.sub(y, expected))).dataSync()[0] < 1e-6);
    tf.dispose([x, y, expected]);
    se.dispose();
  });

  it('the study\'s SE (default) adds a BatchNorm2d: 2·C more parameters, and its train-mode output is normalised', () => {
    const withBn = new SqueezeExcite(32, { reduction: 8 });
    const without = new SqueezeExcite(32, { reduction: 8, batchNorm: false });
    assert.equal(withBn.numParams() - without.numParams(), 64);
    assert.ok(withBn.namedParameters().some(([n]) => n === 'bn.weight'));
    const x = tf.add(tf.mul(tf.randomNormal([4, 6, 6, 32], 0, 1, 'float32', 3), 3), 5) as tf.Tensor4D;
    const y = withBn.train(true).forward(x);
    const mean = tf.mean(y, [0, 1, 2]);
    assert.ok(tf.max(tf.abs(mean)).dataSync()[0] < 1e-4, 'per-channel batch mean ≈ 0');
    tf.dispose([x, y, mean]);
    withBn.dispose();
    without.dispose();
  });

  it('the extension preset se_plain_ff builds the +SE&FF model with canonical SE blocks', () => {
    assert.ok(STUDY_EXTENSION_NAMES.includes('se_plain_ff'));
    assert.equal(studyPresetLabel('se_plain_ff'), '+SE&FF (SE without BN)');
    const study = createModel('study_mini_se_ff', { numClasses: 5 });
    const plain = createModel('study_mini_se_plain_ff', { numClasses: 5 });
    const bnOf = (m: typeof study) => m.namedParameters().map(([n]) => n).filter((n) => /attn\.bn\./.test(n));
    assert.ok(bnOf(study).length > 0);
    assert.deepEqual(bnOf(plain), []);
    // Blocks: 1+1+2+1 = 5, each SE's BN has weight and bias over its block's width (24, 48, 96, 96, 192).
    assert.equal(study.numParams() - plain.numParams(), 2 * (24 + 48 + 96 + 96 + 192));
    for (const name of ['study_mini_dynamic_k4', 'study_mini_ff_concat']) {
      const m = createModel(name, { numClasses: 5 });
      const y = tf.tidy(() => m.forward(tf.zeros([2, 32, 32, 3])));
      assert.deepEqual(y.shape, [2, 5]);
      y.dispose();
      m.dispose();
    }
    study.dispose();
    plain.dispose();
  });
});
