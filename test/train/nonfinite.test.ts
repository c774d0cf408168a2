import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';

import { tf } from '../../src/backend';
import { Module, type FeatureShape } from '../../src/nn/module';
import type { Classifier } from '../../src/convnext/model';
import { loadCheckpoint, loadCheckpointWeights } from '../../src/train/checkpoint';
import { fit } from '../../src/train/trainer';
import { flatWeights, tinyLoaders, tinyModel, TINY_RECIPE } from '../fixtures/train/tiny';
import { tmp } from './helpers';

const quiet = { progress: false, log: () => undefined };
const recipe = { ...TINY_RECIPE, epochs: 4, modelEma: false, evalEma: false };

/** tinyModel with hooks: NaN logits in eval mode from evaluation `nanEvalFrom` on; a NaN weight from epoch `nanWeightAt`. */
class Faulty extends Module implements Classifier {
  evals = 0;
  readonly spare: tf.Variable;
  constructor(readonly inner: Classifier, readonly o: { nanEvalFrom?: number; nanWeightAt?: number }) {
    super();
    this.registerModule('inner', inner);
    // Unused by the forward pass: it can go NaN without the training loss noticing (as a diverged buffer would).
    this.spare = this.registerParameter('spare', tf.zeros([4]));
  }
  override eval(): this {
    this.evals++;
    return super.eval();
  }
  forward(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const y = this.inner.forward(x);
      return !this.training && this.o.nanEvalFrom !== undefined && this.evals >= this.o.nanEvalFrom ? tf.mul(y, NaN) : y;
    });
  }
  onEpochStart(epoch: number): void {
    if (epoch === this.o.nanWeightAt) this.spare.assign(tf.fill([4], NaN));
  }
  profile(s: FeatureShape): FeatureShape {
    return s;
  }
}

const epochOf = (dir: string, name: string): number => loadCheckpoint(path.join(dir, 'checkpoints', name)).meta.position.epoch;
const finiteFile = (dir: string, name: string): boolean => {
  const m = new Faulty(tinyModel(1), {});
  loadCheckpointWeights(m, path.join(dir, 'checkpoints', name));
  const ok = flatWeights(m).every(Number.isFinite);
  m.dispose();
  return ok;
};

describe('non-finite states are never saved or chosen as best', function () {
  this.timeout(120_000);

  it('a NaN validation loss stops the run; best and last keep the last finite epoch', async () => {
    const dir = tmp('nan-val');
    const { train, val } = tinyLoaders();
    const model = new Faulty(tinyModel(0), { nanEvalFrom: 2 });
    await assert.rejects(fit({ model, train, val, recipe, runDir: dir, ...quiet }),
      (e: Error) => /validation loss is NaN at epoch 1 \(update \d+\); stopping.*last good checkpoint is kept/.test(e.message));
    assert.equal(epochOf(dir, 'last'), 1);
    assert.equal(epochOf(dir, 'best'), 1);
    assert.ok(finiteFile(dir, 'last') && finiteFile(dir, 'best'));
    assert.match(fs.readFileSync(path.join(dir, 'log.txt'), 'utf8'), /stopped: validation loss is NaN/);
    model.dispose();
  });

  it('non-finite weights stop the run before they are evaluated or saved', async () => {
    const dir = tmp('nan-weights');
    const { train, val } = tinyLoaders();
    const model = new Faulty(tinyModel(0), { nanWeightAt: 2 });
    await assert.rejects(fit({ model, train, val, recipe, runDir: dir, ...quiet }),
      (e: Error) => /weights are not finite \(spare\) at epoch 2/.test(e.message));
    assert.equal(epochOf(dir, 'last'), 2);
    assert.ok(epochOf(dir, 'best') <= 2);
    assert.ok(finiteFile(dir, 'last') && finiteFile(dir, 'best'));
    model.dispose();
  });

  it('mid-epoch saves (checkpointEverySteps) refuse non-finite weights too', async () => {
    const dir = tmp('nan-mid');
    const { train } = tinyLoaders();
    const model = new Faulty(tinyModel(0), { nanWeightAt: 1 });
    await assert.rejects(fit({ model, train, recipe: { ...recipe, checkpointEverySteps: 1 }, runDir: dir, ...quiet }),
      /weights are not finite \(spare\) at epoch 1/);
    const last = loadCheckpoint(path.join(dir, 'checkpoints', 'last')).meta.position;
    assert.deepEqual([last.epoch, last.batchInEpoch], [1, 0]);
    assert.ok(finiteFile(dir, 'last'));
    model.dispose();
  });
});
