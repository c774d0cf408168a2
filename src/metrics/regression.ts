/** Regression metrics (the pet-age study: targets in months): MAE and RMSE, streaming over batches. */

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

function check(pred: ArrayLike<number>, target: ArrayLike<number>): void {
  if (pred.length !== target.length) throw new Error(`${pred.length} predictions for ${target.length} targets`);
}

export class RegressionMeter {
  private n = 0;
  private absSum = 0;
  private sqSum = 0;

  update(pred: ArrayLike<number>, target: ArrayLike<number>): void {
    check(pred, target);
    for (let i = 0; i < pred.length; i++) {
      const d = pred[i] - target[i];
      this.absSum += Math.abs(d);
      this.sqSum += d * d;
    }
    this.n += pred.length;
  }

  reset(): void {
    this.n = this.absSum = this.sqSum = 0;
  }

  summary(): { count: number; mae: number; rmse: number } {
    return { count: this.n, mae: this.n ? this.absSum / this.n : NaN, rmse: this.n ? Math.sqrt(this.sqSum / this.n) : NaN };
  }
}
