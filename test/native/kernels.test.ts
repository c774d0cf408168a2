/**
 * The speed work keeps numerics: every fused CPU kernel (src/native) against the plain TensorFlow.js
 * ops it replaces, forward and backward; the fused ConvNeXt block and whole model against the plain-op
 * path; drop path under the fused block; and no tensor growth across training steps.
 */
import { strict as assert } from 'assert';
import { tf } from '../../src/backend';
import { Block } from '../../src/convnext/block';
import { gelu } from '../../src/nn/activation';
import { Conv2d } from '../../src/nn/conv';
import { DynamicConv2d } from '../../src/nn/dynamic-conv';
import { Module } from '../../src/nn/module';
import { ConvNeXt } from '../../src/convnext/convnext';
import { NativeOps, withoutNativeOps } from '../../src/native';
import { det, relErr, setWeights } from '../fixtures/deterministic';
import { nativeOpsOrSkip } from '../fixtures/native';
import { softTargetCrossEntropy } from '../../src/train/loss';
import { AdamW } from '../../src/train/adamw';
import { buildParamGroups } from '../../src/train/param-groups';
import { withSeed } from '../../src/train/seed';

function plainLayerNorm(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, bi: tf.Tensor): tf.Tensor {
  const v = tf.add(x, bi);
  const { mean, variance } = tf.moments(v, v.rank - 1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(v, mean), tf.rsqrt(tf.add(variance, 1e-6))), w), b);
}

function plainGelu(h: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(h, 0.5), tf.add(tf.erf(tf.mul(h, Math.SQRT1_2)), 1));
}

/**
 * The loss and every parameter gradient of `m` with the native kernels and with plain ops: asserts each gradient
 * within `gradTol` (relErr) of the plain one and returns both losses.
 */
function compareWithPlain(m: Module, loss: () => tf.Scalar, gradTol: number): { fused: number; plain: number } {
  const run = () => tf.variableGrads(loss, m.parameters());
  const fused = run();
  const plain = withoutNativeOps(run);
  for (const [name, p] of m.namedParameters()) {
    const e = relErr(fused.grads[p.name], plain.grads[p.name]);
    assert.ok(e < gradTol, `${name}: ${e}`);
  }
  const losses = { fused: fused.value.dataSync()[0], plain: plain.value.dataSync()[0] };
  tf.dispose([fused.value, plain.value, ...Object.values(fused.grads), ...Object.values(plain.grads)]);
  return losses;
}

