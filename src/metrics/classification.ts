/**
 * Classification metrics computed on the host from logits: top-k accuracy, cross-entropy with hard or
 * soft targets, the confusion matrix and per-class precision / recall / F1 with macro and
 * support-weighted averages (sklearn's definitions; a class never predicted has precision 0).
 */
import { tf } from '../backend';

export type Logits = tf.Tensor2D | { data: Float32Array | Float64Array; numClasses: number };

function hostLogits(logits: Logits): { data: ArrayLike<number>; n: number; k: number } {
  if (logits instanceof tf.Tensor) {
    if (logits.rank !== 2) throw new Error(`logits must be [batch, classes], got shape [${logits.shape}]`);
    return { data: logits.dataSync(), n: logits.shape[0], k: logits.shape[1] };
  }
  const k = logits.numClasses;
  if (logits.data.length % k !== 0) throw new Error(`logits length ${logits.data.length} is not a multiple of ${k}`);
  return { data: logits.data, n: logits.data.length / k, k };
}

/**
 * Rank of the label's logit: how many other classes score at least as high (0 = a clean top-1). Ties
 * count against the label, so a constant output is never a hit (stricter than torch.topk, which breaks
 * ties by index in the lower class's favour). A non-finite label logit, or a NaN anywhere in the row,
 * makes the row a miss at every k (rank = number of classes).
 */
function labelRank(data: ArrayLike<number>, row: number, k: number, label: number): number {
  const v = data[row * k + label];
  if (!Number.isFinite(v)) return k;
  let rank = 0;
  for (let c = 0; c < k; c++) {
    if (c === label) continue;
    const x = data[row * k + c];
    if (Number.isNaN(x)) return k;
    if (x >= v) rank++;
  }
  return rank;
}

function argmax(data: ArrayLike<number>, row: number, k: number): number {
  let best = 0;
  for (let c = 1; c < k; c++) if (data[row * k + c] > data[row * k + best]) best = c;
  return best;
}

function checkLabels(labels: ArrayLike<number>, n: number, k: number): void {
  if (labels.length !== n) throw new Error(`${labels.length} labels for ${n} rows of logits`);
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(labels[i]) || labels[i] < 0 || labels[i] >= k) {
      throw new Error(`label ${labels[i]} at ${i} is not a class index < ${k}`);
    }
  }
}

/**
 * Fraction of rows whose label is among the k highest logits: fewer than k other classes have a logit >=
 * the label's. Ties count against the label; NaN or infinite label logits are misses.
 */
export function topKAccuracy(logits: Logits, labels: ArrayLike<number>, k = 1): number {
  const { data, n, k: K } = hostLogits(logits);
  checkLabels(labels, n, K);
  let correct = 0;
  for (let i = 0; i < n; i++) if (labelRank(data, i, K, labels[i]) < k) correct++;
  return n === 0 ? 0 : correct / n;
}

/**
 * Mean cross-entropy -sum_k y_k log softmax(z)_k. `targets` are class indices (hard) or row-major soft
 * targets of length n * K (mixup / smoothing).
 */
export function crossEntropy(logits: Logits, targets: ArrayLike<number>): number {
  const { data, n, k } = hostLogits(logits);
  const soft = targets.length === n * k && k > 1;
  if (!soft) checkLabels(targets, n, k);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, data[i * k + c]);
    let sum = 0;
    for (let c = 0; c < k; c++) sum += Math.exp(data[i * k + c] - max);
    const logZ = max + Math.log(sum);
    if (soft) for (let c = 0; c < k; c++) total -= targets[i * k + c] * (data[i * k + c] - logZ);
    else total -= data[i * k + targets[i]] - logZ;
  }
  return n === 0 ? 0 : total / n;
}

/** Confusion matrix C[true][pred] (row-major Int32Array of K*K). */
export function confusionMatrix(trueLabels: ArrayLike<number>, predLabels: ArrayLike<number>, numClasses: number): Int32Array {
  if (trueLabels.length !== predLabels.length) {
    throw new Error(`${trueLabels.length} true labels but ${predLabels.length} predictions`);
  }
  const m = new Int32Array(numClasses * numClasses);
  for (let i = 0; i < trueLabels.length; i++) {
    const t = trueLabels[i];
    const p = predLabels[i];
    if (t < 0 || t >= numClasses || p < 0 || p >= numClasses) {
      throw new Error(`label pair (${t}, ${p}) at ${i} outside [0, ${numClasses})`);
    }
    m[t * numClasses + p]++;
  }
  return m;
}

