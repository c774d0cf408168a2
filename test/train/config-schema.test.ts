import { strict as assert } from 'assert';
import * as path from 'path';

import { augmentConfig } from '../../src/augment/config';
import { applyTrainFlags } from '../../src/cli/commands/train';
import { checkConfig, loadConfigFile } from '../../src/train/config';
import { resolveRecipe } from '../../src/train/recipe';

const base = { name: 'x', model: { name: 'convnext_atto' }, data: { name: 'cifar10' } };
const fails = (raw: unknown, re: RegExp): void => {
  assert.throws(() => checkConfig(raw), (e: Error) => {
    assert.match(e.message, re);
    return true;
  });
};

describe('training config schema: every level, every value', () => {
  it('nested unknown keys are refused with the key meant', () => {
    fails({ ...base, recipe: { learning_rate: 0.1 } }, /unknown keys recipe\.learning_rate \(did you mean recipe\.lr\?\)/);
    fails({ ...base, augment: { input_size: 32 } }, /unknown keys augment\.input_size \(did you mean augment\.inputSize\?\)/);
    fails({ ...base, model: { name: 'x', options: { drop_path_rate: 0.1 } } },
      /unknown keys model\.options\.drop_path_rate \(did you mean model\.options\.dropPathRate\?\)/);
    fails({ ...base, options: { drop_path_rate: 0.1 } }, /unknown keys options \(did you mean model\.options\?\)/);
    fails({ ...base, data: { name: 'cifar10', per_class: 3 } }, /data\.per_class \(did you mean data\.perClass\?\)/);
    fails({ ...base, model: { arch: { depths: [1], dims: [8], kernel: 3 } } }, /unknown keys model\.arch\.kernel/);
  });

  it('--set of an unknown key fails (recipe.learningRate)', () => {
    const c = checkConfig(base);
    assert.throws(() => applyTrainFlags(c, { set: ['recipe.learningRate=0.5'] }), /unknown keys recipe\.learningRate \(did you mean recipe\.lr\?\)/);
    assert.throws(() => applyTrainFlags(c, { set: ['augment.reprob=2'] }), /augment\.reprob must be a probability in \[0, 1\], got 2/);
    assert.equal(applyTrainFlags(c, { set: ['recipe.lr=0.5'] }).recipe!.lr, 0.5);
  });

  it('out-of-range values name the allowed range and the value', () => {
    fails({ ...base, augment: { reprob: 2 } }, /augment\.reprob must be a probability in \[0, 1\], got 2/);
    fails({ ...base, augment: { mixup: -1 } }, /augment\.mixup must be .*>= 0.*, got -1/);
    fails({ ...base, augment: { scale: [1.0, 0.5] } }, /augment\.scale must be \[min, max\] with 0 < min <= max <= 1, got \[1, 0\.5\]/);
    fails({ ...base, model: { name: 'x', options: { dropPathRate: 5 } } }, /model\.options\.dropPathRate must be a rate in \[0, 1\), got 5/);
    fails({ ...base, recipe: { emaDecay: 1.5 } }, /recipe\.emaDecay must be a probability in \[0, 1\], got 1\.5/);
    fails({ ...base, augment: { geometric: { rotate: 15, scale: [0.9, 1.1], translate: 2 } } }, /augment\.geometric\.translate must be/);
  });

  it('type errors say the type of the value given', () => {
    fails({ ...base, recipe: { epochs: '2' } }, /recipe\.epochs must be a positive integer, got the string "2"/);
    fails({ ...base, augment: { hflip: true } }, /augment\.hflip must be a probability in \[0, 1\], got true/);
    fails({ ...base, augment: 'x' }, /augment must be an object, got the string "x"/);
    assert.throws(() => resolveRecipe({ epochs: '2' as unknown as number }), /^Error: recipe: epochs must be a positive integer, got the string "2"$/);
  });

  it('the resolved config a run folder records checks again (eval --run reads it)', () => {
    const c = loadConfigFile(path.join(__dirname, '..', '..', 'configs', 'cifar10-quick.yaml'));
    const resolved = { ...c, augment: { ...augmentConfig(c.augment), cropPadding: 2 }, recipe: resolveRecipe(c.recipe) };
    checkConfig(JSON.parse(JSON.stringify(resolved)));
  });
});
