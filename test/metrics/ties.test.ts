/** Tied and non-finite logits never count as hits (torch.topk-style accuracy, ties against the label). */
import { strict as assert } from 'assert';

import { ClassificationMeter, topKAccuracy } from '../../src/metrics';

describe('metrics: ties and non-finite logits', () => {
  it('an all-zero model scores 0% top-1 (every other class ties the label)', () => {
    const zeros = { data: new Float32Array(4 * 10), numClasses: 10 };
    assert.equal(topKAccuracy(zeros, [0, 3, 5, 9], 1), 0);
    assert.equal(topKAccuracy(zeros, [0, 3, 5, 9], 5), 0);
    // with k = K every class is in the top-K, ties or not
    assert.equal(topKAccuracy(zeros, [0, 3, 5, 9], 10), 1);
  });

  it('a tie with one other class is a top-2 hit but not a top-1 hit', () => {
    const x = { data: Float64Array.from([1, 1, 0]), numClasses: 3 };
    assert.equal(topKAccuracy(x, [0], 1), 0);
    assert.equal(topKAccuracy(x, [1], 1), 0);
    assert.equal(topKAccuracy(x, [0], 2), 1);
  });

  it('NaN and infinite logits are misses, never hits', () => {
    const nan = { data: Float64Array.from([NaN, NaN, NaN, NaN, NaN, NaN]), numClasses: 3 };
    assert.equal(topKAccuracy(nan, [0, 2], 1), 0);
    assert.equal(topKAccuracy(nan, [0, 2], 3), 0);
    // label logit NaN among finite others
    assert.equal(topKAccuracy({ data: Float64Array.from([NaN, 0, 0]), numClasses: 3 }, [0], 3), 0);
    // label finite, another class NaN: the row is broken, a miss
    assert.equal(topKAccuracy({ data: Float64Array.from([5, NaN, 0]), numClasses: 3 }, [0], 1), 0);
    // +Infinity label logit is not a finite output either
    assert.equal(topKAccuracy({ data: Float64Array.from([Infinity, 0, 0]), numClasses: 3 }, [0], 1), 0);
  });

  it('ClassificationMeter applies the same rule to top-1 and top-5', () => {
    const m = new ClassificationMeter(6);
    m.update({ data: new Float32Array(2 * 6), numClasses: 6 }, [0, 1]);
    m.update({ data: Float32Array.from([NaN, 0, 0, 0, 0, 0]), numClasses: 6 }, [0]);
    m.update({ data: Float32Array.from([3, 2, 1, 0, 0, 0]), numClasses: 6 }, [0]);
    const s = m.summary();
    assert.equal(s.count, 4);
    assert.equal(s.top1, 1 / 4);
    assert.equal(s.top5, 1 / 4);
  });
});
