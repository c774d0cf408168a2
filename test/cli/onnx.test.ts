/**
 * `convnext export --format onnx` and `convnext predict --onnx`, spawned as a user runs them: a small
 * registry model with random non-trivial weights is exported, and predict through ONNX Runtime gives the
 * TensorFlow.js path's logits for the same images (same preprocessing); bad combinations of options fail
 * with one clear line.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { createModel, saveWeights } from '../../src/convnext';
import { randomize } from '../convnext/onnx-helpers';
import { assertFails, runBin } from './bin';

interface PredictJson {
  classes: number;
  size: number;
  predictions: Array<{ image: string; logits: number[]; topk: Array<{ index: number; label: string }> }>;
  errors: unknown[];
}

describe('convnext export --format onnx, predict --onnx', function () {
  this.timeout(180_000);
  const MODEL = 'study_mini_se_cbam';
  let dir: string;
  const weights = () => path.join(dir, 'mini.safetensors');
  const onnx = () => path.join(dir, 'mini.onnx');
  const images = () => [path.join(dir, 'a.png'), path.join(dir, 'b.jpg')];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convnext-onnx-cli-'));
    const m = createModel(MODEL, { numClasses: 5 });
    randomize(m, 5);
    saveWeights(m, weights());
    m.dispose();
    const raw = Buffer.alloc(80 * 60 * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 7919 + (i >> 7) * 31) % 256;
    await sharp(raw, { raw: { width: 80, height: 60, channels: 3 } }).png().toFile(images()[0]);
    await sharp(raw, { raw: { width: 60, height: 80, channels: 3 } }).jpeg().toFile(images()[1]);
  });

  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('export writes the file; predict --onnx gives the TensorFlow.js logits and top-k for the same images', () => {
    const e = runBin(['export', '-m', MODEL, '-w', weights(), '--format', 'onnx', '--out', onnx(), '--size', '64']);
    assert.equal(e.status, 0, e.stderr);
    assert.match(e.stdout, /wrote .*mini\.onnx .*opset 17.*\[batch, 3, 64, 64\].*\[batch, 5\]/);
    assert.ok(fs.statSync(onnx()).size > 100_000);
    const tfRun = runBin(['predict', '-m', MODEL, '-w', weights(), '-s', '64', '--topk', '3', '--json', ...images()]);
    assert.equal(tfRun.status, 0, tfRun.stderr);
    const ortRun = runBin(['predict', '--onnx', onnx(), '--topk', '3', '--batch-size', '1', '--json', ...images()]);
    assert.equal(ortRun.status, 0, ortRun.stderr);
    const ours = JSON.parse(tfRun.stdout) as PredictJson;
    const theirs = JSON.parse(ortRun.stdout) as PredictJson;
    assert.equal(theirs.size, 64);
    assert.equal(theirs.classes, 5);
    assert.deepEqual(theirs.errors, []);
    theirs.predictions.forEach((p, b) => {
      const ref = ours.predictions[b];
      assert.equal(p.image, ref.image);
      const scale = Math.max(...ref.logits.map(Math.abs));
      assert.ok(scale > 0.1, `logits too small to compare (${scale})`);
      const err = Math.max(...p.logits.map((v, i) => Math.abs(v - ref.logits[i])));
      if (process.env.ONNX_VERBOSE) console.log(`    ${path.basename(p.image)}: max abs ${err.toExponential(2)}, rel ${(err / scale).toExponential(2)}`);
      assert.ok(err <= 1e-4 * scale, `${p.image}: logits differ by ${err} (scale ${scale})`);
      assert.deepEqual(p.topk.map((t) => t.index), ref.topk.map((t) => t.index));
    });
    const text = runBin(['predict', '--onnx', onnx(), ...images()]);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /a\.png\n {2}1\. /);
  });

  it('bad options fail with one line', () => {
    assertFails(['predict', '--onnx', onnx(), '-s', '32', images()[0]], /--size 32 does not match .*mini\.onnx, exported for 64x64/);
    assertFails(['predict', '--onnx', onnx(), '-m', MODEL, images()[0]], /--onnx runs the exported file alone: leave out --model and --weights/);
    assertFails(['predict', '--onnx', onnx(), '--classes', '7', images()[0]], /--classes 7 does not match .*whose head has 5 classes/);
    assertFails(['predict', '--onnx', path.join(dir, 'none.onnx'), images()[0]], /ONNX model not found: .*none\.onnx/);
    assertFails(['predict', '--onnx', weights(), images()[0]], /is not a model ONNX Runtime can load/);
    assertFails(['predict', images()[0]], /predict needs --model and --weights \(or --onnx FILE/);
    assertFails(['export', '-m', MODEL, '-w', weights(), '--format', 'tflite', '--out', onnx()], /--format tflite is not supported \(onnx\)/);
    assertFails(['export', '-m', MODEL, '-w', weights(), '--opset', '12', '--out', onnx()], /--opset 12 is not supported: choose 17 to 21/);
    assertFails(['export', '-m', MODEL, '-w', weights(), '--size', '50', '--out', onnx()], /--size 50 is not divisible by 32/);
  });
});
