/** The flower ablation's configs and statistics (no training here; notebook 04 runs it in smoke mode). */
import { strict as assert } from 'assert';
import {
  ABLATION_SETTINGS, RowSummary, Stat, compareToBaseline, formatStat, groupSeeds, meanStd, pretrainConfig, rowConfig,
  seedRecords, studyComplexity, summarizeRow, transferConfig,
} from '../../src/experiments/study-ablation';
import type { RunRecord } from '../../src/experiments/cached-run';
import type { TrainConfig } from '../../src/train/config';
type EpochRecord = RunRecord['metrics'][number];
import { STUDY_PRESET_NAMES } from '../../src/convnext';
import { checkConfig, configHash } from '../../src/train/config';
import { resolveRecipe } from '../../src/train/recipe';
import { buildModel } from '../../src/train/run-config';
import { tf } from '../../src/backend';

const stat = (values: number[]): Stat => meanStd(values);

function row(key: string, val: number[], train: number[] = val.map((v) => v + 0.05)): RowSummary {
  return {
    key, label: key, params: 0, macs: 0, trainLoss: stat([1]), valLoss: stat([1]), trainAcc: stat(train),
    valAcc: stat(val), trainImagesPerSec: stat([1]), evalImagesPerSec: stat([1]),
  };
}

