/**
 * The eval-mode fast path keeps numerics: the fused depthwise conv + LayerNorm kernel against plain
 * TensorFlow.js ops, and the inference block and whole model against their training-mode forward (same
 * weights, drop path 0) and the plain-op path. Gradients taken in eval mode still flow (they take the
 * training-capable path).
 */
import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { Block } from '../../src/convnext/block';
import { ConvNeXt } from '../../src/convnext/convnext';
import { PackedWeight } from '../../src/nn/packed-weight';
import { NativeOps, withoutNativeOps } from '../../src/native';
import { det, relErr, setWeights } from '../fixtures/deterministic';
import { nativeOpsOrSkip } from '../fixtures/native';

describe('eval-mode fast path', function () {
  let ops: NativeOps;
  before(function () {
    ops = nativeOpsOrSkip(this);
  });

  it('depthwise conv + LayerNorm in one kernel matches the plain ops (channel tails, maps smaller than the kernel)', () => {
    for (const [shape, k] of [[[1, 9, 11, 32], 7], [[2, 5, 6, 40], 7], [[3, 2, 3, 20], 7], [[1, 4, 4, 16], 3]] as const) {
      tf.tidy(() => {
        const c = shape[3];
        const x = det([...shape], 1, 2, 0.3) as tf.Tensor4D;
        const filter = det([k, k, c, 1], 2, 0.2) as tf.Tensor4D;
        const [convBias, w, b] = [det([c], 3, 0.5), det([c], 4, 0.3, 1), det([c], 5, 0.2)];
        const d = tf.add(tf.depthwiseConv2d(x, filter, 1, 'same'), convBias);
        const { mean, variance } = tf.moments(d, 3, true);
        const plain = tf.add(tf.mul(tf.mul(tf.sub(d, mean), tf.rsqrt(tf.add(variance, 1e-6))), w), b).reshape([-1, c]);
        const fused = ops.depthwiseNorm(x, filter, convBias, w, b, 1e-6);
        assert.deepEqual(fused.shape, plain.shape);
        assert.ok(relErr(fused, plain) < 1e-5, `${shape} k=${k}: ${relErr(fused, plain)}`);
      });
    }
  });

  it('the packed-weight Linears match matmul + bias + GELU and + layer scale + residual (row and column tails)', () => {
    // (M, K, N): one row; a 12-row tile plus one; several row blocks with a 6-column last panel.
    for (const [m, k, n] of [[1, 5, 37], [13, 64, 32], [300, 512, 70]]) {
      const w = tf.variable(det([k, n], 21, 0.1));
      const packed = new PackedWeight(w);
      tf.tidy(() => {
        const x = det([m, k], 22, 1);
        const [b, g] = [det([n], 23, 0.5), det([n], 24, 0.5, 1)];
        const shortcut = det([m, n], 25, 1);
        const o = tf.add(tf.matMul(x, w), b);
        const wantGelu = tf.mul(tf.mul(o, 0.5), tf.add(1, tf.erf(tf.mul(o, Math.SQRT1_2))));
        const gotGelu = ops.linearGelu(x, packed.get(), b);
        assert.deepEqual(gotGelu.shape, [m, n]);
        assert.ok(relErr(gotGelu, wantGelu) < 1e-5, `gelu ${m}x${k}x${n}: ${relErr(gotGelu, wantGelu)}`);
        const wantRes = tf.add(shortcut, tf.mul(g, o));
        const gotRes = ops.linearScaleResidual(x, packed.get(), b, g, shortcut);
        assert.ok(relErr(gotRes, wantRes) < 1e-5, `residual ${m}x${k}x${n}: ${relErr(gotRes, wantRes)}`);
        assert.throws(() => ops.linearGelu(x, packed.get(), det([n + 32], 26)), /wp must be \[ceil\(N \/ 32\), K, 32\]/);
      });
      packed.dispose();
      w.dispose();
    }
  });

  it('re-lays out a Linear weight after it is assigned (training, loading weights), and not before', () => {
    const blk = new Block(32, { layerScaleInitValue: 0.5 }).eval();
    setWeights(blk.namedParameters());
    const x = det([1, 4, 4, 32], 27) as tf.Tensor4D;
    blk.forward(x).dispose();
    const tensors = tf.memory().numTensors;
    blk.forward(x).dispose();
    assert.equal(tf.memory().numTensors, tensors, 'the laid-out weights are reused');
    const [w1, w2] = tf.tidy(() => [tf.mul(blk.pwconv1.weight, -2), tf.add(blk.pwconv2.weight, 0.1)]);
    blk.pwconv1.weight.assign(w1);
    blk.pwconv2.weight.assign(w2);
    tf.dispose([w1, w2]);
    tf.tidy(() => {
      const inferred = blk.forward(x);
      const plain = withoutNativeOps(() => blk.forward(x));
      assert.ok(relErr(inferred, plain) < 1e-5, `after assign: ${relErr(inferred, plain)}`);
    });
    assert.equal(tf.memory().numTensors, tensors, 'the old layouts were freed');
    blk.dispose();
    x.dispose();
  });

  it('the inference block equals its training-mode forward (drop path 0) and the plain-op block', () => {
    // Both inference paths: the packed Linear kernels (AVX-512 builds) and TensorFlow's MatMul (others).
    const built = ops.packedLinear;
    const paths = ops as { packedLinear: boolean };
    try {
      for (const packed of [true, false]) {
        paths.packedLinear = packed;
        for (const dim of [32, 40]) {
          const blk = new Block(dim, { layerScaleInitValue: 0.5 });
          setWeights(blk.namedParameters());
          tf.tidy(() => {
            const x = det([2, 6, 5, dim], 7) as tf.Tensor4D;
            const trained = blk.train().forward(x);
            const inferred = blk.eval().forward(x);
            const plain = withoutNativeOps(() => blk.forward(x));
            const what = `dim ${dim}, packed Linears ${packed}`;
            assert.ok(relErr(inferred, trained) < 1e-5, `${what} vs train mode: ${relErr(inferred, trained)}`);
            assert.ok(relErr(inferred, plain) < 1e-5, `${what} vs plain ops: ${relErr(inferred, plain)}`);
          });
          blk.dispose();
        }
      }
    } finally {
      paths.packedLinear = built;
    }
  });

  it('a whole ConvNeXt gives the same logits in eval mode as in training mode with drop path 0', () => {
    const m = new ConvNeXt({ depths: [1, 1, 2, 1], dims: [16, 24, 32, 48], numClasses: 5, layerScaleInitValue: 0.5 });
    setWeights(m.namedParameters());
    tf.tidy(() => {
      const x = det([2, 32, 32, 3], 11) as tf.Tensor4D;
      const trained = m.train().forward(x);
      const inferred = m.eval().forward(x);
      assert.ok(relErr(inferred, trained) < 1e-5, `${relErr(inferred, trained)}`);
    });
    m.dispose();
  });

  it('gradients taken in eval mode still reach the input and parameters', () => {
    const blk = new Block(16, { layerScaleInitValue: 0.5 }).eval();
    setWeights(blk.namedParameters());
    tf.tidy(() => {
      const x = det([1, 4, 4, 16], 13) as tf.Tensor4D;
      const loss = (xi: tf.Tensor) => tf.sum(tf.square(blk.forward(xi as tf.Tensor4D)));
      const dx = tf.grad(loss)(x);
      const dxPlain = withoutNativeOps(() => tf.grad(loss)(x));
      assert.ok(relErr(dx, dxPlain) < 1e-4);
      const { grads } = tf.variableGrads(() => loss(x) as tf.Scalar, [blk.pwconv1.weight]);
      assert.ok(tf.max(tf.abs(grads[blk.pwconv1.weight.name])).dataSync()[0] > 0);
    });
    blk.dispose();
  });
});
