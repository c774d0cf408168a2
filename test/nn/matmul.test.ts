/** matMul2d (the 2-D MatMul op with its own gradient) against tf.matMul's product and autodiff gradients. */
import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { withoutNativeOps } from '../../src/native';
import { matMul2d } from '../../src/nn/matmul';
import { det, relErr } from '../fixtures/deterministic';
import { nativeOpsOrSkip } from '../fixtures/native';

describe('matMul2d', function () {
  before(function () {
    nativeOpsOrSkip(this);
  });

  it('gives tf.matMul\'s product and the gradients of both factors', () => {
    tf.tidy(() => {
      const a = det([37, 24], 1) as tf.Tensor2D;
      const b = det([24, 11], 2) as tf.Tensor2D;
      const dz = det([37, 11], 3);
      const loss = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(matMul2d(x as tf.Tensor2D, y as tf.Tensor2D), dz));
      const fused = tf.grads(loss)([a, b]);
      const plain = withoutNativeOps(() => tf.grads(loss)([a, b]));
      assert.ok(relErr(matMul2d(a, b), tf.matMul(a, b)) < 1e-6);
      // The references by hand: d/da = dz bᵀ, d/db = aᵀ dz.
      assert.ok(relErr(fused[0], tf.matMul(dz, b, false, true)) < 1e-6);
      assert.ok(relErr(fused[1], tf.matMul(a, dz, true, false)) < 1e-6);
      fused.forEach((g, i) => assert.ok(relErr(g, plain[i]) < 1e-6, `gradient ${i}`));
    });
  });
});
