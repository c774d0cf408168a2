import { strict as assert } from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { tf } from '../../src/backend';
import { Module, type FeatureShape } from '../../src/nn/module';
import type { TrainRecipe } from '../../src/train/recipe';
import type { Classifier } from '../../src/convnext/model';
import { evaluate, NonFiniteLossError } from '../../src/train/engine';
import type { BatchLoader } from '../../src/train/loaders';
import { fit } from '../../src/train/trainer';
import { flatWeights, SyntheticDataset, tinyLoaders, tinyModel, TINY_RECIPE } from '../fixtures/train/tiny';

const tmp = (name: string): string => fs.mkdtempSync(path.join(os.tmpdir(), `cnx-${name}-`));
const quiet = { progress: false, log: () => undefined };

/** Bitwise equality of two weight vectors, reported as the largest difference. */
function assertSameWeights(a: Float32Array, b: Float32Array): void {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  assert.equal(worst, 0, `weights differ by up to ${worst}`);
}

/** fit from tinyModel(0) with `recipe` into a fresh run folder, keeping the log lines. */
async function fitLogged(name: string, recipe: Partial<TrainRecipe>) {
  const dir = tmp(name);
  const { train, val } = tinyLoaders();
  const model = tinyModel(0);
  const lines: string[] = [];
  const res = await fit({ model, train, val, recipe, runDir: dir, progress: false, log: (l) => lines.push(l) });
  return { dir, model, lines, res };
}