describe('fused CPU kernels (src/native)', function () {
  let ops: NativeOps;
  before(function () {
    ops = nativeOpsOrSkip(this);
  });

  it('LayerNorm (with a folded-in input bias) matches the plain ops, forward and all four gradients', () => {
    tf.tidy(() => {
      const x = det([3, 5, 7, 40], 1, 2, 0.5);
      const w = det([40], 2, 0.5, 1);
      const b = det([40], 3, 0.3);
      const bi = det([40], 4, 0.4);
      const dy = det(x.shape, 5);
      const [y, mean, rstd] = ops.layerNorm(x, w, b, bi, 1e-6);
      assert.deepEqual(y.shape, [3 * 5 * 7, 40]);
      assert.ok(relErr(y, plainLayerNorm(x, w, b, bi).reshape([-1, 40])) < 1e-5);
      const ref = tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor, e: tf.Tensor) => plainLayerNorm(a, c, d, e))([x, w, b, bi], dy);
      const got = ops.layerNormGrad(dy, x, w, bi, mean, rstd);
      got.forEach((g, i) => assert.ok(relErr(g, ref[i]) < 1e-4, `gradient ${i}: ${relErr(g, ref[i])}`));
    });
  });

  it('bias + exact GELU matches 0.5 x (1 + erf(x / sqrt 2)), forward and gradients', () => {
    tf.tidy(() => {
      const a = det([37, 96], 6, 3);
      const b = det([96], 7, 1);
      const dy = det(a.shape, 8);
      assert.ok(relErr(ops.biasGelu(a, b), plainGelu(tf.add(a, b))) < 1e-5);
      const [ga, gb] = tf.grads((p: tf.Tensor, q: tf.Tensor) => plainGelu(tf.add(p, q)))([a, b], dy);
      const [da, db] = ops.biasGeluGrad(dy, a, b);
      assert.ok(relErr(da, ga) < 1e-5, `da ${relErr(da, ga)}`);
      assert.ok(relErr(db, gb) < 1e-5, `db ${relErr(db, gb)}`);
    });
  });

  it('gelu() on the native kernel matches the plain erf form, forward and gradient', () => {
    tf.tidy(() => {
      const x = det([2, 3, 5, 40], 31, 3);
      const dy = det(x.shape, 32);
      const fused = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gelu(t), dy)))(x);
      assert.ok(relErr(gelu(x), plainGelu(x)) < 1e-5);
      assert.ok(relErr(fused, tf.grad((t: tf.Tensor) => tf.sum(tf.mul(plainGelu(t), dy)))(x)) < 1e-5);
    });
  });

  it('bias + layer scale + per-sample drop-path scale + residual matches, with its gradients', () => {
    tf.tidy(() => {
      const x = det([3, 4, 4, 24], 9);
      const o = det(x.shape, 10);
      const b = det([24], 11, 0.5);
      const g = det([24], 12, 0.5);
      const s = tf.tensor1d([2, 0, 1.25]);
      const dy = det(x.shape, 13);
      const plain = (oo: tf.Tensor, bb: tf.Tensor, gg: tf.Tensor) =>
        tf.add(x, tf.mul(tf.mul(tf.add(oo, bb), gg), s.reshape([3, 1, 1, 1])));
      assert.ok(relErr(ops.scaleResidual(x, o, b, g, s), plain(o, b, g)) < 1e-6);
      const ref = tf.grads(plain)([o, b, g], dy);
      ops.scaleResidualGrad(dy, o, b, g, s).forEach((t, i) => assert.ok(relErr(t, ref[i]) < 1e-5, `gradient ${i}`));
    });
  });

  // Channel counts through every code path: 16-wide blocks (32), 16 + 8 (40, atto), 8 + scalars (13), scalars
  // only (3); maps wider than the 4-column register block, narrower than the kernel (2 x 3 under 7 x 7), and k = 3.
  const DEPTHWISE_CASES: [number, number, number, number][] = [[7, 40, 9, 11], [7, 32, 6, 13], [3, 13, 5, 7], [7, 3, 4, 4],
    [7, 24, 2, 3]];
  const convAttrs = (k: number, c: number) =>
    ({ strides: 1, pad: 'same', dilations: 1, filterShape: [k, k, c, 1] }) as unknown as tf.NamedAttrMap;

  it("depthwise conv + LayerNorm (training) matches TensorFlow's conv and the plain norm, with what the backward reads", () => {
    tf.tidy(() => {
      for (const [k, c, h, w] of DEPTHWISE_CASES) {
        const x = det([2, h, w, c], 14) as tf.Tensor4D;
        const f = det([k, k, c, 1], 15, 0.3) as tf.Tensor4D;
        const cb = det([c], 16, 0.2);
        const lw = det([c], 17, 0.5, 1);
        const lb = det([c], 18, 0.3);
        const conv = tf.depthwiseConv2d(x, f, 1, 'same');
        const [y, mean, rstd, d] = ops.depthwiseNormTrain(x, f, cb, lw, lb, 1e-6);
        assert.deepEqual(d.shape, x.shape);
        assert.ok(relErr(d, conv) < 1e-5, `conv k=${k} c=${c}: ${relErr(d, conv)}`);
        const plain = plainLayerNorm(conv, lw, lb, cb).reshape([-1, c]);
        assert.ok(relErr(y, plain) < 1e-5, `norm k=${k} c=${c}: ${relErr(y, plain)}`);
        assert.ok(relErr(ops.depthwiseNorm(x, f, cb, lw, lb, 1e-6), plain) < 1e-5, `inference k=${k} c=${c}`);
        const { mean: mu, variance } = tf.moments(tf.add(conv, cb), 3);
        assert.ok(relErr(mean, mu.reshape([-1])) < 1e-5, `mean k=${k} c=${c}`);
        assert.ok(relErr(rstd, tf.rsqrt(tf.add(variance, 1e-6)).reshape([-1])) < 1e-4, `rstd k=${k} c=${c}`);
      }
    });
  });

  it("depthwise conv and its backward (with and without the residual's dy) match TensorFlow's conv, BackpropInput and BackpropFilter", () => {
    tf.tidy(() => {
      for (const [k, c, h, w] of DEPTHWISE_CASES) {
        const x = det([2, h, w, c], 19) as tf.Tensor4D;
        const f = det([k, k, c, 1], 20, 0.3) as tf.Tensor4D;
        const dConv = det(x.shape, 21) as tf.Tensor4D;
        const dy = det(x.shape, 22);
        const input = tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: dConv, filter: f },
          { ...convAttrs(k, c), inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor;
        const filter = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy: dConv }, convAttrs(k, c)) as tf.Tensor;
        const [dx, df] = ops.depthwiseResidualBackward(dy, dConv, x, f);
        assert.deepEqual(df.shape, [k, k, c, 1]);
        assert.ok(relErr(dx, tf.add(dy, input)) < 1e-5, `dx k=${k} c=${c}: ${relErr(dx, tf.add(dy, input))}`);
        assert.ok(relErr(df, filter) < 1e-5, `dfilter k=${k} c=${c}: ${relErr(df, filter)}`);
        // The conv alone: forward, and its gradients without a residual.
        assert.ok(relErr(ops.depthwise(x, f), tf.depthwiseConv2d(x, f, 1, 'same')) < 1e-5, `conv k=${k} c=${c}`);
        const [dxPlain, dfPlain] = ops.depthwiseBackward(dConv, x, f);
        assert.ok(relErr(dxPlain, input) < 1e-5, `dx (no residual) k=${k} c=${c}`);
        assert.ok(relErr(dfPlain, filter) < 1e-5, `dfilter (no residual) k=${k} c=${c}`);
      }
    });
  });

  it('per-sample depthwise conv matches TensorFlow\'s conv of each sample with its own filter, and both gradients', () => {
    tf.tidy(() => {
      for (const [k, c, h, w] of DEPTHWISE_CASES) {
        const x = det([3, h, w, c], 27) as tf.Tensor4D;
        const f = det([3, k, k, c], 28, 0.3) as tf.Tensor4D;
        const dy = det(x.shape, 29);
        const plain = (xi: tf.Tensor, fi: tf.Tensor) => tf.concat([0, 1, 2].map((i) => tf.depthwiseConv2d(
          xi.slice([i], [1]) as tf.Tensor4D, fi.slice([i], [1]).reshape([k, k, c, 1]) as tf.Tensor4D, 1, 'same')));
        assert.ok(relErr(ops.depthwisePerSample(x, f), plain(x, f)) < 1e-5, `y k=${k} c=${c}`);
        const [gx, gf] = tf.grads(plain)([x, f], dy);
        const [dx, df] = ops.depthwisePerSampleBackward(dy, x, f);
        assert.ok(relErr(dx, gx) < 1e-5, `dx k=${k} c=${c}: ${relErr(dx, gx)}`);
        assert.ok(relErr(df, gf) < 1e-5, `dfilter k=${k} c=${c}: ${relErr(df, gf)}`);
      }
    });
  });

  it('the dynamic conv gives the same output and gradients on the native per-sample conv as on the folded TensorFlow conv', () => {
    const m = new DynamicConv2d(24, { kernelSize: 7, padding: 3 });
    setWeights(m.namedParameters());
    m.attention.temperature = 2;
    const x = det([3, 6, 5, 24], 30) as tf.Tensor4D;
    const loss = compareWithPlain(m, () => tf.sum(tf.square(m.forward(x))) as tf.Scalar, 1e-4);
    assert.ok(Math.abs(loss.fused - loss.plain) <= 1e-5 * Math.abs(loss.plain));
    x.dispose();
    m.dispose();
  });

  it('flatConcat lays tensors of any shape end to end, as tf.concat of their 1-D views', () => {
    tf.tidy(() => {
      const ts = [det([3, 4], 23), det([5], 24), det([2, 3, 1, 7], 25), det([1], 26)];
      const got = ops.flatConcat(ts);
      assert.deepEqual(Array.from(got.dataSync()), Array.from(tf.concat(ts.map((t) => t.reshape([-1]))).dataSync()));
    });
  });

  it('the fused block equals the plain-op block: output and every parameter gradient', () => {
    const blk = new Block(24, { layerScaleInitValue: 0.5 });
    setWeights(blk.namedParameters());
    blk.eval();
    const x = det([2, 6, 6, 24], 16) as tf.Tensor4D;
    const loss = compareWithPlain(blk, () => tf.sum(tf.square(blk.forward(x))) as tf.Scalar, 1e-4);
    assert.ok(Math.abs(loss.fused - loss.plain) <= 1e-5 * Math.abs(loss.plain));
    const dx = tf.grad((xi: tf.Tensor) => tf.sum(tf.square(blk.forward(xi as tf.Tensor4D))))(x);
    const dxPlain = withoutNativeOps(() => tf.grad((xi: tf.Tensor) => tf.sum(tf.square(blk.forward(xi as tf.Tensor4D))))(x));
    assert.ok(relErr(dx, dxPlain) < 1e-4);
    tf.dispose([dx, dxPlain, x]);
    blk.dispose();
  });

  it('drop path in the fused block keeps or drops whole samples, scaling survivors by 1 / (1 - rate)', () => {
    const blk = new Block(16, { layerScaleInitValue: 0.5, dropPath: 0.5 });
    setWeights(blk.namedParameters());
    tf.tidy(() => {
      const x = det([8, 4, 4, 16], 17) as tf.Tensor4D;
      const branch = tf.sub(blk.eval().forward(x), x);
      // Seeded, so the draw (and the kept count) is the same every run.
      const y = withSeed([0, 'drop-path-test'], () => blk.train().forward(x));
      let kept = 0;
      for (let i = 0; i < 8; i++) {
        const got = tf.sub(y, x).slice([i], [1]);
        const b = branch.slice([i], [1]);
        const dropped = tf.max(tf.abs(got)).dataSync()[0] === 0;
        if (!dropped) {
          kept++;
          assert.ok(relErr(got, tf.mul(b, 2)) < 1e-5, `sample ${i} neither dropped nor scaled by 2`);
        }
      }
      assert.ok(kept > 0 && kept < 8, `expected some samples kept and some dropped, kept ${kept} of 8`);
    });
    blk.dispose();
  });

  it('a whole ConvNeXt gives the same logits and gradients fused and plain', () => {
    const m = new ConvNeXt({ depths: [1, 1, 2, 1], dims: [16, 24, 32, 40], numClasses: 5, layerScaleInitValue: 0.5 });
    setWeights(m.namedParameters());
    m.eval();
    const x = det([2, 32, 32, 3], 18) as tf.Tensor4D;
    const y = tf.oneHot(tf.tensor1d([1, 3], 'int32'), 5) as tf.Tensor2D;
    const loss = compareWithPlain(m, () => softTargetCrossEntropy(m.forward(x), y), 1e-3);
    assert.ok(Math.abs(loss.fused - loss.plain) < 1e-5);
    tf.dispose([x, y]);
    m.dispose();
  });
});

