import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { cli, tinySetup } from '../train/helpers';

describe('CLI train / eval (tiny synthetic image folders)', function () {
  this.timeout(120_000);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cnx-cli-'));
  const configFile = path.join(root, 'tiny.yaml');
  const runDir = path.join(root, 'run');

  before(async () => {
    await tinySetup(root, '{ epochs: 5, batchSize: 12, lr: 0.01, warmupEpochs: 0, modelEma: true, emaDecay: 0.9, evalEma: true }');
  });

  it('train: runs a YAML config with flag overrides into a run folder', async () => {
    const { out, code } = await cli(['train', '--config', configFile, '--out', runDir, '--epochs', '3', '--set', 'recipe.minLr=0.0001', '--no-progress']);
    assert.equal(code, 0);
    assert.match(out, /final: top-1 \d+\.\d+%/);
    const recipe = JSON.parse(fs.readFileSync(path.join(runDir, 'recipe.json'), 'utf8'));
    assert.equal(recipe.epochs, 3);
    assert.equal(recipe.minLr, 0.0001);
    assert.equal(recipe.loss, 'label-smoothing');
    const ev = JSON.parse(fs.readFileSync(path.join(runDir, 'eval.json'), 'utf8'));
    assert.deepEqual(ev.classes, ['blue', 'green', 'red']);
    assert.equal(ev.model.confusion.length, 3);
    // A second train into the same folder without --resume is refused.
    const again = await cli(['train', '--config', configFile, '--out', runDir, '--no-progress']);
    assert.equal(again.code, 1);
    assert.match(again.err, /^convnext: error: .*--resume/);
  });

  it('train through the bin, piped: the epoch summaries, no line per batch (a line every 30 s off a terminal)', () => {
    const bin = path.join(__dirname, '..', '..', 'bin', 'convnext.js');
    const out = path.join(root, 'run-piped');
    const r = spawnSync(process.execPath, [bin, 'train', '--config', configFile, '--out', out, '--epochs', '2', '--batch-size', '2',
      '--set', 'recipe.modelEma=false'], { encoding: 'utf-8', env: { ...process.env, DEBUG: '' } });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(r.stdout, /18 batches of 2 per epoch/);
    assert.deepEqual(lines.filter((l) => /^epoch \d+\/2 \d+\/18/.test(l)), [], 'per-batch lines');
    assert.equal(lines.filter((l) => /^epoch \d\/2: loss \d/.test(l)).length, 2, r.stdout);
    assert.match(r.stdout, /^final: top-1/m);
  });

  it('eval --run: prints top-1 / top-5, per-class P/R/F1, the confusion matrix and writes JSON', async () => {
    const { out, code } = await cli(['eval', '--run', runDir, '--data', root, '--split', 'val', '--ema', '--no-progress']);
    assert.equal(code, 0);
    assert.match(out, /top-1 \d+\.\d+%\s+top-5 100\.00%/);
    assert.match(out, /class\s+precision\s+recall\s+f1\s+support/);
    assert.match(out, /confusion matrix/);
    const saved = JSON.parse(fs.readFileSync(path.join(runDir, 'eval-val-ema.json'), 'utf8'));
    assert.equal(saved.model.count, 12);
    assert.match(saved.source, /EMA/);
  });

  it('eval refuses ambiguous or missing inputs with one-line errors', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['eval', '--no-progress'], /exactly one of --run DIR or --weights FILE/],
      [['eval', '--weights', 'x.safetensors', '--no-progress'], /--model/],
      [['eval', '--run', runDir, '--data', path.join(root, 'nope'), '--no-progress'], /not found/],
      [['train', '--config', path.join(root, 'missing.yaml'), '--no-progress'], /config file not found/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.err, re);
    }
  });
});
