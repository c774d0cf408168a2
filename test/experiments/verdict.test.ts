/**
 * The seed rule of src/experiments/verdict.ts on hand-made numbers, the study's conclusions judged with it, the
 * extension comparisons and the cost estimates of notebook 04 (no training here).
 */
import { strict as assert } from 'assert';
import { type RowSummary, type Stat, meanStd } from '../../src/experiments/study-ablation';
import { SAME_MARGIN, studyConclusions } from '../../src/experiments/study-conclusions';
import {
  EXTENSIONS, RECORDED_STUDY_RUN, armConfig, estimateStudyMinutes, extensionArms, extensionVerdict, isTable3Arm, secondsPerFlowerEpoch,
} from '../../src/experiments/study-extensions';
import { STUDY_TABLE1, STUDY_TABLE3 } from '../../src/experiments/study-figures';
import { ABLATION_SETTINGS, rowConfig } from '../../src/experiments/study-ablation';
import { both, directional, equivalent, seedDiff } from '../../src/experiments/verdict';
import { STUDY_PRESET_NAMES } from '../../src/convnext';
import { checkConfig, configHash } from '../../src/train/config';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);
const st = (xs: number[]): Stat => meanStd(xs);

function row(key: string, val: number[], train: number[] = val): RowSummary {
  return {
    key, label: key, params: 0, macs: 0, trainLoss: st([1]), valLoss: st([1]), trainAcc: st(train), valAcc: st(val),
    trainImagesPerSec: st([1]), evalImagesPerSec: st([1]),
  };
}

describe('the seed rule: |Δ mean| > 2·SE(Δ), else "not resolved here"', () => {
  it('computes Δ and Welch\'s SE, and resolves only beyond 2·SE', () => {
    // a: 0.70, 0.72, 0.74 (mean 0.72, s 0.02); b: 0.60, 0.62, 0.64 (mean 0.62, s 0.02). SE = sqrt(2 · 0.0004 / 3) = 0.01633.
    const d = seedDiff(st([0.70, 0.72, 0.74]), st([0.60, 0.62, 0.64]));
    close(d.diff, 0.10);
    close(d.se, Math.sqrt((2 * 0.0004) / 3));
    assert.ok(d.resolved);
    assert.equal(directional(d, 1), 'reproduces');
    assert.equal(directional(d, -1), 'reverses');
    // Δ = 0.03 < 2·SE = 0.0327: within the spread.
    const near = seedDiff(st([0.65, 0.67, 0.69]), st([0.62, 0.64, 0.66]));
    close(near.diff, 0.03);
    assert.ok(!near.resolved);
    assert.equal(directional(near, 1), 'not resolved here');
    assert.equal(directional(near, -1), 'not resolved here');
  });

  it('the boundary: exactly 2·SE is not resolved; one seed on a side is never resolved', () => {
    // a: 1, 3 (mean 2, s √2); b: 0, 0 (s 0). SE = sqrt(2 / 2) = 1; Δ = 2 = 2·SE.
    const edge = seedDiff(st([1, 3]), st([0, 0]));
    close(edge.se, 1);
    assert.ok(!edge.resolved);
    assert.ok(seedDiff(st([1.1, 3.1]), st([0, 0])).resolved);
    const single = seedDiff(st([0.9]), st([0.1]));
    assert.ok(!single.enough);
    assert.ok(!single.resolved, 'a huge difference with one seed has no spread to compare with');
    // Identical seeds on both sides (SE 0): any difference is resolved, none is not.
    assert.ok(seedDiff(st([0.5, 0.5]), st([0.4, 0.4])).resolved);
    assert.ok(!seedDiff(st([0.5, 0.5]), st([0.5, 0.5])).resolved);
  });

  it('"about the same" needs the whole ±2·SE band inside the margin', () => {
    assert.equal(equivalent(seedDiff(st([0.760, 0.762, 0.764]), st([0.762, 0.764, 0.766])), 0.01), 'reproduces');
    assert.equal(equivalent(seedDiff(st([0.70, 0.76, 0.82]), st([0.76, 0.76, 0.76])), 0.01), 'not resolved here', 'too noisy to call equal');
    assert.equal(equivalent(seedDiff(st([0.70, 0.70, 0.70]), st([0.76, 0.76, 0.76])), 0.01), 'reverses');
    assert.equal(both('reproduces', 'reproduces'), 'reproduces');
    assert.equal(both('reproduces', 'not resolved here'), 'not resolved here');
    assert.equal(both('not resolved here', 'reverses'), 'reverses');
  });
});

