/**
 * The hand-off to timm's train.py: configs/imagenet-convnext-tiny.yaml must come out as the official
 * ConvNeXt-T recipe (its published hyperparameters, written by hand into a fixture), and what timm cannot
 * express is refused by name.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as yaml from 'js-yaml';

import { loadConfigFile, type TrainConfig } from '../../src/train/config';
import { RecipeExportError, timmCommand, timmRecipe, timmYaml } from '../../src/train/timm-recipe';

const root = path.resolve(__dirname, '..', '..');
const official = JSON.parse(fs.readFileSync(path.join(root, 'test', 'fixtures', 'recipes', 'official-convnext-tiny-in1k.json'), 'utf8'));
const paperConfig = (): TrainConfig => loadConfigFile(path.join(root, 'configs', 'imagenet-convnext-tiny.yaml'));

describe('export-recipe: timm train.py', () => {
  it('maps the paper\'s ConvNeXt-T recipe onto the official hyperparameters, on 8 GPUs', () => {
    const { args } = timmRecipe(paperConfig(), official.nproc_per_node);
    const o = official;
    assert.equal(args.model, o.model);
    assert.equal(args.drop_path, o.drop_path);
    // 8 processes x 128 images x 4 accumulated = the 4096 of one update (official --update_freq 4).
    assert.equal(args.batch_size, o.batch_size);
    assert.equal(args.grad_accum_steps, o.update_freq);
    assert.equal((args.batch_size as number) * o.nproc_per_node * (args.grad_accum_steps as number), o.total_batch);
    for (const k of ['lr', 'min_lr', 'epochs', 'warmup_epochs', 'opt', 'opt_eps', 'weight_decay', 'model_ema', 'model_ema_decay',
      'crop_pct', 'train_interpolation', 'aa', 'smoothing', 'reprob', 'remode', 'recount', 'mixup', 'cutmix', 'mixup_prob',
      'mixup_switch_prob', 'mixup_mode', 'seed']) {
      assert.deepEqual(args[k], o[k], k);
    }
    assert.deepEqual(args.opt_betas, o.opt_betas);
    assert.deepEqual(args.input_size, [3, o.input_size, o.input_size]);
    // The official schedule steps per update and warms up from 0; timm's defaults do neither.
    assert.equal(args.sched, 'cosine');
    assert.equal(args.sched_on_updates, true);
    assert.equal(args.warmup_lr, 0);
    assert.equal(args.cooldown_epochs, 0);
    // Equal to timm's ConvNeXt defaults, so not passed; layer decay 1 (off) likewise.
    assert.equal(o.layer_scale_init_value, 1e-6);
    assert.equal(o.head_init_scale, 1.0);
    assert.equal(args.model_kwargs, undefined);
    assert.equal(args.layer_decay, undefined);
    assert.deepEqual([args.data_dir, args.train_split, args.val_split], ['data/imagenet', 'train', 'val']);
  });

  it('writes the command line and a YAML args file that say the same', () => {
    const r = timmRecipe(paperConfig(), 8);
    const cmd = timmCommand(r, 8);
    assert.ok(cmd.startsWith('torchrun --nproc_per_node=8 train.py'));
    for (const part of ['--model convnext_tiny', '--batch-size 128', '--grad-accum-steps 4', '--lr 0.004', '--opt-betas 0.9 0.999',
      '--aa rand-m9-mstd0.5-inc1', '--input-size 3 224 224', '--model-ema \\', '--sched-on-updates \\']) {
      assert.ok(cmd.includes(part), `${part} in\n${cmd}`);
    }
    assert.deepEqual(yaml.load(timmYaml(r)), r.args);
  });

  it('splits the batch for another GPU count, and refuses one that does not divide it', () => {
    const c = paperConfig();
    const { args } = timmRecipe(c, 4);
    assert.deepEqual([args.batch_size, args.grad_accum_steps], [128, 8]);
    assert.throws(() => timmRecipe(c, 3), /recipe\.batchSize 4096 is not microBatch \(128\) x 3 GPUs/);
  });

  it('refuses what timm cannot express, naming each setting', () => {
    const study: TrainConfig = { ...paperConfig(), model: { name: 'study_tiny_cbam' } };
    assert.throws(() => timmRecipe(study, 8), (e: Error) => e instanceof RecipeExportError && /study_tiny_cbam.*not a timm model/.test(e.message));
    const many: TrainConfig = {
      ...paperConfig(),
      augment: { ...paperConfig().augment, geometric: { rotate: 10, scale: [0.9, 1.1], translate: 0.1 } },
      recipe: { ...paperConfig().recipe, weightDecayEnd: 0.5, warmupSteps: 100 },
    };
    assert.throws(() => timmRecipe(many, 8), (e: Error) =>
      /augment\.geometric/.test(e.message) && /weightDecayEnd/.test(e.message) && /warmupSteps/.test(e.message));
  });

  it('runs as `convnext export-recipe`, writing the YAML beside the printed command', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cnx-recipe-')), 'args.yaml');
    const r = spawnSync(process.execPath, [path.join(root, 'bin', 'convnext.js'), 'export-recipe', '--config',
      path.join(root, 'configs', 'imagenet-convnext-tiny.yaml'), '--engine', 'timm', '--gpus', '8', '--yaml', out], { encoding: 'utf8', cwd: root });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /torchrun --nproc_per_node=8 train\.py/);
    assert.match(r.stdout, /convert_pth\.py/);
    assert.equal((yaml.load(fs.readFileSync(out, 'utf8')) as Record<string, unknown>).grad_accum_steps, 4);
    const bad = spawnSync(process.execPath, [path.join(root, 'bin', 'convnext.js'), 'export-recipe', '--config',
      path.join(root, 'configs', 'cifar10-quick.yaml')], { encoding: 'utf8', cwd: root });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /timm's train\.py cannot express this config/);
  });
});
