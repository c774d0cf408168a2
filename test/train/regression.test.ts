/**
 * The engine's regression task: the losses against hand-computed values and gradients, the config's refusals,
 * and a tiny regression run end to end (fit through runFromConfig, the CLI's train / eval / predict): MAE,
 * RMSE and R² in the run records, the best checkpoint by validation MAE, the target normalisation mapped back.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';

import { tf } from '../../src/backend';
import { encodeImage } from '../../src/image/decode';
import { huberLoss, regressionLoss, smoothL1Loss, trimmedL1Loss } from '../../src/train/loss';
import { checkConfig } from '../../src/train/config';
import { resolveRecipe } from '../../src/train/recipe';
import { predictRegressionRun } from '../../src/train/regression-run';
import { resolveTargetNorm, runFromConfig } from '../../src/train/run-config';
import { cli, tmp } from './helpers';

const close = (a: number, b: number, eps = 1e-5): boolean => Math.abs(a - b) < eps;

/** The loss of pred vs target and its gradient with respect to pred. */
function lossAndGrad(f: (p: tf.Tensor, t: tf.Tensor) => tf.Scalar, pred: number[], target: number[]): { value: number; grad: number[] } {
  return tf.tidy(() => {
    const t = tf.tensor1d(target);
    const { value, grad } = tf.valueAndGrad((p: tf.Tensor) => f(p, t))(tf.tensor1d(pred));
    return { value: value.dataSync()[0], grad: Array.from(grad.dataSync()) };
  });
}

describe('regression losses (hand-computed)', () => {
  it('Huber (δ = 1): 0.5 d² inside, δ (|d| − δ/2) outside; gradient clip(d, −δ, δ) / n', () => {
    // d = 0.5, -2, 3 → 0.125, 1.5, 2.5 → mean 4.125 / 3 = 1.375
    const r = lossAndGrad((p, t) => huberLoss(p, t, 1), [0.5, -2, 3], [0, 0, 0]);
    assert.ok(close(r.value, 1.375));
    assert.ok(r.grad.every((g, i) => close(g, [0.5, -1, 1][i] / 3)));
    // δ = 2: d = 1 → 0.5; d = 3 → 2 (3 − 1) = 4 → mean 2.25
    assert.ok(close(lossAndGrad((p, t) => huberLoss(p, t, 2), [1, 3], [0, 0]).value, 2.25));
  });

  it('smooth L1 (β = 2): 0.5 d² / β inside, |d| − β/2 outside, = Huber(β) / β', () => {
    // d = 1 → 0.25; d = -3 → 2 → mean 1.125
    const r = lossAndGrad((p, t) => smoothL1Loss(p, t, 2), [1, -3], [0, 0]);
    assert.ok(close(r.value, 1.125));
    // gradient: d / β inside (0.5), sign(d) outside (-1), over n = 2
    assert.ok(close(r.grad[0], 0.25) && close(r.grad[1], -0.5));
  });

  it('trimmed L1 leaves the largest residuals out of the value and the gradient', () => {
    // |d| = 1, 10, 2, 3 with trim 0.25 of 4 → the 10 is dropped: (1 + 2 + 3) / 3 = 2
    const r = lossAndGrad((p, t) => trimmedL1Loss(p, t, 0.25), [1, 10, -2, 3], [0, 0, 0, 0]);
    assert.ok(close(r.value, 2));
    assert.deepEqual(r.grad.map((g) => Math.round(g * 3 * 1e6) / 1e6), [1, 0, -1, 1]);
    // trim 0 is plain L1
    assert.ok(close(lossAndGrad((p, t) => trimmedL1Loss(p, t, 0), [1, 10, -2, 3], [0, 0, 0, 0]).value, 4));
  });

  it('L1 and MSE by name, on [B, 1] heads against [B] targets', () => {
    tf.tidy(() => {
      const p = tf.tensor2d([[2], [5], [12], [30]]);
      const t = tf.tensor1d([0, 8, 12, 24]);
      assert.ok(close(regressionLoss('l1', p, t).dataSync()[0], 2.75));
      assert.ok(close(regressionLoss('mse', p, t).dataSync()[0], 12.25));
    });
  });
});

describe('task: regression in the config', () => {
  const base = { task: 'regression', model: { name: 'resnet18' }, data: { name: 'pet-age-stand-in' } };

  it('refuses the classification-only parts, naming each', () => {
    const bad = { ...base, augment: { mixup: 0.8, cutmix: 1, smoothing: 0.1 }, recipe: { loss: 'soft-target', monitor: 'valTop1' }, model: { name: 'resnet18', options: { numClasses: 5 } } };
    const msg = (() => { try { checkConfig(bad); return ''; } catch (e) { return (e as Error).message; } })();
    for (const part of ['augment.mixup 0.8', 'augment.cutmix 1', 'augment.smoothing 0.1', 'recipe.loss soft-target', 'recipe.monitor valTop1', 'model.options.numClasses 5']) {
      assert.ok(msg.includes(part), `${part} not named in: ${msg}`);
    }
    assert.throws(() => checkConfig({ ...base, data: { name: 'flowers5' } }), /data.name flowers5 .* classification dataset/);
    assert.throws(() => checkConfig({ ...base, data: { name: 'pet-age' } }), /pet-age needs data.root/);
  });

  it('a regression loss or dataset without task: regression is refused', () => {
    assert.throws(() => checkConfig({ model: { name: 'resnet18' }, data: { name: 'flowers5' }, recipe: { loss: 'huber' } }), /regression loss: set task: regression/);
    assert.throws(() => checkConfig({ model: { name: 'resnet18' }, data: { name: 'pet-age-stand-in' } }), /regression dataset: set task: regression/);
    assert.doesNotThrow(() => checkConfig({ ...base, recipe: { loss: 'trimmed-l1', trimFraction: 0.2 } }));
  });

  it('a regression loss monitors validation MAE (lower is better) by default', () => {
    assert.equal(resolveRecipe({ loss: 'huber' }).monitor, 'valMae');
    assert.equal(resolveRecipe({}).monitor, 'valTop1');
    assert.throws(() => resolveRecipe({ loss: 'l1', monitor: 'valTop1' }), /classification metric/);
  });

  it('target normalisation: auto takes the training targets\' mean and population std', () => {
    assert.deepEqual(resolveTargetNorm({ regression: { targetNorm: 'auto' } }, [0, 8, 12, 24]), { mean: 11, std: Math.sqrt(75) });
    assert.deepEqual(resolveTargetNorm({ regression: { targetNorm: 'none' } }), { mean: 0, std: 1 });
    assert.deepEqual(resolveTargetNorm({ regression: { targetNorm: { mean: 40, std: 30 } } }), { mean: 40, std: 30 });
  });
});

