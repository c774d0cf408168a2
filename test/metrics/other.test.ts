/** Regression, segmentation and throughput metrics on hand-computed cases. */
import { strict as assert } from 'assert';

import { mae, PixelConfusion, RegressionMeter, rmse, segmentationMetrics } from '../../src/metrics';
import { ThroughputTimer } from "../../src/util";

const close = (a: number, b: number, eps = 1e-9): boolean => Math.abs(a - b) < eps;

describe('metrics: regression', () => {
  it('MAE and RMSE', () => {
    // errors: 2 - 0 = 2, 5 - 8 = -3, 12 - 12 = 0, 30 - 24 = 6
    const pred = [2, 5, 12, 30];
    const target = [0, 8, 12, 24];
    // MAE = (2 + 3 + 0 + 6) / 4 = 2.75; RMSE = sqrt((4 + 9 + 0 + 36) / 4) = sqrt(12.25) = 3.5
    assert.equal(mae(pred, target), 2.75);
    assert.equal(rmse(pred, target), 3.5);
    const m = new RegressionMeter();
    m.update(pred.slice(0, 1), target.slice(0, 1));
    m.update(pred.slice(1), target.slice(1));
    const sum = m.summary();
    assert.deepEqual({ count: sum.count, mae: sum.mae, rmse: sum.rmse }, { count: 4, mae: 2.75, rmse: 3.5 });
    assert.throws(() => mae([1], [1, 2]), /1 predictions for 2 targets/);
  });
});

describe('metrics: segmentation (mIoU)', () => {
  it('IoU per class from a pixel confusion matrix, ignoring label 255 and absent classes', () => {
    // 3 classes, 8 pixels (one ignored):
    //   label: 0 0 0 1 1 2 2 255
    //   pred:  0 0 1 1 2 2 2   0
    const pc = new PixelConfusion(4);
    pc.update([0, 0, 0, 1, 1, 2, 2, 255], [0, 0, 1, 1, 2, 2, 2, 0]);
    const s = pc.summary();
    // class 0: TP 2, FN 1 (0→1), FP 0 → 2 / 3
    // class 1: TP 1, FN 1 (1→2), FP 1 (0→1) → 1 / 3
    // class 2: TP 2, FN 0, FP 1 (1→2) → 2 / 3
    // class 3: never labelled nor predicted → NaN, left out of the mean
    assert.ok(close(s.iou[0], 2 / 3) && close(s.iou[1], 1 / 3) && close(s.iou[2], 2 / 3) && Number.isNaN(s.iou[3]));
    assert.ok(close(s.mIoU, 5 / 9));
    // pixel accuracy 5 / 7; mean class accuracy (2/3 + 1/2 + 1) / 3 = 13 / 18
    assert.ok(close(s.aAcc, 5 / 7) && close(s.mAcc, 13 / 18));
    assert.ok(close(segmentationMetrics(pc.matrix, 4).mIoU, 5 / 9));
    assert.throws(() => pc.update([0, 7], [0, 0]), /outside \[0, 4\)/);
  });
});

describe('metrics: throughput', () => {
  it('counts images over the timed span only', async () => {
    const t = new ThroughputTimer();
    const wall = process.hrtime.bigint();
    t.start();
    await new Promise((r) => setTimeout(r, 60));
    t.add(30);
    t.stop();
    await new Promise((r) => setTimeout(r, 60)); // paused: not counted
    const total = Number(process.hrtime.bigint() - wall) / 1e9;
    assert.ok(t.seconds >= 0.055 && t.seconds <= total - 0.055, `${t.seconds}s timed of ${total}s`);
    assert.ok(close(t.imagesPerSecond, 30 / t.seconds, 1e-6));
    assert.equal(t.count, 30);
  });
});