describe('study ablation', () => {
  it('mean ± sample std (n - 1), as numpy.std(ddof=1)', () => {
    const s = meanStd([0.6, 0.7, 0.8]);
    assert.ok(Math.abs(s.mean - 0.7) < 1e-12);
    assert.ok(Math.abs(s.std - 0.1) < 1e-12);
    assert.equal(formatStat(s, 1, 100), '70.0 ± 10.0');
    assert.deepEqual(meanStd([2]), { mean: 2, std: 0, n: 1 });
  });

  it('compares rows to the baseline with Welch standard errors', () => {
    const [c] = compareToBaseline([row('convnext', [0.6, 0.7, 0.8]), row('cbam', [0.9, 0.9, 0.9])]);
    // diff 0.2, se = sqrt(0.01 / 3 + 0) = 0.0577, t = 3.46.
    assert.ok(Math.abs(c.diff - 0.2) < 1e-12);
    assert.ok(Math.abs(c.se - Math.sqrt(0.01 / 3)) < 1e-12);
    assert.ok(c.beyondNoise);
    assert.throws(() => compareToBaseline([row('cbam', [1])]), /no baseline row "convnext"/);
  });

  it('names one cached run per row and seed; the transfer row is the ConvNeXt row plus weights', () => {
    const s = ABLATION_SETTINGS.quick;
    const hashes = new Set(STUDY_PRESET_NAMES.flatMap((p) => s.seeds.map((seed) => configHash(rowConfig(s, p, seed)))));
    assert.equal(hashes.size, 7 * s.seeds.length);
    const c = rowConfig(s, 'cbam', 2);
    assert.equal(c.model.name, 'study_mini_cbam');
    assert.equal(c.recipe?.seed, 2);
    assert.equal(c.data.name, 'flowers5');
    const t = transferConfig(s, 2, '/w.safetensors');
    assert.deepEqual(t.model, { ...c.model, name: 'study_mini_convnext', weights: '/w.safetensors', newHead: true });
    assert.deepEqual(t.recipe, rowConfig(s, 'convnext', 2).recipe);
  });

  it('quick-mode configs are valid trainer configs whose models take the quick input size', () => {
    const s = ABLATION_SETTINGS.quick;
    for (const preset of STUDY_PRESET_NAMES) {
      const c = checkConfig(rowConfig(s, preset, 0));
      const r = resolveRecipe(c.recipe);
      assert.equal(r.epochs * Math.floor(3885 / r.batchSize), 12 * 60, 'updates of a quick run (QUICK_STUDY_SCALE: 12 epochs of 60 batches)');
      const m = buildModel(c, 5);
      const y = tf.tidy(() => m.forward(tf.zeros([1, s.inputSize, s.inputSize, 3])));
      assert.deepEqual(y.shape, [1, 5]);
      y.dispose();
      m.dispose();
    }
    const p = checkConfig(pretrainConfig(s));
    assert.equal(p.data.name, 'cifar10');
    assert.equal(resolveRecipe(p.recipe).epochs, s.pretrain.epochs);
  });

  it('full mode is the study\'s setting: ConvNeXt-T at 224 px (4.47 GMACs with a 5-class head)', () => {
    const s = ABLATION_SETTINGS.full;
    assert.equal(s.arch, 'tiny');
    assert.equal(s.inputSize, 224);
    const c = studyComplexity(s.arch, 'convnext', 224);
    // 4,455,531,264 MACs with the 1000-class head (paper: 4.5G) minus 768 · (1000 − 5).
    assert.equal(c.macs, 4_455_531_264 - 768 * 995);
  });

  it('groups seeds into mean ± sample std with danfojs, as meanStd does', function () {
    this.timeout(60_000); // danfojs-node loads on first use
    const run = (seed: number, valTop1: number | undefined, rates: number[], trainTop1: number | null = 0.5): RunRecord => ({
      dir: `r${seed}`, finished: true, config: { name: `r${seed}`, model: {}, data: {}, recipe: { seed } } as TrainConfig,
      metrics: rates.map((rate, i) => ({ epoch: i + 1, step: i, lr: 0, trainLoss: 1 + seed, trainTop1, trainSeconds: 1, trainImagesPerSec: rate,
        valTop1, valLoss: 0.5, evalImagesPerSec: 100 }) as EpochRecord),
    });
    const runs = [run(0, 0.6, [100, 200]), run(1, 0.7, [300, 300]), run(2, 0.8, [200, 400])];
    const records = seedRecords('convnext', runs);
    assert.deepEqual(records.map((r) => [r.seed, r.valAcc, r.trainImagesPerSec]), [[0, 0.6, 150], [1, 0.7, 300], [2, 0.8, 300]]);
    const stats = groupSeeds([...records, ...seedRecords('cbam', [run(0, 0.9, [50])]), ...seedRecords('ff', [run(0, undefined, [10], null), run(1, 0.5, [10])])]);
    assert.deepEqual([...stats.keys()], ['convnext', 'cbam', 'ff']);
    const c = stats.get('convnext')!;
    // valAcc 0.6, 0.7, 0.8: mean 0.7, sample std 0.1; trainLoss 1, 2, 3: mean 2, std 1; rates 150, 300, 300: mean 250, std √7500.
    assert.ok(Math.abs(c.valAcc.mean - 0.7) < 1e-12 && Math.abs(c.valAcc.std - 0.1) < 1e-12 && c.valAcc.n === 3);
    assert.ok(Math.abs(c.trainLoss.mean - 2) < 1e-12 && Math.abs(c.trainLoss.std - 1) < 1e-12);
    assert.ok(Math.abs(c.trainImagesPerSec.mean - 250) < 1e-9 && Math.abs(c.trainImagesPerSec.std - Math.sqrt(7500)) < 1e-9);
    assert.deepEqual(stats.get('cbam')!.valAcc, { mean: 0.9, std: 0, n: 1 });
    // A missing value makes the group's figure NaN, as meanStd does.
    assert.ok(Number.isNaN(stats.get('ff')!.valAcc.mean) && Number.isNaN(meanStd([NaN, 0.5]).mean));
    assert.equal(stats.get('ff')!.valAcc.n, 2);
    const row = summarizeRow('convnext', 'ConvNeXt', runs, { params: 7, macs: 9 });
    assert.equal(formatStat(row.valAcc, 1, 100), '70.0 ± 10.0');
    assert.deepEqual([row.key, row.label, row.params, row.macs], ['convnext', 'ConvNeXt', 7, 9]);
    assert.throws(() => seedRecords('x', [{ ...runs[0], metrics: [] }]), /has no finished epoch/);
  });
});