describe('the study\'s conclusions on our seeds', () => {
  const verdicts = (rows: RowSummary[]) => Object.fromEntries(studyConclusions(rows).map((c) => [c.claim, c.verdict]));

  it('all seven reproduce on rows built to match the study', () => {
    const v = verdicts([
      row('convnext', [0.60, 0.61, 0.62]),
      row('dynamic', [0.50, 0.51, 0.52]),
      row('ff', [0.65, 0.66, 0.67]),
      row('cbam', [0.760, 0.762, 0.764], [0.80, 0.80, 0.81]),
      row('se_ff', [0.70, 0.71, 0.72], [0.85, 0.86, 0.87]),
      row('cbam_ff', [0.70, 0.71, 0.72], [0.85, 0.86, 0.87]),
      row('se_cbam', [0.762, 0.764, 0.766], [0.80, 0.80, 0.81]),
    ]);
    assert.deepEqual(v, {
      'feature fusion alone helps': 'reproduces', 'attention alone (CBAM) helps': 'reproduces', 'CBAM helps most': 'not resolved here',
      'dynamic convolution hurts': 'reproduces', 'cbam_ff overfits: better train, worse val than CBAM alone': 'reproduces',
      'se_ff overfits: better train, worse val than CBAM alone': 'reproduces', 'CBAM+SE is about the same as CBAM': 'reproduces',
    });
    // CBAM+SE is the best row by a hair, within noise of CBAM: "helps most" is not resolved, not a loss.
  });

  it('reverses where our seeds go the other way beyond 2·SE, and resolves nothing inside the spread', () => {
    const v = verdicts([
      row('convnext', [0.60, 0.61, 0.62]), row('dynamic', [0.70, 0.71, 0.72]), row('ff', [0.80, 0.81, 0.82]),
      row('cbam', [0.70, 0.71, 0.72]), row('se_ff', [0.75, 0.76, 0.77], [0.70, 0.70, 0.70]), row('cbam_ff', [0.70, 0.71, 0.72]),
      row('se_cbam', [0.60, 0.61, 0.62]),
    ]);
    assert.equal(v['dynamic convolution hurts'], 'reverses');
    assert.equal(v['CBAM helps most'], 'reverses', 'FF beats CBAM beyond the spread');
    assert.equal(v['se_ff overfits: better train, worse val than CBAM alone'], 'reverses');
    assert.equal(v['cbam_ff overfits: better train, worse val than CBAM alone'], 'not resolved here');
    assert.equal(v['CBAM+SE is about the same as CBAM'], 'reverses');
    const noisy = verdicts(['convnext', 'dynamic', 'ff', 'cbam', 'se_ff', 'cbam_ff', 'se_cbam'].map((k) => row(k, [0.5, 0.6, 0.7])));
    assert.ok(Object.values(noisy).every((x) => x === 'not resolved here'), JSON.stringify(noisy));
  });

  it('sets the study\'s own differences beside ours, from its printed Table 3', () => {
    const c = studyConclusions(['convnext', 'dynamic', 'ff', 'cbam', 'se_ff', 'cbam_ff', 'se_cbam'].map((k) => row(k, [0.5, 0.6, 0.7])));
    close(c[0].study[0].diff, (73.1 - 72.0) / 100, 1e-12);
    close(c[3].study[0].diff, (68.7 - 72.0) / 100, 1e-12);
    close(c[4].study[0].diff, (78.1 - 78.9) / 100, 1e-12);
    close(c[6].study[0].diff, (76.0 - 76.6) / 100, 1e-12);
    assert.equal(SAME_MARGIN, 0.01);
  });

  it('quotes the study\'s Tables 1 and 3 exactly as printed', () => {
    assert.deepEqual(Object.keys(STUDY_TABLE3), STUDY_PRESET_NAMES);
    assert.deepEqual(STUDY_TABLE3.convnext, { label: 'ConvNeXt', trainLoss: 0.718, trainAcc: 72.5, valLoss: 0.745, valAcc: 72.0 });
    assert.deepEqual(STUDY_TABLE3.se_cbam, { label: 'add CBAM and SE', trainLoss: 0.566, trainAcc: 78.8, valLoss: 0.667, valAcc: 76.0 });
    assert.deepEqual(STUDY_TABLE1.map((r) => [r.paperAsPrinted, r.studyOurs]), [[81.3, 81.2], [83.0, 83.1], [83.8, 84.0], [84.3, 84.2]]);
  });
});