export interface PerClassReport {
  precision: number[];
  recall: number[];
  f1: number[];
  support: number[];
  macro: { precision: number; recall: number; f1: number };
  weighted: { precision: number; recall: number; f1: number };
  accuracy: number;
}

/** Per-class precision, recall, F1 and their macro / weighted averages from a confusion matrix. */
export function classificationReport(confusion: ArrayLike<number>, numClasses: number): PerClassReport {
  const K = numClasses;
  if (confusion.length !== K * K) throw new Error(`confusion matrix length ${confusion.length} is not ${K}x${K}`);
  const precision: number[] = [];
  const recall: number[] = [];
  const f1: number[] = [];
  const support: number[] = [];
  let total = 0;
  let correct = 0;
  for (let c = 0; c < K; c++) {
    let predicted = 0;
    let actual = 0;
    for (let j = 0; j < K; j++) {
      predicted += confusion[j * K + c];
      actual += confusion[c * K + j];
    }
    const tp = confusion[c * K + c];
    const p = predicted > 0 ? tp / predicted : 0;
    const r = actual > 0 ? tp / actual : 0;
    precision.push(p);
    recall.push(r);
    f1.push(p + r > 0 ? (2 * p * r) / (p + r) : 0);
    support.push(actual);
    total += actual;
    correct += tp;
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / K;
  const wmean = (xs: number[]): number => (total > 0 ? xs.reduce((a, x, c) => a + x * support[c], 0) / total : 0);
  return {
    precision,
    recall,
    f1,
    support,
    macro: { precision: mean(precision), recall: mean(recall), f1: mean(f1) },
    weighted: { precision: wmean(precision), recall: wmean(recall), f1: wmean(f1) },
    accuracy: total > 0 ? correct / total : 0,
  };
}

export interface ClassificationSummary {
  count: number;
  loss: number;
  top1: number;
  top5: number;
  confusion: Int32Array;
  report: PerClassReport;
}

/**
 * Accumulates loss, top-1/top-5 and the confusion matrix over batches (an epoch's evaluation). Loss is
 * averaged per sample, so uneven last batches weigh correctly.
 */
export class ClassificationMeter {
  private count = 0;
  private lossSum = 0;
  private top1 = 0;
  private top5 = 0;
  readonly confusion: Int32Array;

  constructor(readonly numClasses: number) {
    if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`numClasses must be >= 1, got ${numClasses}`);
    this.confusion = new Int32Array(numClasses * numClasses);
  }

  /**
   * Adds a batch: logits [B, K], hard labels [B], and optionally the soft targets the loss should use
   * (row-major [B*K], e.g. a mixup batch's y); without them the loss uses the hard labels.
   */
  update(logits: Logits, labels: ArrayLike<number>, softTargets?: ArrayLike<number>): void {
    const host = hostLogits(logits);
    const { data, n, k } = host;
    if (k !== this.numClasses) throw new Error(`logits have ${k} classes, meter expects ${this.numClasses}`);
    checkLabels(labels, n, k);
    const plain = { data: Float64Array.from(data), numClasses: k };
    this.lossSum += crossEntropy(plain, softTargets ?? labels) * n;
    for (let i = 0; i < n; i++) {
      const rank = labelRank(data, i, k, labels[i]);
      if (rank < 1) this.top1++;
      if (rank < 5) this.top5++;
      this.confusion[labels[i] * k + argmax(data, i, k)]++;
    }
    this.count += n;
  }

  reset(): void {
    this.count = this.lossSum = this.top1 = this.top5 = 0;
    this.confusion.fill(0);
  }

  summary(): ClassificationSummary {
    const n = this.count;
    return {
      count: n,
      loss: n ? this.lossSum / n : NaN,
      top1: n ? this.top1 / n : NaN,
      top5: n ? this.top5 / n : NaN,
      confusion: this.confusion.slice(),
      report: classificationReport(this.confusion, this.numClasses),
    };
  }
}
