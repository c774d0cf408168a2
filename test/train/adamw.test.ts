import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';

import { tf } from '../../src/backend';
import { nativeOps, withoutNativeOps } from '../../src/native';
import { AdamW } from '../../src/train/adamw';
import type { ParamGroup } from '../../src/train/param-groups';
import { SGD } from '../../src/train/sgd';

interface Fixture {
  shapes: Record<string, number[]>;
  init: Record<string, number[]>;
  grads: Array<Record<string, number[]>>;
  lrs: number[];
  weight_decay: number;
  adamw: Array<Record<string, number[]>>;
  sgd_nesterov: Array<Record<string, number[]>>;
}

const fixture = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'fixtures/train/optim.json'), 'utf8'),
) as Fixture;

/** The fixture's two groups: w decays at lr scale 1; b and gamma do not decay, lr scale 0.5. */
function fixtureGroups(): { groups: ParamGroup[]; vars: Record<string, tf.Variable> } {
  const vars: Record<string, tf.Variable> = {};
  for (const [k, shape] of Object.entries(fixture.shapes)) vars[k] = tf.variable(tf.tensor(fixture.init[k], shape));
  return {
    vars,
    groups: [
      { name: 'decay', params: [['w', vars.w]], weightDecay: fixture.weight_decay, lrScale: 1 },
      { name: 'no_decay', params: [['b', vars.b], ['gamma', vars.gamma]], weightDecay: 0, lrScale: 0.5 },
    ],
  };
}

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1e-3, Math.abs(b[i])));
  return m;
}

function replay(make: (g: ParamGroup[]) => AdamW | SGD, expected: Array<Record<string, number[]>>): void {
  const { groups, vars } = fixtureGroups();
  const opt = make(groups);
  fixture.grads.forEach((g, step) => {
    const grads = opt.names.map((n) => tf.tensor(g[n], fixture.shapes[n]));
    opt.step(grads, { lr: fixture.lrs[step] });
    tf.dispose(grads);
    for (const n of opt.names) {
      const err = maxRelErr(vars[n].dataSync(), expected[step][n]);
      assert.ok(err < 2e-6, `step ${step + 1}, ${n}: relative error ${err}`);
    }
  });
  opt.dispose();
  tf.dispose(Object.values(vars));
}

