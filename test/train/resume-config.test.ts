import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';

import { saveWeights } from '../../src/convnext/weights';
import { ConvNeXt } from '../../src/convnext/convnext';
import { cli, tinySetup, tmp } from './helpers';

describe('resume refuses a changed config; the class-count message names what train can do', function () {
  this.timeout(120_000);
  const root = tmp('resume-config');
  let config = '';
  const run = path.join(root, 'run');
  const read = (f: string): string => fs.readFileSync(path.join(run, f), 'utf8');

  before(async () => {
    config = await tinySetup(root);
  });

  it('a changed augmentation or dataset is refused, listing old → new; the folder is left as it was', async () => {
    const first = await cli(['train', '--config', config, '--out', run, '--epochs', '2', '--no-progress']);
    assert.equal(first.code, 0, first.err);
    const before = { config: read('config.json'), eval: read('eval.json') };
    const changed = await cli(['train', '--config', config, '--out', run, '--epochs', '2', '--resume', '--no-progress',
      '--set', 'augment.hflip=0', '--set', `data.val=${path.join(root, 'train')}`]);
    assert.equal(changed.code, 1);
    assert.match(changed.err, /cannot resume .*differs.*augment\.hflip 0\.5 → 0; data\.val ".*val" → ".*train".*--allow-config-change/);
    assert.equal(read('config.json'), before.config);
    assert.equal(read('eval.json'), before.eval);
    // The same config (and overrides) resumes.
    const same = await cli(['train', '--config', config, '--out', run, '--epochs', '2', '--resume', '--no-progress']);
    assert.equal(same.code, 0, same.err);
  });

  it('--allow-config-change resumes and records the change (log.txt, configChanges.json)', async () => {
    const r = await cli(['train', '--config', config, '--out', run, '--epochs', '3', '--resume', '--allow-config-change',
      '--set', 'augment.hflip=0', '--no-progress']);
    assert.equal(r.code, 0, r.err);
    const changes = JSON.parse(read('configChanges.json'));
    assert.equal(changes.length, 1);
    assert.deepEqual(changes[0].changes.map((c: { path: string }) => c.path).sort(), ['augment.hflip', 'recipe.epochs']);
    assert.deepEqual(changes[0].changes.find((c: { path: string }) => c.path === 'augment.hflip'), { path: 'augment.hflip', old: 0.5, new: 0 });
    assert.equal(changes[0].resumedAt.epoch, 2);
    assert.match(read('log.txt'), /config changed on resume \(allowed.*augment\.hflip 0\.5 → 0/);
    assert.equal(JSON.parse(read('config.json')).augment.hflip, 0);
  });

  it('weights with another class count: the error names newHead, not a --classes flag train lacks', async () => {
    const w = path.join(root, 'five.safetensors');
    const m = new ConvNeXt({ depths: [1, 1], dims: [8, 16], stemPatchSize: 2, kernelSize: 3, numClasses: 5 });
    saveWeights(m, w);
    m.dispose();
    const r = await cli(['train', '--config', config, '--out', path.join(root, 'ft'), '--set', `model.weights=${w}`, '--no-progress']);
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.err, /--classes/);
    assert.match(r.err, /5-class head but the dataset has 3 classes: set model\.newHead: true \(--set model\.newHead=true\)/);
    const ok = await cli(['train', '--config', config, '--out', path.join(root, 'ft2'), '--epochs', '1', '--set', `model.weights=${w}`,
      '--set', 'model.newHead=true', '--no-progress']);
    assert.equal(ok.code, 0, ok.err);
  });
});
