/** Notebook 06's generated sentences on hand-made rows: the ranking, what the seeds resolve, rows that learned nothing. */
import { strict as assert } from 'assert';

import type { AgeRowSummary, RowKey } from '../../src/experiments/pet-age';
import { meanStd } from '../../src/experiments/study-ablation';
import { spreadText, UNLEARNED_R2 } from '../../src/notebook/pet-age';

function row(key: RowKey, label: string, maes: number[], r2s: number[]): AgeRowSummary {
  const s = meanStd(maes);
  return {
    key, label, model: key, params: 0, macs: 0, testMae: s, testRmse: s, testR2: meanStd(r2s), valMae: s,
    minutes: meanStd([1]), trainImagesPerSec: meanStd([1]),
  };
}

describe('notebook 06 prose', () => {
  // ResNet-18 MAE 20, 21, 22 (mean 21, std 1); ConvNeXt-B 30, 30.5, 31 (mean 30.5, std 0.5): difference 9.5, SE √(1/3 + 0.25/3) ≈ 0.645.
  const resnet = row('resnet18', 'ResNet-18', [20, 21, 22], [0.5, 0.45, 0.4]);
  const convnext = row('convnext_b', 'ConvNeXt-B', [30, 30.5, 31], [0.01, 0.0, 0.02]);
  // ViT 30.2, 30.7, 31.2 (mean 30.7): 0.2 behind ConvNeXt-B, within 2 SE.
  const vit = row('vit', 'ViT', [30.2, 30.7, 31.2], [0.1, 0.1, 0.1]);

  it('ranks the rows, names the pairs beyond 2 SE and leaves the others unresolved', () => {
    const t = spreadText([convnext, resnet, vit]);
    assert.match(t, /^Our ranking by mean test MAE: ResNet-18 21\.00 < ConvNeXt-B 30\.50 < ViT 30\.70\. /);
    assert.match(t, /Seed-to-seed standard deviations are 0\.50–1\.00 months; of the 2 neighbouring pairs in that order, 1 differ/);
    assert.match(t, /\(ResNet-18 < ConvNeXt-B\)/);
  });

  it('says which rows did not learn the target (mean test R² under the threshold), and only those', () => {
    assert.equal(UNLEARNED_R2, 0.05);
    const t = spreadText([convnext, resnet, vit]);
    assert.match(t, / ConvNeXt-B \(R² 0\.010 ± 0\.010\) did not learn the target in this budget: R² below 0\.05 .* so its place in the ranking/);
    assert.doesNotMatch(t, /ViT \(R²|ResNet-18 \(R²/);
    assert.doesNotMatch(spreadText([resnet, vit]), /did not learn/);
  });
});