describe('AdamW', () => {
  it('matches a hand-computed two-step update (decoupled decay, bias correction)', () => {
    const p = tf.variable(tf.scalar(1).reshape([1]));
    const opt = new AdamW([{ name: 'all', params: [['p', p]], weightDecay: 0.1, lrScale: 1 }]);
    // Step 1: p·(1 − 0.1·0.1) = 0.99; m = 0.05, v = 2.5e-4; m̂ / (√v̂ + ε) = 0.5 / 0.5 = 1 → 0.99 − 0.1 = 0.89.
    opt.step([tf.tensor1d([0.5])], { lr: 0.1 });
    assert.ok(Math.abs(p.dataSync()[0] - 0.89) < 1e-6, `step 1 gave ${p.dataSync()[0]}`);
    // Step 2 (g = −0.5): 0.89·0.99 = 0.8811; m = −0.005, v = 4.9975e-4; m̂ = −0.005/0.19, √v̂ = 0.5
    // → 0.8811 + 0.1 · (0.005/0.19) / 0.5 = 0.8811 + 0.00526316 = 0.88636316.
    opt.step([tf.tensor1d([-0.5])], { lr: 0.1 });
    assert.ok(Math.abs(p.dataSync()[0] - 0.88636316) < 1e-6, `step 2 gave ${p.dataSync()[0]}`);
    opt.dispose();
    p.dispose();
  });

  it('reproduces torch.optim.AdamW over five steps with two groups (lr scales, no-decay group)', () => {
    replay((g) => new AdamW(g, { betas: [0.9, 0.999], eps: 1e-8 }), fixture.adamw);
  });

  it('the composed-op path reproduces torch.optim.AdamW as the fused kernel does', function () {
    // The default path above runs the fused CPU kernel where it is available; this one the plain ops.
    if (!nativeOps()) this.skip();
    withoutNativeOps(() => replay((g) => new AdamW(g, { betas: [0.9, 0.999], eps: 1e-8 }), fixture.adamw));
  });

  it('the fused kernel and the composed ops agree on a larger model-like parameter set', function () {
    if (!nativeOps()) this.skip();
    // Sizes that straddle the kernel's per-thread chunks (2^15 elements), two groups, a decay schedule.
    const shapes = [[3, 3, 40, 1], [70000], [5], [200, 300]];
    const run = (): Float32Array[] => {
      const vars = shapes.map((s, i) => tf.variable(tf.randomNormal(s, 0, 1, 'float32', i + 1)));
      const opt = new AdamW([
        { name: 'decay', params: [['a', vars[0]], ['d', vars[3]]], weightDecay: 0.05, lrScale: 0.7 },
        { name: 'no_decay', params: [['b', vars[1]], ['c', vars[2]]], weightDecay: 0, lrScale: 1 },
      ]);
      for (let step = 0; step < 3; step++) {
        const grads = opt.variables.map((v, i) => tf.randomNormal(v.shape, 0, 1, 'float32', 100 * step + i + 1));
        opt.step(grads, { lr: 1e-2 / (step + 1), weightDecay: 0.1 * (step + 1) });
        tf.dispose(grads);
      }
      const out = vars.map((v) => v.dataSync() as Float32Array);
      opt.dispose();
      tf.dispose(vars);
      return out;
    };
    const fused = run();
    const plain = withoutNativeOps(run);
    // Float32 rounding differs (the fused kernel folds lr, scale and bias correction in double).
    fused.forEach((f, i) => f.forEach((x, j) => {
      assert.ok(Math.abs(x - plain[i][j]) <= 1e-6 + 1e-6 * Math.abs(plain[i][j]), `parameter ${i}[${j}]: ${x} vs ${plain[i][j]}`);
    }));
  });

  it('a scheduled weight decay replaces the decay of decaying groups only', () => {
    const a = tf.variable(tf.ones([2]));
    const b = tf.variable(tf.ones([2]));
    const opt = new AdamW([
      { name: 'decay', params: [['a', a]], weightDecay: 0.05, lrScale: 1 },
      { name: 'no_decay', params: [['b', b]], weightDecay: 0, lrScale: 1 },
    ]);
    // Zero gradients: Adam's step is 0/ε = 0, so only the decay moves the parameters.
    opt.step([tf.zeros([2]), tf.zeros([2])], { lr: 0.1, weightDecay: 0.5 });
    assert.deepEqual(Array.from(a.dataSync()).map((x) => +x.toFixed(6)), [0.95, 0.95]);
    assert.deepEqual(Array.from(b.dataSync()), [1, 1]);
    opt.dispose();
    tf.dispose([a, b]);
  });

  it('state round-trips: a restored optimizer continues exactly like the original', () => {
    const run = (restoreAfter?: number): Float32Array => {
      const { groups, vars } = fixtureGroups();
      let opt = new AdamW(groups);
      fixture.grads.forEach((g, step) => {
        if (restoreAfter !== undefined && step === restoreAfter) {
          const state = opt.state();
          opt.dispose();
          opt = new AdamW(fixtureGroups().groups.map((grp, i) => ({ ...grp, params: groups[i].params })));
          opt.loadState(state);
        }
        const grads = opt.names.map((n) => tf.tensor(g[n], fixture.shapes[n]));
        opt.step(grads, { lr: fixture.lrs[step] });
        tf.dispose(grads);
      });
      const out = vars.w.dataSync() as Float32Array;
      opt.dispose();
      return out;
    };
    assert.deepEqual(run(3), run());
  });

  it('leaves no tensors behind per step', () => {
    const { groups, vars } = fixtureGroups();
    const opt = new AdamW(groups);
    const grads = opt.names.map((n) => tf.tensor(fixture.grads[0][n], fixture.shapes[n]));
    opt.step(grads, { lr: 1e-3 });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) opt.step(grads, { lr: 1e-3 });
    assert.equal(tf.memory().numTensors, before);
    tf.dispose(grads);
    opt.dispose();
    tf.dispose(Object.values(vars));
  });
});

describe('SGD (momentum, Nesterov)', () => {
  it('reproduces torch.optim.SGD(momentum=0.9, nesterov=True) with coupled weight decay', () => {
    replay((g) => new SGD(g, { momentum: 0.9, nesterov: true }), fixture.sgd_nesterov);
  });
});
