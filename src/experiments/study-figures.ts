/**
 * The reproduction study's printed figures (《对 'A ConvNet for the 2020s' 的论文复现》), copied exactly from
 * `../shared/study/seed-figures.md` (Tables 1 and 3) into the library, so that a user's machine, which has no
 * `../shared`, shows them too. Quoted figures: nothing here is measured by this project.
 */

export const STUDY_FIGURES_SOURCE = 'the reproduction study (《对 \'A ConvNet for the 2020s\' 的论文复现》), as printed; copied from ../shared/study/seed-figures.md';

/** One row of the study's Table 3 (flowers, its modules added to ConvNeXt): losses, accuracies in %. */
export interface StudyTable3Row {
  /** The study's row label. */
  label: string;
  trainLoss: number;
  trainAcc: number;
  valLoss: number;
  valAcc: number;
}

/** The study's Table 3 by notebook 04's row keys (the keys of STUDY_PRESETS). */
export const STUDY_TABLE3: Readonly<Record<'convnext' | 'dynamic' | 'ff' | 'cbam' | 'se_ff' | 'cbam_ff' | 'se_cbam', StudyTable3Row>> = {
  convnext: { label: 'ConvNeXt', trainLoss: 0.718, trainAcc: 72.5, valLoss: 0.745, valAcc: 72.0 },
  dynamic: { label: 'add DynamicConv2d', trainLoss: 0.731, trainAcc: 71.8, valLoss: 0.820, valAcc: 68.7 },
  ff: { label: 'add FeatureFusion', trainLoss: 0.621, trainAcc: 76.6, valLoss: 0.722, valAcc: 73.1 },
  cbam: { label: 'add CBAM', trainLoss: 0.556, trainAcc: 78.9, valLoss: 0.657, valAcc: 76.6 },
  se_ff: { label: 'add SEAttention and FF', trainLoss: 0.604, trainAcc: 77.4, valLoss: 0.751, valAcc: 75.1 },
  cbam_ff: { label: 'add CBAM and FF', trainLoss: 0.580, trainAcc: 78.1, valLoss: 0.685, valAcc: 75.3 },
  se_cbam: { label: 'add CBAM and SE', trainLoss: 0.566, trainAcc: 78.8, valLoss: 0.667, valAcc: 76.0 },
};

/** The study's Table 3 setting, as it describes it. */
export const STUDY_TABLE3_SETTING = 'flowers, 3,306 training and 364 validation images; ConvNeXt-T, one RTX A2000, PyTorch; one run per row';

/**
 * The study's Table 1 (ImageNet-1K top-1 %, 224 px): the paper's figures as the study prints them, and the study's
 * own reproduction ("Ours"). The paper's own Table 1 gives ConvNeXt-T 82.1 and ConvNeXt-S 83.1 (see paper.ts).
 */
export const STUDY_TABLE1: ReadonlyArray<{ model: string; size: number; paperAsPrinted: number; studyOurs: number }> = [
  { model: 'convnext_tiny', size: 224, paperAsPrinted: 81.3, studyOurs: 81.2 },
  { model: 'convnext_small', size: 224, paperAsPrinted: 83.0, studyOurs: 83.1 },
  { model: 'convnext_base', size: 224, paperAsPrinted: 83.8, studyOurs: 84.0 },
  { model: 'convnext_large', size: 224, paperAsPrinted: 84.3, studyOurs: 84.2 },
];

/** The study's Table 1 row of a model at a size; undefined where it prints none. */
export function studyTable1Row(model: string, size: number): (typeof STUDY_TABLE1)[number] | undefined {
  return STUDY_TABLE1.find((r) => r.model === model && r.size === size);
}
