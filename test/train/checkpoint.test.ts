import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { tf } from '../../src/backend';
import { readSafetensors, writeSafetensors } from '../../src/convnext/safetensors';
import { loadWeights, saveWeights } from '../../src/convnext/weights';
import { AdamW } from '../../src/train/adamw';
import { CHECKPOINT_FORMAT, findCheckpoint, loadCheckpoint, restoreCheckpoint, saveCheckpoint } from '../../src/train/checkpoint';
import { ModelEma } from '../../src/train/ema';
import { buildParamGroups } from '../../src/train/param-groups';
import { flatWeights, tinyModel } from '../fixtures/train/tiny';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'cnx-ck-'));
const position = { epoch: 2, batchInEpoch: 0, step: 10, microStep: 20 };

function trainedState(seed: number) {
  const model = tinyModel(seed);
  const opt = new AdamW(buildParamGroups(model, { weightDecay: 0.05 }));
  const ema = new ModelEma(model, 0.9);
  const grads = opt.variables.map((v) => tf.onesLike(v));
  opt.step(grads, { lr: 1e-2 });
  ema.update();
  tf.dispose(grads);
  return { model, opt, ema };
}

describe('checkpoints', () => {
  it('weights round-trip through safetensors in PyTorch layouts, and bad files fail clearly', () => {
    const dir = tmp();
    const a = tinyModel(1);
    const b = tinyModel(2);
    const file = path.join(dir, 'w.safetensors');
    saveWeights(a, file);
    loadWeights(b, file);
    assert.deepEqual(flatWeights(b), flatWeights(a));
    // PyTorch layout on disk: the depthwise kernel [3, 3, 8, 1] is stored as [8, 1, 3, 3].
    const { tensors } = readSafetensors(file);
    assert.deepEqual(tensors.get('stages.0.0.dwconv.weight')!.shape, [8, 1, 3, 3]);
    writeSafetensors(path.join(dir, 'foreign.safetensors'), { x: { shape: [1], data: new Float32Array(1) } });
    assert.throws(() => loadWeights(b, path.join(dir, 'foreign.safetensors')), /x/);
    assert.throws(() => loadWeights(b, path.join(dir, 'missing.safetensors')), /not found/);
    a.dispose();
    b.dispose();
  });

  it('a checkpoint restores model, optimizer state and EMA exactly', () => {
    const dir = tmp();
    const src = trainedState(1);
    saveCheckpoint(dir, 'last', { model: src.model, optimizer: src.opt, ema: src.ema, position, seed: 3, extra: { note: 'x' } });
    const dst = trainedState(2);
    const ck = loadCheckpoint<{ note: string }>(findCheckpoint(dir, 'last')!);
    // A checkpoint's weights are tagged as this library's (plain saveWeights files are official-format only).
    const { metadata } = readSafetensors(ck.weightsFile);
    assert.equal(metadata.convnext_ts, CHECKPOINT_FORMAT);
    assert.deepEqual(ck.meta.position, position);
    assert.equal(ck.meta.extra.note, 'x');
    restoreCheckpoint(ck, dst.model, dst.opt, dst.ema);
    assert.deepEqual(flatWeights(dst.model), flatWeights(src.model));
    assert.deepEqual(dst.opt.state(), src.opt.state());
    assert.deepEqual(dst.ema.state(), src.ema.state());
    for (const s of [src, dst]) {
      s.opt.dispose();
      s.ema.dispose();
      s.model.dispose();
    }
  });

  it('is atomic: a failed save leaves the previous checkpoint whole, and a crash mid-swap is recovered', () => {
    const dir = tmp();
    const s = trainedState(1);
    saveCheckpoint(dir, 'last', { model: s.model, optimizer: s.opt, position, seed: 0, extra: 1 });
    const before = fs.readFileSync(path.join(dir, 'last', 'model.safetensors'));
    // The EMA's state() throws after the weights were written to last.tmp.
    const broken = { state: () => { throw new Error('disk full'); } } as unknown as ModelEma;
    assert.throws(() => saveCheckpoint(dir, 'last', { model: s.model, optimizer: s.opt, ema: broken, position, seed: 0, extra: 2 }), /disk full/);
    assert.deepEqual(fs.readFileSync(path.join(dir, 'last', 'model.safetensors')), before);
    assert.equal(loadCheckpoint<number>(findCheckpoint(dir, 'last')!).meta.extra, 1);
    // A crash between the two renames leaves only last.old (and maybe last.tmp): it is found and loads.
    fs.renameSync(path.join(dir, 'last'), path.join(dir, 'last.old'));
    assert.equal(findCheckpoint(dir, 'last'), path.join(dir, 'last.old'));
    assert.equal(loadCheckpoint<number>(findCheckpoint(dir, 'last')!).meta.extra, 1);
    // The next save cleans up and leaves exactly one `last`.
    saveCheckpoint(dir, 'last', { model: s.model, optimizer: s.opt, position, seed: 0, extra: 3 });
    assert.deepEqual(fs.readdirSync(dir).sort(), ['last']);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'last')).sort(), ['model.safetensors', 'state.json', 'state.safetensors']);
    assert.equal(findCheckpoint(dir, 'best'), undefined);
    s.opt.dispose();
    s.ema.dispose();
    s.model.dispose();
  });
});
