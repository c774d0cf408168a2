import { strict as assert } from 'assert';

import { planBudgetUpdates } from '../../src/train/budget';
import { cosineSchedule, scheduleAt, warmupIters } from '../../src/train/schedule';

const close = (a: ArrayLike<number>, b: number[], tol = 1e-12): void => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) < tol, `index ${i}: ${a[i]} vs ${b[i]}`);
};

describe('cosine schedule (official ConvNeXt cosine_scheduler)', () => {
  it('linear warmup with both ends included, then a half cosine that never reaches the final value', () => {
    const s = cosineSchedule({ base: 1, final: 0, epochs: 2, itersPerEpoch: 5, warmupEpochs: 1 });
    // np.linspace(0, 1, 5) then 0.5 (1 + cos(pi i / 5)), i = 0..4.
    close(s, [0, 0.25, 0.5, 0.75, 1, 1, 0.9045084971874737, 0.6545084971874737, 0.3454915028125263, 0.09549150281252633]);
  });

  it('no warmup: starts at base and decays to the floor minLr', () => {
    const s = cosineSchedule({ base: 4e-3, final: 1e-6, epochs: 1, itersPerEpoch: 4 });
    close(s, [4e-3, 1e-6 + (4e-3 - 1e-6) * 0.5 * (1 + Math.SQRT1_2), 1e-6 + (4e-3 - 1e-6) * 0.5, 1e-6 + (4e-3 - 1e-6) * 0.5 * (1 - Math.SQRT1_2)]);
  });

  it('warmupSteps overrides warmup epochs and starts from startWarmupValue', () => {
    const s = cosineSchedule({ base: 2, final: 0, epochs: 1, itersPerEpoch: 6, warmupEpochs: 1, warmupSteps: 3, startWarmupValue: 1 });
    close(s.subarray(0, 4), [1, 1.5, 2, 2]);
    assert.equal(s.length, 6);
  });

  it('the paper recipe: 300 epochs, 20 warmup, peak 4e-3 at update 20·n − 1', () => {
    const n = 312; // ImageNet-1K: 1,281,167 // 4096
    const s = cosineSchedule({ base: 4e-3, final: 1e-6, epochs: 300, itersPerEpoch: n, warmupEpochs: 20 });
    assert.equal(s.length, 300 * n);
    assert.equal(s[0], 0);
    assert.equal(s[20 * n - 1], 4e-3);
    assert.equal(s[20 * n], 4e-3);
    assert.ok(s[s.length - 1] > 1e-6 && s[s.length - 1] < 1.01e-6);
  });

  it('holds the last value past the end and rejects empty or over-long warmups', () => {
    const s = cosineSchedule({ base: 1, final: 0, epochs: 1, itersPerEpoch: 3 });
    assert.equal(scheduleAt(s, 99), s[2]);
    assert.throws(() => cosineSchedule({ base: 1, final: 0, epochs: 0, itersPerEpoch: 3 }), /positive/);
    assert.throws(() => cosineSchedule({ base: 1, final: 0, epochs: 1, itersPerEpoch: 3, warmupEpochs: 2 }), /warmup/);
  });

  it('totalIters sets the length of a schedule fitted to a budget; the warmup keeps its length', () => {
    const s = cosineSchedule({ base: 1, final: 0, epochs: 10, itersPerEpoch: 4, warmupSteps: 2, totalIters: 6 });
    close(s, [0, 1, 1, 0.5 * (1 + Math.SQRT1_2), 0.5, 0.5 * (1 - Math.SQRT1_2)]);
    assert.equal(warmupIters({ itersPerEpoch: 4, warmupSteps: 2 }), 2);
    assert.equal(warmupIters({ itersPerEpoch: 4, warmupEpochs: 1.5 }), 6);
    assert.equal(warmupIters({ itersPerEpoch: 4 }), 0);
  });
});

describe('budget plan (budgetSchedule)', () => {
  const base = { budgetSeconds: 100, usedSeconds: 30, doneUpdates: 300, recentUpdates: 100, recentSeconds: 10, maxUpdates: 5000 };

  it('adds the updates the time left holds at the last epoch\'s speed', () => {
    // 70 s left at 10 updates/s.
    assert.equal(planBudgetUpdates(base), 1000);
    // 70 s at 100 / 12 updates/s = 583.3: whole updates only, never past the budget.
    assert.equal(planBudgetUpdates({ ...base, recentSeconds: 12 }), 883);
  });

  it('never plans past the recipe\'s epochs, and plans nothing more once the budget is spent', () => {
    assert.equal(planBudgetUpdates({ ...base, maxUpdates: 800 }), 800);
    assert.equal(planBudgetUpdates({ ...base, usedSeconds: 101 }), 300);
    assert.equal(planBudgetUpdates({ ...base, recentUpdates: 0 }), 300);
  });
});
