import { strict as assert } from 'assert';

import { cosineSchedule, scheduleAt } from '../src/train/schedule';

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
});
