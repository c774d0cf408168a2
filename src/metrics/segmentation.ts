/**
 * Semantic segmentation metrics from a pixel confusion matrix (as mmsegmentation): IoU_c = TP / (TP + FP +
 * FN); mIoU averages the classes that occur in either the labels or the predictions (others are NaN and
 * skipped); pixels labelled `ignoreIndex` are not counted.
 */

export class PixelConfusion {
  readonly matrix: Float64Array;

  constructor(
    readonly numClasses: number,
    readonly ignoreIndex = 255,
  ) {
    this.matrix = new Float64Array(numClasses * numClasses);
  }

  /** Adds per-pixel ground truth and predicted class maps of equal length. */
  update(label: ArrayLike<number>, pred: ArrayLike<number>): void {
    if (label.length !== pred.length) throw new Error(`${label.length} label pixels but ${pred.length} predictions`);
    const K = this.numClasses;
    for (let i = 0; i < label.length; i++) {
      const t = label[i];
      if (t === this.ignoreIndex) continue;
      const p = pred[i];
      if (t < 0 || t >= K || p < 0 || p >= K) throw new Error(`pixel ${i}: class pair (${t}, ${p}) outside [0, ${K})`);
      this.matrix[t * K + p]++;
    }
  }

  summary(): SegmentationSummary {
    return segmentationMetrics(this.matrix, this.numClasses);
  }
}

export interface SegmentationSummary {
  /** per class; NaN for a class absent from labels and predictions */
  iou: number[];
  mIoU: number;
  /** overall pixel accuracy */
  aAcc: number;
  /** mean per-class pixel accuracy (recall) over classes present in the labels */
  mAcc: number;
}

export function segmentationMetrics(confusion: ArrayLike<number>, numClasses: number): SegmentationSummary {
  const K = numClasses;
  if (confusion.length !== K * K) throw new Error(`confusion matrix length ${confusion.length} is not ${K}x${K}`);
  const iou: number[] = [];
  const acc: number[] = [];
  let total = 0;
  let correct = 0;
  for (let c = 0; c < K; c++) {
    let gt = 0;
    let pr = 0;
    for (let j = 0; j < K; j++) {
      gt += confusion[c * K + j];
      pr += confusion[j * K + c];
    }
    const tp = confusion[c * K + c];
    const union = gt + pr - tp;
    iou.push(union > 0 ? tp / union : NaN);
    acc.push(gt > 0 ? tp / gt : NaN);
    total += gt;
    correct += tp;
  }
  const nanMean = (xs: number[]): number => {
    const v = xs.filter((x) => !Number.isNaN(x));
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
  };
  return { iou, mIoU: nanMean(iou), aAcc: total ? correct / total : NaN, mAcc: nanMean(acc) };
}
