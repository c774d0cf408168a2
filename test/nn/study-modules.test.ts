/**
 * The study's add-on modules against PyTorch references (test/fixtures/study/generate.py): eval and
 * train outputs, BatchNorm running statistics after one training step, and input gradients.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../../src/backend';
import {
  Block
} from '../../src/convnext';
import { CBAM, DynamicConv2d, FeatureFusion, Module, SECBAM, ScaledDynamicConv2d, SqueezeExcite } from "../../src/nn";

interface Encoded { shape: number[]; data: string }
interface Case {
  args: { temperature?: number; mode?: 'sum' | 'concat'; targetStage?: number; dims?: number[] };
  params: Record<string, Encoded>;
  inputs: Encoded[];
  eval: Encoded;
  train: Encoded;
  cotangent: Encoded;
  grads: Encoded[];
  runningAfter: Record<string, Encoded>;
}

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures/study/modules.json'), 'utf8')) as
  { torch: string; cases: Record<string, Case> };

function decode(e: Encoded): tf.Tensor {
  const buf = Buffer.from(e.data, 'base64');
  const values = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  return tf.tensor(values, e.shape);
}

/** Loads every parameter by name; the fixture must name exactly the module's parameters. */
function load(m: Module, params: Record<string, Encoded>): void {
  const names = m.namedParameters().map(([n]) => n).sort();
  assert.deepEqual(names, Object.keys(params).sort(), 'parameter names match the PyTorch reference');
  for (const [name, v] of m.namedParameters()) {
    const t = decode(params[name]);
    assert.deepEqual(v.shape, t.shape, `${name} shape`);
    v.assign(t);
    t.dispose();
  }
}

/** max |a - b| ≤ atol + rtol · max |b|; float32 agreement here is ~1e-6 (outputs of size ~1–4). */
function assertClose(actual: tf.Tensor, expected: tf.Tensor, what: string, atol = 1e-5, rtol = 1e-4): void {
  assert.deepEqual(actual.shape, expected.shape, `${what} shape`);
  const a = actual.dataSync();
  const b = expected.dataSync();
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  assert.ok(err <= atol + rtol * scale, `${what}: max abs error ${err.toExponential(2)} (max |ref| ${scale.toFixed(3)})`);
}

type Forward = (xs: tf.Tensor4D[]) => tf.Tensor4D;

function checkCase(name: string, build: (c: Case) => { module: Module; forward: Forward }): void {
  it(`${name} matches PyTorch (eval, train, running stats, input gradient)`, () => {
    const c = fixture.cases[name];
    const { module, forward } = build(c);
    load(module, c.params);
    const xs = c.inputs.map((e) => decode(e) as tf.Tensor4D);
    const expectEval = decode(c.eval);
    module.eval();
    const yEval = forward(xs);
    module.train();
    assertClose(yEval, expectEval, 'eval output');
    const yTrain = forward(xs);
    const expectTrain = decode(c.train);
    assertClose(yTrain, expectTrain, 'train output');
    for (const [pname, enc] of Object.entries(c.runningAfter)) {
      const v = module.namedParameters().find(([n]) => n === pname)?.[1];
      assert.ok(v, pname);
      const t = decode(enc);
      assertClose(v, t, `${pname} after one training forward`);
      t.dispose();
    }
    const r = decode(c.cotangent);
    const grads = tf.grads((...ins: tf.Tensor[]) => tf.sum(tf.mul(forward(ins as tf.Tensor4D[]), r)))(xs);
    grads.forEach((g, i) => {
      const t = decode(c.grads[i]);
      assertClose(g, t, `input ${i} gradient`);
      t.dispose();
    });
    tf.dispose([...xs, expectEval, yEval, yTrain, expectTrain, r, ...grads]);
    module.dispose();
  });
}

describe(`study modules vs PyTorch ${fixture.torch} references`, () => {
  const one = (m: Module & { forward(x: tf.Tensor4D): tf.Tensor4D }) => ({ module: m, forward: (xs: tf.Tensor4D[]) => m.forward(xs[0]) });
  checkCase('se', () => one(new SqueezeExcite(32)));
  checkCase('cbam', () => one(new CBAM(32)));
  checkCase('se_cbam', () => one(new SECBAM(32)));
  checkCase('dynamic', (c) => {
    const m = new DynamicConv2d(32, { kernelSize: 7, padding: 3 });
    m.attention.temperature = c.args.temperature as number;
    return one(m);
  });
  checkCase('scaled_dw', () => one(new ScaledDynamicConv2d(32, 32, { kernelSize: 7, padding: 3, groups: 32 })));
  checkCase('scaled_dense', () => one(new ScaledDynamicConv2d(8, 12, { kernelSize: 3, stride: 2, padding: 1 })));
  for (const name of ['fusion_sum_t3', 'fusion_concat_t1']) {
    checkCase(name, (c) => {
      const m = new FeatureFusion(c.args.dims as number[], { mode: c.args.mode, targetStage: c.args.targetStage });
      return { module: m, forward: (xs) => m.forward(xs) };
    });
  }
  checkCase('block_cbam', () => one(new Block(16, { attention: (d) => new CBAM(d), layerScaleInitValue: 1 })));
});
