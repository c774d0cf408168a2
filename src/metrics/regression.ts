/**
 * Regression metrics (the pet-age study: targets in months): MAE, RMSE and R², streaming over batches, and
 * the MAE per target bucket (per age group).
 */

export function mae(pred: ArrayLike<number>, target: ArrayLike<number>): number {
  check(pred, target);
  let s = 0;
  for (let i = 0; i < pred.length; i++) s += Math.abs(pred[i] - target[i]);
  return pred.length ? s / pred.length : NaN;
}

export function rmse(pred: ArrayLike<number>, target: ArrayLike<number>): number {
  check(pred, target);
  let s = 0;
  for (let i = 0; i < pred.length; i++) s += (pred[i] - target[i]) ** 2;
  return pred.length ? Math.sqrt(s / pred.length) : NaN;
}

/**
 * The coefficient of determination 1 − SS_res / SS_tot (SS_tot about the targets' mean), as scikit-learn's
 * r2_score: 1 is perfect, 0 is no better than predicting the mean, negative is worse. NaN for constant targets.
 */
export function r2(pred: ArrayLike<number>, target: ArrayLike<number>): number {
  check(pred, target);
  const m = new RegressionMeter();
  m.update(pred, target);
  return m.summary().r2;
}

function check(pred: ArrayLike<number>, target: ArrayLike<number>): void {
  if (pred.length !== target.length) throw new Error(`${pred.length} predictions for ${target.length} targets`);
}

export interface RegressionSummary {
  count: number;
  mae: number;
  rmse: number;
  r2: number;
}

/** Sums from which MAE, RMSE and R² follow; mergeable, so a resumed epoch can carry them. */
export interface RegressionSums {
  n: number;
  absSum: number;
  sqSum: number;
  /** Σ target and Σ target² (for SS_tot). */
  ySum: number;
  y2Sum: number;
}

export const emptyRegressionSums = (): RegressionSums => ({ n: 0, absSum: 0, sqSum: 0, ySum: 0, y2Sum: 0 });

/** Adds a batch's predictions and targets to `s` (in place). */
export function addRegressionSums(s: RegressionSums, pred: ArrayLike<number>, target: ArrayLike<number>): RegressionSums {
  check(pred, target);
  for (let i = 0; i < pred.length; i++) {
    const d = pred[i] - target[i];
    s.absSum += Math.abs(d);
    s.sqSum += d * d;
    s.ySum += target[i];
    s.y2Sum += target[i] * target[i];
  }
  s.n += pred.length;
  return s;
}

export function regressionSummary(s: RegressionSums): RegressionSummary {
  if (s.n === 0) return { count: 0, mae: NaN, rmse: NaN, r2: NaN };
  const ssTot = s.y2Sum - (s.ySum * s.ySum) / s.n;
  // Rounding can leave a tiny positive SS_tot for constant targets: treat anything at that level as zero.
  const constant = ssTot <= 1e-12 * Math.max(1, s.y2Sum);
  return { count: s.n, mae: s.absSum / s.n, rmse: Math.sqrt(s.sqSum / s.n), r2: constant ? NaN : 1 - s.sqSum / ssTot };
}

export class RegressionMeter {
  private sums = emptyRegressionSums();

  update(pred: ArrayLike<number>, target: ArrayLike<number>): void {
    addRegressionSums(this.sums, pred, target);
  }

  reset(): void {
    this.sums = emptyRegressionSums();
  }

  summary(): RegressionSummary {
    return regressionSummary(this.sums);
  }
}

/** Age groups of the pet-age study in months: under 1 year, 1–2, 2–4, 4–6, 6–8, 8–10, 10–16 years. */
export const AGE_BUCKETS_MONTHS: readonly number[] = [0, 12, 24, 48, 72, 96, 120, 192];

export interface BucketError {
  /** [lo, hi): the bucket's target range. */
  lo: number;
  hi: number;
  label: string;
  count: number;
  /** MAE of the bucket's items (NaN when it is empty). */
  mae: number;
  /** Mean signed error pred − target: negative means the bucket is underestimated. */
  bias: number;
}

/**
 * MAE and bias per target bucket: `edges` [e0, e1, …, ek] make buckets [e0, e1) … [e(k-1), ek); targets
 * outside [e0, ek) are counted in the first or last bucket.
 */
export function maeByBucket(pred: ArrayLike<number>, target: ArrayLike<number>, edges: readonly number[] = AGE_BUCKETS_MONTHS): BucketError[] {
  check(pred, target);
  if (edges.length < 2 || edges.some((e, i) => i > 0 && !(e > edges[i - 1]))) {
    throw new Error(`bucket edges must be at least two increasing numbers, got [${edges.join(', ')}]`);
  }
  const k = edges.length - 1;
  const abs = new Float64Array(k);
  const signed = new Float64Array(k);
  const count = new Int32Array(k);
  for (let i = 0; i < pred.length; i++) {
    let b = 0;
    while (b < k - 1 && target[i] >= edges[b + 1]) b++;
    abs[b] += Math.abs(pred[i] - target[i]);
    signed[b] += pred[i] - target[i];
    count[b]++;
  }
  return Array.from({ length: k }, (_, b) => ({
    lo: edges[b], hi: edges[b + 1], label: `${edges[b]}–${edges[b + 1]}`, count: count[b],
    mae: count[b] ? abs[b] / count[b] : NaN, bias: count[b] ? signed[b] / count[b] : NaN,
  }));
}

/** The MAE of always predicting the median of `train` (the best constant under MAE): a regression's floor to beat. */
export function constantBaselineMae(train: ArrayLike<number>, test: ArrayLike<number>): { value: number; mae: number } {
  const sorted = Float64Array.from(train).sort();
  const n = sorted.length;
  if (n === 0) return { value: NaN, mae: NaN };
  const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return { value: median, mae: mae(new Float64Array(test.length).fill(median), test) };
}
