import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { BatchNorm2d } from "../../src/nn";

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-5): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `index ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

/**
 * Two channels over a 2x1x2 batch (n = 4 values a channel), NHWC order [c0, c1, c0, c1, ...].
 * Channel 0: 1, 2, 3, 6 → mean 3, biased var 3.5, unbiased var 14/3.
 * Channel 1: 0, 0, 4, 4 → mean 2, biased var 4, unbiased var 16/3.
 */
const X = [1, 0, 2, 0, 3, 4, 6, 4];
const input = () => tf.tensor4d(X, [2, 1, 2, 2]);

describe('BatchNorm2d (hand-computed, PyTorch semantics)', () => {
  it('registers weight, bias and the running_mean/running_var buffers; only weight and bias count', () => {
    const bn = new BatchNorm2d(3);
    assert.deepEqual(bn.namedParameters().map(([n, p]) => [n, p.trainable]),
      [['weight', true], ['bias', true], ['running_mean', false], ['running_var', false]]);
    assert.equal(bn.numParams(), 6);
    close(bn.runningVar.dataSync(), [1, 1, 1]);
    bn.dispose();
  });

  it('normalises with batch statistics in training and updates running stats with momentum 0.1', () => {
    const bn = new BatchNorm2d(2);
    bn.weight.assign(tf.tensor1d([2, 1]));
    bn.bias.assign(tf.tensor1d([0, 1]));
    const y = bn.forward(input());
    const s0 = 2 / Math.sqrt(3.5 + 1e-5);
    const s1 = 1 / Math.sqrt(4 + 1e-5);
    close(y.dataSync(), [
      (1 - 3) * s0, (0 - 2) * s1 + 1, (2 - 3) * s0, (0 - 2) * s1 + 1,
      (3 - 3) * s0, (4 - 2) * s1 + 1, (6 - 3) * s0, (4 - 2) * s1 + 1,
    ]);
    close(bn.runningMean.dataSync(), [0.3, 0.2]);
    close(bn.runningVar.dataSync(), [0.9 + 0.1 * 14 / 3, 0.9 + 0.1 * 16 / 3]);
    // A second step on the same batch moves the averages another 10% of the way.
    bn.forward(input()).dispose();
    close(bn.runningMean.dataSync(), [0.3 * 0.9 + 0.3, 0.2 * 0.9 + 0.2]);
    y.dispose();
    bn.dispose();
  });

  it('uses the running statistics in eval and leaves them unchanged', () => {
    const bn = new BatchNorm2d(2, { eps: 1e-3 });
    bn.runningMean.assign(tf.tensor1d([1, -1]));
    bn.runningVar.assign(tf.tensor1d([4, 0.25]));
    bn.eval();
    const y = bn.forward(input());
    const s0 = 1 / Math.sqrt(4 + 1e-3);
    const s1 = 1 / Math.sqrt(0.25 + 1e-3);
    close(y.dataSync(), X.map((v, i) => (i % 2 === 0 ? (v - 1) * s0 : (v + 1) * s1)));
    close(bn.runningMean.dataSync(), [1, -1]);
    y.dispose();
    bn.dispose();
  });

  it('passes gradients through the batch statistics in training (sum of outputs is constant in x)', () => {
    const bn = new BatchNorm2d(2);
    const g = tf.grad((x: tf.Tensor) => bn.forward(x as tf.Tensor4D).sum())(input());
    close(g.dataSync(), new Array(8).fill(0), 1e-4);
    bn.eval();
    const ge = tf.grad((x: tf.Tensor) => bn.forward(x as tf.Tensor4D).sum())(input());
    const expected = 1 / Math.sqrt(bn.runningVar.dataSync()[0] + 1e-5);
    assert.ok(Math.abs(ge.dataSync()[0] - expected) < 1e-5);
    tf.dispose([g, ge]);
    bn.dispose();
  });

  it('does not leak tensors in training mode', () => {
    const bn = new BatchNorm2d(2);
    const x = input();
    bn.forward(x).dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) bn.forward(x).dispose();
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
    bn.dispose();
  });

  it('rejects inputs with the wrong channel count', () => {
    const bn = new BatchNorm2d(3);
    const x = input();
    assert.throws(() => bn.forward(x), /BatchNorm2d\(3\) expects an NHWC tensor with 3 channels/);
    x.dispose();
    bn.dispose();
  });
});
