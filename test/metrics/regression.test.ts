/** Regression metrics on hand-computed cases: MAE, RMSE, R², MAE per bucket, the constant baseline. */
import { strict as assert } from 'assert';

import { constantBaselineMae, mae, maeByBucket, r2, RegressionMeter, rmse } from '../../src/metrics/regression';

const close = (a: number, b: number, eps = 1e-9): boolean => Math.abs(a - b) < eps;

describe('metrics: regression (hand-computed)', () => {
  // errors pred - target: 2, -3, 0, 6
  const pred = [2, 5, 12, 30];
  const target = [0, 8, 12, 24];

  it('MAE, RMSE and R²', () => {
    // MAE = (2 + 3 + 0 + 6) / 4 = 2.75; RMSE = sqrt((4 + 9 + 0 + 36) / 4) = 3.5
    assert.equal(mae(pred, target), 2.75);
    assert.equal(rmse(pred, target), 3.5);
    // mean target 11; SS_tot = 121 + 9 + 1 + 169 = 300; SS_res = 49; R² = 1 - 49/300
    assert.ok(close(r2(pred, target), 1 - 49 / 300));
    // Predicting the mean gives R² 0; worse than the mean is negative.
    assert.ok(close(r2([11, 11, 11, 11], target), 0));
    assert.ok(r2([24, 12, 8, 0], target) < 0);
    // Constant targets: R² undefined.
    assert.ok(Number.isNaN(r2([1, 2], [5, 5])));
  });

  it('the streaming meter equals the one-shot figures, split anyhow', () => {
    const m = new RegressionMeter();
    m.update(pred.slice(0, 1), target.slice(0, 1));
    m.update(pred.slice(1, 3), target.slice(1, 3));
    m.update(pred.slice(3), target.slice(3));
    const s = m.summary();
    assert.equal(s.count, 4);
    assert.equal(s.mae, 2.75);
    assert.equal(s.rmse, 3.5);
    assert.ok(close(s.r2, 1 - 49 / 300));
    m.reset();
    assert.ok(Number.isNaN(m.summary().mae));
  });

  it('MAE and bias per bucket', () => {
    const b = maeByBucket(pred, target, [0, 10, 20, 30]);
    // [0, 10): targets 0 and 8, errors +2 and -3 → MAE 2.5, bias -0.5; [10, 20): 12 → 0; [20, 30): 24, +6
    assert.deepEqual(b.map((x) => x.count), [2, 1, 1]);
    assert.deepEqual(b.map((x) => x.mae), [2.5, 0, 6]);
    assert.deepEqual(b.map((x) => x.bias), [-0.5, 0, 6]);
    assert.equal(b[0].label, '0–10');
    // Targets beyond the edges fall in the end buckets; an empty bucket has NaN.
    const e = maeByBucket([1, 50], [-5, 40], [0, 10, 20, 30]);
    assert.deepEqual(e.map((x) => x.count), [1, 0, 1]);
    assert.ok(Number.isNaN(e[1].mae));
    assert.throws(() => maeByBucket(pred, target, [0, 10, 10]), /increasing/);
  });

  it('the constant baseline predicts the training median', () => {
    // median of [1, 3, 10, 40] = 6.5; test [0, 6.5, 20] → (6.5 + 0 + 13.5) / 3
    const b = constantBaselineMae([40, 1, 10, 3], [0, 6.5, 20]);
    assert.equal(b.value, 6.5);
    assert.ok(close(b.mae, 20 / 3));
  });
});