describe('a regression run end to end (CSV data, tiny ConvNeXt)', function () {
  this.timeout(240_000);
  let root: string;
  let config: string;

  before(async () => {
    root = tmp('regression');
    // 16x16 images whose brightness is the target: brightness b in 0..255 ↔ target b / 255 * 100.
    for (const split of ['train', 'val']) {
      const n = split === 'train' ? 48 : 16;
      const lines = ['path,target'];
      fs.mkdirSync(path.join(root, split), { recursive: true });
      for (let i = 0; i < n; i++) {
        const b = Math.round(((i * 37 + (split === 'val' ? 11 : 0)) % 256));
        const image = new Uint8Array(16 * 16 * 3).fill(b);
        const file = path.join(root, split, `${i}.png`);
        fs.writeFileSync(file, await encodeImage({ image, height: 16, width: 16, channels: 3 }, 'png'));
        lines.push(`${split}/${i}.png,${(b / 255) * 100}`);
      }
      fs.writeFileSync(path.join(root, `${split}.csv`), `${lines.join('\n')}\n`);
    }
    config = path.join(root, 'reg.yaml');
    fs.writeFileSync(config, [
      'name: reg',
      'task: regression',
      'regression: { targetNorm: auto, range: [0, 100] }',
      'model:',
      '  arch: { depths: [1, 1], dims: [8, 16], stemPatchSize: 2, kernelSize: 3 }',
      'data:',
      `  train: ${path.join(root, 'train.csv')}`,
      `  val: ${path.join(root, 'val.csv')}`,
      'augment: { inputSize: 16, scale: null, cropPct: 1, hflip: 0.5, randAugment: "", reprob: 0 }',
      'recipe: { epochs: 4, batchSize: 8, lr: 0.01, warmupEpochs: 0, modelEma: false, evalEma: false, loss: huber }',
    ].join('\n'));
  });

  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('records MAE / RMSE / R² per epoch, picks best by validation MAE, and evaluates in target units', async () => {
    const out = path.join(root, 'run');
    const res = await runFromConfig(config, { out, log: () => undefined, progress: false });
    const metrics = JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8')) as Array<Record<string, number>>;
    assert.equal(metrics.length, 4);
    for (const k of ['trainMae', 'trainRmse', 'trainR2', 'valMae', 'valRmse', 'valR2', 'valLoss']) {
      assert.ok(metrics.every((m) => Number.isFinite(m[k])), `${k} missing from metrics.json`);
    }
    assert.ok(metrics.every((m) => m.trainTop1 === null && m.valTop1 === undefined));
    assert.ok(fs.readFileSync(path.join(out, 'metrics.csv'), 'utf8').split('\n')[0].includes('valMae'));
    const best = Math.min(...metrics.map((m) => m.valMae));
    assert.deepEqual(res.best, { epoch: metrics.findIndex((m) => m.valMae === best), metric: 'valMae', value: best });
    const recorded = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    // auto became numbers: the training targets' mean and std
    assert.ok(typeof recorded.regression.targetNorm.mean === 'number' && recorded.regression.targetNorm.std > 0);
    assert.equal(recorded.recipe.monitor, 'valMae');
    const ev = JSON.parse(fs.readFileSync(path.join(out, 'eval.json'), 'utf8'));
    assert.equal(ev.model.task, 'regression');
    assert.ok(close(ev.model.mae, res.regressionEvaluation!.mae, 1e-9));
    // Predictions are clamped to the range, so the MAE cannot exceed it.
    assert.ok(ev.model.mae >= 0 && ev.model.mae <= 100);

    // The CLI: eval prints MAE / RMSE / R² and the buckets; predict prints the age of an image.
    const e = await cli(['eval', '--run', out, '--checkpoint', 'last', '--no-progress']);
    assert.equal(e.code, 0, e.err);
    assert.match(e.out, /MAE \d+\.\d+ months {2}RMSE \d+\.\d+ {2}R² -?\d/);
    assert.match(e.out, /bucket +count +MAE +bias/);
    assert.ok(fs.existsSync(path.join(out, 'eval-val.json')));
    // convnext train on the same config prints the regression figures.
    const t = await cli(['train', '--config', config, '--out', path.join(root, 'run-cli'), '--epochs', '1', '--no-progress']);
    assert.equal(t.code, 0, t.err);
    assert.match(t.out, /final: MAE \d+\.\d+, RMSE \d+\.\d+, R² -?\d/);
    const preds = await predictRegressionRun(out, [path.join(root, 'val', '0.png'), path.join(root, 'val', '1.png')], { checkpoint: 'last' });
    assert.equal(preds.length, 2);
    assert.ok(preds.every((p) => p.prediction >= 0 && p.prediction <= 100));
  });
});