describe('patchify Conv2d as a matmul in training', () => {
  it('a 2x2 stride-2 downsampling conv gives tf.conv2d\'s output and gradients in training mode', () => {
    const conv = new Conv2d(24, 40, { kernelSize: 2, stride: 2 });
    setWeights(conv.namedParameters());
    const x = det([3, 6, 10, 24], 5);
    const reference = (xx: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
      tf.add(tf.conv2d(xx as tf.Tensor4D, w as tf.Tensor4D, 2, 'valid'), b);
    const loss = (y: tf.Tensor) => tf.sum(tf.mul(y, det(y.shape, 9)));
    tf.tidy(() => {
      assert.ok(relErr(conv.forward(x as tf.Tensor4D), reference(x, conv.weight, conv.bias!)) < 1e-6);
      const gRef = tf.grads((xx: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => loss(reference(xx, w, b)))([x, conv.weight, conv.bias!]);
      const { grads } = tf.variableGrads(() => loss(conv.forward(x as tf.Tensor4D)) as tf.Scalar, [conv.weight, conv.bias!]);
      assert.ok(relErr(grads[conv.weight.name], gRef[1]) < 1e-5, 'weight gradient');
      assert.ok(relErr(grads[conv.bias!.name], gRef[2]) < 1e-5, 'bias gradient');
      const dx = tf.grad((xx: tf.Tensor) => loss(conv.forward(xx as tf.Tensor4D)))(x);
      assert.ok(relErr(dx, gRef[0]) < 1e-5, 'input gradient');
    });
    conv.dispose();
  });
});

describe('memory across training steps', () => {
  it('the live tensor count stays flat over AdamW training steps (fused or plain path)', () => {
    const m = new ConvNeXt({ depths: [1, 1, 1, 1], dims: [8, 16, 24, 32], numClasses: 3, dropPathRate: 0.2 });
    const opt = new AdamW(buildParamGroups(m, { weightDecay: 0.05 }));
    const x = det([2, 32, 32, 3], 19) as tf.Tensor4D;
    const y = tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3) as tf.Tensor2D;
    const step = () => {
      const out = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => softTargetCrossEntropy(m.forward(x), y), opt.variables);
        return { value, g: opt.flatten(opt.variables.map((v) => grads[v.name])) };
      });
      opt.step(out.g, { lr: 1e-3 });
      tf.dispose([out.value, out.g]);
    };
    step();
    const after1 = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    assert.equal(tf.memory().numTensors, after1);
    withoutNativeOps(() => { for (let i = 0; i < 3; i++) step(); });
    assert.equal(tf.memory().numTensors, after1);
    opt.dispose();
    m.dispose();
    tf.dispose([x, y]);
  });
});
