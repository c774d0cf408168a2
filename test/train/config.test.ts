import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';

import { augmentConfig, PAPER_AUGMENT } from '../../src/augment/config';
import { getModelEntry } from '../../src/convnext/registry';
import { applyTrainFlags } from '../../src/cli/commands/train';
import { checkConfig, configHash, loadConfigFile, parseValue, setPath } from '../../src/train/config';
import { PAPER_RECIPE, resolveRecipe } from '../../src/train/recipe';

const CONFIGS = path.join(__dirname, '..', '..', 'configs');

describe('training configs', () => {
  for (const f of fs.readdirSync(CONFIGS).filter((x) => /\.(ya?ml|json)$/.test(x))) {
    it(`${f} parses and resolves (model registered, recipe valid)`, () => {
      const c = loadConfigFile(path.join(CONFIGS, f));
      if (c.model.name) getModelEntry(c.model.name);
      resolveRecipe(c.recipe);
      augmentConfig(c.augment);
    });
  }

  it('the ImageNet config is the paper\'s recipe (Table 5): every recipe and augmentation value matches the defaults', () => {
    const c = loadConfigFile(path.join(CONFIGS, 'imagenet-convnext-tiny.yaml'));
    const r = resolveRecipe(c.recipe);
    for (const k of ['epochs', 'batchSize', 'optimizer', 'lr', 'minLr', 'warmupEpochs', 'weightDecay', 'emaDecay', 'modelEma', 'smoothing', 'loss'] as const) {
      assert.deepEqual(r[k], PAPER_RECIPE[k], k);
    }
    assert.deepEqual(r.betas, [0.9, 0.999]);
    const a = augmentConfig(c.augment);
    for (const k of ['inputSize', 'scale', 'hflip', 'randAugment', 'reprob', 'mixup', 'cutmix', 'mixupSwitchProb', 'smoothing', 'cropPct'] as const) {
      assert.deepEqual(a[k], PAPER_AUGMENT[k], k);
    }
    assert.equal(c.model.options?.dropPathRate, 0.1);
    assert.equal(c.model.options?.layerScaleInitValue, 1e-6);
    // Paper values, independently of the defaults: AdamW 4e-3 at 4096, wd 0.05, 300 epochs, 20 warmup, EMA 0.9999.
    assert.deepEqual([r.lr, r.batchSize, r.weightDecay, r.epochs, r.warmupEpochs, r.emaDecay], [4e-3, 4096, 0.05, 300, 20, 0.9999]);
    assert.deepEqual([a.randAugment, a.mixup, a.cutmix, a.smoothing, a.reprob], ['rand-m9-mstd0.5-inc1', 0.8, 1.0, 0.1, 0.25]);
  });

  it('overrides: --set paths, named flags, value parsing; unknown keys and bad values fail clearly', () => {
    const c = loadConfigFile(path.join(CONFIGS, 'cifar10-quick.yaml'));
    const o = applyTrainFlags(c, { epochs: '2', lr: '1e-3', set: ['recipe.modelEma=true', 'augment.mixup=0.2', 'model.options.dropPathRate=0.05'] });
    assert.equal(o.recipe!.epochs, 2);
    assert.equal(o.recipe!.lr, 0.001);
    assert.equal(o.recipe!.modelEma, true);
    assert.equal(o.augment!.mixup, 0.2);
    assert.equal(o.model.options!.dropPathRate, 0.05);
    assert.notEqual(c.recipe!.epochs, 2, 'the original config is untouched');
    assert.deepEqual(parseValue('[1, 2]'), [1, 2]);
    assert.equal(parseValue('rand-m9'), 'rand-m9');
    assert.equal(setPath({ a: { b: 1 } }, 'a.b', null).a.b, undefined);
    assert.throws(() => applyTrainFlags(c, { epochs: 'x', set: [] }), /--epochs expects a number/);
    assert.throws(() => applyTrainFlags(c, { set: ['novalue'] }), /key=value/);
    assert.throws(() => checkConfig({ model: { name: 'x' }, data: { name: 'cifar10' }, recipes: {} }), /unknown keys recipes/);
    assert.throws(() => checkConfig({ model: {}, data: { name: 'cifar10' } }), /model.name or model.arch/);
    assert.throws(() => resolveRecipe({ batchSize: 100, microBatch: 30 }), /multiple of microBatch/);
  });

  it('config hashes ignore key order and see every value', () => {
    assert.equal(configHash({ a: 1, b: { c: 2, d: 3 } }), configHash({ b: { d: 3, c: 2 }, a: 1 }));
    assert.notEqual(configHash({ a: 1 }), configHash({ a: 2 }));
  });
});