describe('fit (tiny synthetic task)', function () {
  this.timeout(120_000);

  it('learns the task and records the run: config, environment, metrics CSV/JSON, checkpoints, TensorBoard', async () => {
    const dir = tmp('fit');
    const { train, val } = tinyLoaders();
    const model = tinyModel(0);
    const res = await fit({ model, train, val, recipe: { ...TINY_RECIPE, epochs: 4 }, runDir: dir, config: { hello: 1 }, ...quiet });
    assert.equal(res.history.length, 4);
    assert.ok(res.final.valTop1! > 0.9, `val top-1 ${res.final.valTop1}`);
    assert.ok(res.history[3].trainLoss < res.history[0].trainLoss);
    for (const f of ['config.json', 'recipe.json', 'environment.json', 'metrics.csv', 'metrics.json', 'summary.json', 'log.txt',
      'checkpoints/best/model.safetensors', 'checkpoints/best/state.safetensors', 'checkpoints/last/state.json']) {
      assert.ok(fs.existsSync(path.join(dir, f)), f);
    }
    const csv = fs.readFileSync(path.join(dir, 'metrics.csv'), 'utf8').trim().split('\n');
    assert.equal(csv.length, 5);
    assert.ok(csv[0].startsWith('epoch,step,lr,trainLoss'));
    const env = JSON.parse(fs.readFileSync(path.join(dir, 'environment.json'), 'utf8'));
    assert.ok(env.backend.name && env.backend.versions['tfjs-core']);
    assert.ok(fs.readdirSync(path.join(dir, 'events')).some((f) => f.startsWith('events.out.tfevents')));
    // 48 images, micro-batches of 8, 2 per update: 3 updates per epoch.
    assert.equal(res.final.step, 12);
    res.ema?.dispose();
    model.dispose();
  });

  it('accepts a Dataset + augmentation instead of a loader (timm pipeline, Mixup targets, soft-target loss)', async () => {
    const model = tinyModel(0);
    const augment = { inputSize: 16, scale: [0.5, 1] as [number, number], randAugment: 'rand-m5-mstd0.5', reprob: 0.25, mixup: 0.8, cutmix: 1.0 };
    const res = await fit({
      model, train: { dataset: new SyntheticDataset(48), augment }, val: { dataset: new SyntheticDataset(24, 99), augment },
      recipe: { ...TINY_RECIPE, epochs: 2, loss: 'soft-target', modelEma: false, evalEma: false }, ...quiet,
    });
    assert.equal(res.history.length, 2);
    assert.equal(res.final.trainTop1, null, 'no training accuracy on mixed targets');
    assert.ok(Number.isFinite(res.final.valTop1!));
    model.dispose();
  });

  it('keeps the tensor count flat across epochs', async () => {
    const { train, val } = tinyLoaders();
    const model = tinyModel(0);
    const counts: number[] = [];
    const res = await fit({ model, train, val, recipe: TINY_RECIPE, ...quiet, onEpoch: () => { counts.push(tf.memory().numTensors); } });
    assert.equal(counts.length, 3);
    assert.equal(counts[2], counts[1], `tensors after each epoch: ${counts}`);
    assert.equal(counts[1], counts[0], `tensors after each epoch: ${counts}`);
    res.ema?.dispose();
    model.dispose();
  });

  it('stops on a non-finite loss with a message naming the epoch and batch', async () => {
    class NaNAfter extends Module implements Classifier {
      calls = 0;
      constructor(readonly inner: Classifier, readonly after: number) {
        super();
        this.registerModule('inner', inner);
      }
      forward(x: tf.Tensor4D): tf.Tensor2D {
        this.calls++;
        return tf.tidy(() => {
          const y = this.inner.forward(x);
          return this.calls > this.after ? tf.mul(y, NaN) : y;
        });
      }
      profile(s: FeatureShape): FeatureShape {
        return s;
      }
    }
    const { train } = tinyLoaders();
    const model = new NaNAfter(tinyModel(0), 8);
    await assert.rejects(
      fit({ model, train, recipe: { ...TINY_RECIPE, modelEma: false, evalEma: false }, ...quiet }),
      (e: unknown) => e instanceof NonFiniteLossError && /loss is NaN at epoch 1, batch 2 \(update 4\)/.test(e.message),
    );
    model.dispose();
  });

  it('resuming an interrupted run (abort signal mid-epoch) reaches the same weights bitwise', async () => {
    const ref = tinyModel(0);
    const { train: t1, val: v1 } = tinyLoaders();
    const a = await fit({ model: ref, train: t1, val: v1, recipe: TINY_RECIPE, ...quiet });

    const dir = tmp('abort');
    const ctl = new AbortController();
    const first = tinyModel(0);
    const { train: t2, val: v2 } = tinyLoaders();
    let batches = 0;
    const counting = {
      numBatches: t2.numBatches,
      numClasses: t2.numClasses,
      setEpoch: (e: number, b?: number) => t2.setEpoch(e, b),
      async *[Symbol.asyncIterator]() {
        for await (const batch of t2) {
          if (++batches === 8) ctl.abort(); // epoch 1, after its first update
          yield batch;
        }
      },
    };
    const b1 = await fit({ model: first, train: counting, val: v2, recipe: TINY_RECIPE, runDir: dir, signal: ctl.signal, ...quiet });
    assert.equal(b1.interrupted, true);
    b1.ema?.dispose();
    first.dispose();

    const second = tinyModel(42); // different initialisation: everything must come from the checkpoint
    const { train: t3, val: v3 } = tinyLoaders();
    const b2 = await fit({ model: second, train: t3, val: v3, recipe: TINY_RECIPE, runDir: dir, resume: true, ...quiet });
    assertSameWeights(flatWeights(second), flatWeights(ref));
    for (const [n, v] of Object.entries(a.ema!.state())) assertSameWeights(b2.ema!.state()[n], v);
    assert.deepEqual(b2.history.map((h) => h.valTop1), a.history.map((h) => h.valTop1));
    assert.deepEqual(b2.history.map((h) => h.trainLoss), a.history.map((h) => h.trainLoss));
    const rows = JSON.parse(fs.readFileSync(path.join(dir, 'metrics.json'), 'utf8'));
    assert.equal(rows.length, 3);
    for (const r of [a, b2]) r.ema?.dispose();
    ref.dispose();
    second.dispose();
  });

  it('resuming a killed child process (SIGKILL after epoch 0) reaches the same weights bitwise', async () => {
    const ref = tinyModel(7);
    const { train, val } = tinyLoaders();
    const a = await fit({ model: ref, train, val, recipe: TINY_RECIPE, ...quiet });
    a.ema?.dispose();

    const dir = tmp('kill');
    const child = spawn(process.execPath, ['-r', 'tsx/cjs', path.join(__dirname, '..', 'fixtures/train/tiny.ts'), dir], {
      cwd: path.join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('EPOCH 0')) child.kill('SIGKILL');
      });
      child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited ${code} before the kill`))));
    });
    const saved = JSON.parse(fs.readFileSync(path.join(dir, 'checkpoints/last/state.json'), 'utf8'));
    assert.ok(saved.position.epoch < 3, 'the child was killed before finishing');

    const resumed = tinyModel(123);
    const { train: t2, val: v2 } = tinyLoaders();
    const b = await fit({ model: resumed, train: t2, val: v2, recipe: TINY_RECIPE, runDir: dir, resume: true, ...quiet });
    assertSameWeights(flatWeights(resumed), flatWeights(ref));
    assert.equal(b.history.length, 3);
    b.ema?.dispose();
    ref.dispose();
    resumed.dispose();
  });

  it('maxTrainMinutes ends training at the epoch whose successor would pass the budget', async () => {
    const { dir, model: m, lines, res: r } = await fitLogged('budget', { ...TINY_RECIPE, maxTrainMinutes: 1e-5 });
    assert.equal(r.history.length, 1);
    assert.ok(lines.some((l) => /stopping after epoch 1 of 3: another epoch .* would pass the 0.00001-minute training budget/.test(l)), lines.join('\n'));
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')).stoppedEarly, true);
    r.ema?.dispose();
    m.dispose();
  });

  it('budgetSchedule changes nothing while the budget does not bind', async () => {
    const { train, val } = tinyLoaders();
    const plain = tinyModel(0);
    const budget = tinyModel(0);
    const a = await fit({ model: plain, train, val, recipe: TINY_RECIPE, ...quiet });
    const lines: string[] = [];
    const b = await fit({ model: budget, train, val, recipe: { ...TINY_RECIPE, maxTrainMinutes: 60, budgetSchedule: true }, progress: false, log: (l) => lines.push(l) });
    assert.deepEqual(b.history.map((h) => [h.step, h.lr]), a.history.map((h) => [h.step, h.lr]));
    assertSameWeights(flatWeights(budget), flatWeights(plain));
    assert.ok(lines.some((l) => /^budget: 9 updates \(3\.00 epochs\) end the schedule at 60 min/.test(l)), lines.join('\n'));
    a.ema?.dispose();
    b.ema?.dispose();
    plain.dispose();
    budget.dispose();
  });

  it('budgetSchedule stops mid-epoch when the budget is spent, and evaluates that last partial epoch', async () => {
    const { dir, model: m, lines, res: r } = await fitLogged('budget-schedule', { ...TINY_RECIPE, maxTrainMinutes: 1e-6, budgetSchedule: true });
    // The first update already takes longer than 60 µs.
    assert.equal(r.history.length, 1);
    assert.equal(r.final.step, 1);
    assert.ok(Number.isFinite(r.final.valTop1!));
    assert.ok(lines.some((l) => /stopping after 1 updates: the 0.000001-minute budget is spent/.test(l)), lines.join('\n'));
    const summary = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
    assert.equal(summary.updates, 1);
    r.ema?.dispose();
    m.dispose();
  });

  it('refuses to resume with a different recipe', async () => {
    const dir = tmp('recipe');
    const { train } = tinyLoaders();
    const m = tinyModel(0);
    const r = await fit({ model: m, train, recipe: { ...TINY_RECIPE, epochs: 1 }, runDir: dir, ...quiet });
    r.ema?.dispose();
    await assert.rejects(fit({ model: m, train, recipe: { ...TINY_RECIPE, epochs: 1, lr: 1 }, runDir: dir, resume: true, ...quiet }), /recipe differs from this one in lr/);
    m.dispose();
  });
});

describe('evaluate with flip test-time augmentation', () => {
  /** Two-class logits [sum of the leftmost pixel column, 0]: a model that is not mirror-symmetric. */
  class LeftColumn extends Module implements Classifier {
    forward(x: tf.Tensor4D): tf.Tensor2D {
      return tf.tidy(() => {
        const left = tf.sum(tf.slice(x, [0, 0, 0, 0], [-1, -1, 1, -1]), [1, 2, 3]);
        return tf.stack([left, tf.zerosLike(left)], 1) as tf.Tensor2D;
      });
    }
    profile(input: FeatureShape): FeatureShape {
      return input;
    }
  }

  it('averages the logits of each image and its mirror image', async () => {
    // Left column -1, right column +3, label 0: alone the logits are [-4, 0] (wrong), with the mirror
    // image [(-4 + 12) / 2, 0] = [4, 0] (right).
    const img = tf.tidy(() => tf.concat([tf.fill([1, 4, 1, 1], -1), tf.zeros([1, 4, 2, 1]), tf.fill([1, 4, 1, 1], 3)], 2));
    const loader: BatchLoader = {
      numBatches: 1,
      numClasses: 2,
      setEpoch: () => undefined,
      async *[Symbol.asyncIterator]() {
        yield { x: img.clone() as tf.Tensor4D, y: tf.tensor2d([[1, 0]]), labels: Int32Array.from([0]), indices: Int32Array.from([0]) };
      },
    };
    const model = new LeftColumn();
    const plain = await evaluate(model, loader, { progress: false });
    const tta = await evaluate(model, loader, { flipTta: true, progress: false });
    assert.equal(plain.top1, 0);
    assert.equal(tta.top1, 1);
    // Cross-entropy of logits [4, 0] for class 0: log(1 + e^-4).
    assert.ok(Math.abs(tta.loss - Math.log1p(Math.exp(-4))) < 1e-6, `loss ${tta.loss}`);
    img.dispose();
  });
});