describe('the study\'s extensions and the cost of notebook 04', () => {
  it('four comparisons; the arms equal to Table 3 rows share their configs (and cached runs)', () => {
    const s = ABLATION_SETTINGS.quick;
    assert.equal(EXTENSIONS.length, 4);
    const arms = extensionArms();
    assert.deepEqual(arms.map((a) => a.key), ['convnext', 'convnext-geo', 'dynamic', 'dynamic_k4', 'ff', 'ff_concat', 'se_ff', 'se_plain_ff']);
    assert.deepEqual(arms.filter(isTable3Arm).map((a) => a.key), ['convnext', 'dynamic', 'ff', 'se_ff']);
    for (const a of arms.filter(isTable3Arm)) assert.equal(configHash(armConfig(s, a, 1)), configHash(rowConfig(s, a.preset as never, 1)));
    const geo = checkConfig(armConfig(s, arms[1], 0));
    assert.equal(geo.name, 'study-mini-convnext-geo-seed0');
    assert.deepEqual(geo.augment?.geometric, { rotate: 15, scale: [0.9, 1.1], translate: 0.1 });
    assert.equal(rowConfig(s, 'convnext', 0).augment?.geometric, undefined);
    for (const a of arms) checkConfig(armConfig(s, a, 2));
  });

  it('writes a one-line verdict from the b − a difference', () => {
    const c = EXTENSIONS[2];
    assert.match(extensionVerdict(c, seedDiff(st([0.70, 0.71, 0.72]), st([0.60, 0.61, 0.62]))), /^\+FF \(concat\) beats \+FF \(Δ val \+10\.0 points, 2·SE 1\.6\)$/);
    assert.match(extensionVerdict(c, seedDiff(st([0.60, 0.61, 0.62]), st([0.70, 0.71, 0.72]))), /^\+FF beats \+FF \(concat\)/);
    assert.match(extensionVerdict(c, seedDiff(st([0.5, 0.6, 0.7]), st([0.5, 0.62, 0.7]))), /^not resolved here/);
  });

  it('estimates the quick mode\'s minutes from the recorded 43.6-minute run', () => {
    const r = RECORDED_STUDY_RUN;
    // 36 runs × 12 epochs × 4,317 images at 96 px, and 100,000 pretraining images at 32 px, each (32/96)² of a 96-px image.
    const perImage = (r.minutes * 60) / (36 * 12 * 4317 + 100_000 / 9);
    close(secondsPerFlowerEpoch(96), perImage * 4317, 1e-9);
    close(secondsPerFlowerEpoch(64), perImage * 4317 * (4 / 9), 1e-9);
    const e = estimateStudyMinutes(ABLATION_SETTINGS.quick);
    assert.deepEqual([e.table3Runs, e.extensionRuns, e.transferRuns], [21, 12, 3]);
    const perRun = (perImage * 4317 * 12) / 60;
    close(e.table3, 21 * perRun, 1e-9);
    close(e.extensions, 12 * perRun, 1e-9);
    // The recorded budget itself comes back as the recorded minutes.
    close(e.total, 43.6, 1e-9);
  });
});
