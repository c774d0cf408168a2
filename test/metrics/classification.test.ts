/** Classification metrics on hand-computed cases. */
import { strict as assert } from 'assert';

import { tf } from '../../src/backend';
import {
  ClassificationMeter,
  classificationReport,
  confusionMatrix,
  crossEntropy,
  topKAccuracy,
} from '../../src/metrics';
import { softTargetCrossEntropy } from '../../src/train/loss';

const close = (a: number, b: number, eps = 1e-9): boolean => Math.abs(a - b) < eps;

// Four samples, three classes. Row-major logits.
//   sample 0: [2, 1, 0]  label 0 → rank 0 (top-1 correct)
//   sample 1: [0, 3, 1]  label 2 → rank 1 (second: top-1 wrong, top-2 right), predicted 1
//   sample 2: [5, 1, 2]  label 1 → rank 2 (last), predicted 0
//   sample 3: [0, 0, 4]  label 2 → rank 0, predicted 2
const logits = { data: Float64Array.from([2, 1, 0, 0, 3, 1, 5, 1, 2, 0, 0, 4]), numClasses: 3 };
const labels = [0, 2, 1, 2];

describe('metrics: classification', () => {
  it('top-k accuracy', () => {
    assert.equal(topKAccuracy(logits, labels, 1), 2 / 4);
    assert.equal(topKAccuracy(logits, labels, 2), 3 / 4);
    assert.equal(topKAccuracy(logits, labels, 3), 1);
  });

  it('cross-entropy with hard labels: mean of logsumexp(z) - z_label', () => {
    // sample 0: log(e^2 + e^1 + e^0) - 2 = log(7.389 + 2.718 + 1) - 2 = 2.40761 - 2 = 0.40761
    const l0 = Math.log(Math.exp(2) + Math.exp(1) + 1) - 2;
    const l1 = Math.log(1 + Math.exp(3) + Math.exp(1)) - 1;
    const l2 = Math.log(Math.exp(5) + Math.exp(1) + Math.exp(2)) - 1;
    const l3 = Math.log(2 + Math.exp(4)) - 4;
    assert.ok(close(l0, 0.40760596444, 1e-9));
    assert.ok(close(crossEntropy(logits, labels), (l0 + l1 + l2 + l3) / 4));
  });

  it('cross-entropy with soft targets equals the weighted hard losses', () => {
    // A 50/50 target between classes 0 and 1 for sample 0 only: loss = 0.5 * CE(·,0) + 0.5 * CE(·,1).
    const one = { data: Float64Array.from([2, 1, 0]), numClasses: 3 };
    const soft = crossEntropy(one, [0.5, 0.5, 0]);
    assert.ok(close(soft, 0.5 * crossEntropy(one, [0]) + 0.5 * crossEntropy(one, [1])));
  });

  it('softTargetCrossEntropy (tensors, differentiable) agrees with the host version', () => {
    const before = tf.memory().numTensors;
    const z = tf.tensor2d(Array.from(logits.data), [4, 3]);
    const y = tf.tensor2d([0.9, 0.05, 0.05, 0.05, 0.05, 0.9, 0.05, 0.9, 0.05, 0.1, 0.1, 0.8], [4, 3]);
    const loss = softTargetCrossEntropy(z, y);
    assert.ok(close(loss.dataSync()[0], crossEntropy(logits, y.dataSync()), 1e-5));
    tf.dispose([z, y, loss]);
    assert.equal(tf.memory().numTensors, before);
  });

  it('confusion matrix and per-class precision / recall / F1, macro and weighted', () => {
    // predictions (argmax): [0, 1, 0, 2]; truth [0, 2, 1, 2]
    const cm = confusionMatrix(labels, [0, 1, 0, 2], 3);
    // rows = truth, cols = prediction
    assert.deepEqual(Array.from(cm), [1, 0, 0, 1, 0, 0, 0, 1, 1]);
    const r = classificationReport(cm, 3);
    // class 0: TP 1, predicted 2 → P 1/2; support 1 → R 1; F1 = 2 * 0.5 * 1 / 1.5 = 2/3
    // class 1: TP 0, predicted 1 → P 0; support 1 → R 0; F1 0
    // class 2: TP 1, predicted 1 → P 1; support 2 → R 1/2; F1 2/3
    assert.deepEqual(r.precision, [0.5, 0, 1]);
    assert.deepEqual(r.recall, [1, 0, 0.5]);
    assert.ok(close(r.f1[0], 2 / 3) && r.f1[1] === 0 && close(r.f1[2], 2 / 3));
    assert.deepEqual(r.support, [1, 1, 2]);
    // macro: P (0.5 + 0 + 1) / 3 = 0.5; R (1 + 0 + 0.5) / 3 = 0.5; F1 (4/3) / 3 = 4/9
    assert.ok(close(r.macro.precision, 0.5) && close(r.macro.recall, 0.5) && close(r.macro.f1, 4 / 9));
    // weighted by support [1, 1, 2] / 4: P (0.5 + 0 + 2) / 4 = 0.625; R (1 + 0 + 1) / 4 = 0.5;
    // F1 (2/3 + 0 + 4/3) / 4 = 0.5
    assert.ok(close(r.weighted.precision, 0.625) && close(r.weighted.recall, 0.5) && close(r.weighted.f1, 0.5));
    assert.equal(r.accuracy, 0.5);
  });

  it('ClassificationMeter accumulates over uneven batches like one big batch', () => {
    const m = new ClassificationMeter(3);
    m.update({ data: logits.data.slice(0, 9), numClasses: 3 }, labels.slice(0, 3));
    const t = tf.tensor2d(Array.from(logits.data.slice(9)), [1, 3]);
    m.update(t, labels.slice(3));
    t.dispose();
    const s = m.summary();
    assert.equal(s.count, 4);
    assert.equal(s.top1, 0.5);
    assert.equal(s.top5, 1);
    assert.ok(close(s.loss, crossEntropy(logits, labels)));
    assert.deepEqual(Array.from(s.confusion), [1, 0, 0, 1, 0, 0, 0, 1, 1]);
    m.reset();
    assert.ok(Number.isNaN(m.summary().top1));
  });

  it('rejects mismatched shapes and bad labels', () => {
    assert.throws(() => topKAccuracy(logits, [0, 1], 1), /2 labels for 4 rows/);
    assert.throws(() => topKAccuracy(logits, [0, 1, 3, 0], 1), /label 3 .* not a class index < 3/);
    assert.throws(() => new ClassificationMeter(4).update(logits, labels), /3 classes, meter expects 4/);
  });
});
