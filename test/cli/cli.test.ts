/**
 * The `convnext` command, spawned as a user runs it (bin/convnext.js): `info` against the PyTorch-derived
 * counts, `predict` end to end with weights written by our exporter and images written by sharp, and
 * one-line errors with a non-zero exit for bad input.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { tf } from '../../src/backend';
import { loadEvalBatch } from '../../src/augment/eval-transform';
import { Classifier, createModel, loadWeights, saveWeights } from '../../src/convnext';
import { IMAGENET_CLASSES } from '../../src/data/imagenet-classes';
import { assertFails, runBin } from './bin';

const counts = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'parity', 'counts.json'), 'utf-8'));

/** A failed run: one `convnext: error:` line matching `re`, no stack trace, nothing on stdout. */
function assertFailsQuietly(args: string[], re: RegExp): void {
  assert.equal(assertFails(args, re).stdout, '');
}

interface PredictJson {
  classes: number;
  predictions: Array<{ image: string; logits: number[]; topk: Array<{ index: number; label: string; prob: number; logit: number }> }>;
}

describe('convnext CLI', function () {
  this.timeout(120_000);
  let dir: string;
  let model: Classifier;
  const weights = () => path.join(dir, 'atto.safetensors');
  const raw = new Uint8Array(64 * 64 * 3).map((_, i) => (i * 7919) % 256);

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convnext-cli-'));
    model = createModel('convnext_atto');
    saveWeights(model, weights());
    const five = createModel('convnext_atto', { numClasses: 5 });
    saveWeights(five, path.join(dir, 'atto5.safetensors'));
    five.dispose();
    const img = (w: number, h: number) => sharp(Buffer.from(raw.subarray(0, w * h * 3)), { raw: { width: w, height: h, channels: 3 } });
    await img(64, 64).png().toFile(path.join(dir, 'exact.png'));
    await img(80, 48).jpeg({ quality: 90 }).toFile(path.join(dir, 'photo.jpg'));
    fs.writeFileSync(path.join(dir, 'corrupt.jpg'), 'this is not a JPEG');
    fs.writeFileSync(path.join(dir, 'labels.txt'), 'daisy\ndandelion\nrose\nsunflower\ntulip\n');
  });

  after(() => {
    model.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('info --json: params, MACs and per-stage MACs as counted in PyTorch', () => {
    const r = runBin(['info', '--model', 'convnext_tiny', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    assert.equal(info.params, counts.params.convnext_tiny);
    assert.equal(info.macs, counts.macs['convnext_tiny@224']);
    const byScope = Object.fromEntries(info.scopes.filter((s: { macs: number }) => s.macs > 0)
      .map((s: { scope: string; macs: number }) => [s.scope, s.macs]));
    assert.deepEqual(byScope, counts.macs_by_scope.convnext_tiny);
    assert.equal(info.scopes.reduce((a: number, s: { params: number }) => a + s.params, 0), info.params);
    const at384 = JSON.parse(runBin(['info', '-m', 'convnext_base', '--size', '384', '--json']).stdout);
    assert.equal(at384.macs, counts.macs['convnext_base@384']);
  });

  it('info prints a readable table; --list names every registered model', () => {
    const r = runBin(['info', '--model', 'convnext_tiny']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /params 28,589,128 \(28\.59M\), MACs 4,455,531,264 \(4\.46G/);
    assert.match(r.stdout, /^stages\.2\s+10,817,280\s+2,114,090,496\s+47\.4$/m);
    const list = runBin(['info', '--list']);
    for (const v of ['atto', 'tiny', 'xlarge']) assert.match(list.stdout, new RegExp(`^convnext_${v}\\s+ConvNeXt-${v}`, 'm'));
  });

  it('predict --crop-pct 1 on a 64x64 image: the raw pixels, normalised, give the logits', async () => {
    const r = runBin(['predict', '-m', 'convnext_atto', '-w', weights(), '--size', '64', '--crop-pct', '1', '--json',
      path.join(dir, 'exact.png')]);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as PredictJson;
    // Reference computed here from the pixel buffer the PNG was written from.
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    const x = tf.tensor4d(Float32Array.from(raw, (v, i) => (v / 255 - mean[i % 3]) / std[i % 3]), [1, 64, 64, 3]);
    const expected = tf.tidy(() => model.eval().forward(x)).arraySync()[0];
    x.dispose();
    const got = out.predictions[0].logits;
    assert.equal(got.length, 1000);
    assert.ok(got.every((v, i) => Math.abs(v - expected[i]) < 1e-4), 'logits');
    const top = out.predictions[0].topk;
    assert.equal(top.length, 5);
    const best = expected.indexOf(Math.max(...expected));
    assert.equal(top[0].index, best);
    assert.equal(top[0].label, IMAGENET_CLASSES[best]);
    assert.ok(top.every((t, k) => k === 0 || t.prob <= top[k - 1].prob));
  });

  it('predict: batches of JPEG and PNG files match the library; class count read from the weights', async () => {
    const files = [path.join(dir, 'photo.jpg'), path.join(dir, 'exact.png')];
    const r = runBin(['predict', '-m', 'convnext_atto', '-w', path.join(dir, 'atto5.safetensors'), '--size', '32',
      '--batch-size', '1', '--topk', '2', '--json', ...files]);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as PredictJson;
    assert.equal(out.classes, 5);
    const m = createModel('convnext_atto', { numClasses: 5 });
    loadWeights(m, path.join(dir, 'atto5.safetensors'));
    const x = await loadEvalBatch(files, { size: 32 });
    const expected = tf.tidy(() => m.eval().forward(x)).arraySync();
    tf.dispose([x]);
    m.dispose();
    out.predictions.forEach((p, b) => {
      assert.equal(p.image, files[b]);
      assert.ok(p.logits.every((v, i) => Math.abs(v - expected[b][i]) < 1e-4));
      assert.deepEqual(p.topk.map((t) => t.label), p.topk.map((t) => String(t.index)));
    });
    const text = runBin(['predict', '-m', 'convnext_atto', '-w', path.join(dir, 'atto5.safetensors'), '-s', '32', files[0]]);
    assert.match(text.stdout, /photo\.jpg\n {2}1\. +\d+\.\d\d% {2}\d \(\d\)\n/);
    const labels = path.join(dir, 'labels.txt');
    const named = runBin(['predict', '-m', 'convnext_atto', '-w', path.join(dir, 'atto5.safetensors'), '-s', '32', '--labels', labels, '--json', files[0]]);
    const top = (JSON.parse(named.stdout) as PredictJson).predictions[0].topk[0];
    assert.equal(top.label, ['daisy', 'dandelion', 'rose', 'sunflower', 'tulip'][top.index]);
  });

  it('--help and --version answer without loading TensorFlow: no native start-up lines, no TensorFlow.js modules', () => {
    for (const args of [['--help'], ['--version'], ['help'], ['train', '--help'], ['eval', '--help'], ['export-recipe', '--help']]) {
      const r = runBin(args);
      assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, '', args.join(' '));
    }
    const help = runBin(['--help']).stdout;
    for (const c of ['info', 'predict', 'train', 'eval', 'export-recipe']) assert.match(help, new RegExp(`^  ${c} \\[options\\]`, 'm'));
    assert.match(help, /--verbose/);
    assert.match(help, /-V, --version/);
    // Nothing under @tensorflow is required: the command list comes from stubs. (--help exits the process.)
    const probe = spawnSync(process.execPath, ['-e', [
      "require('tsx/cjs');",
      "process.on('exit', () => process.stderr.write(String(Object.keys(require.cache).filter((k) => k.includes('@tensorflow')).length)));",
      `require(${JSON.stringify(path.join(__dirname, '..', '..', 'src', 'cli', 'main.ts'))}).main(['node', 'convnext', '--help']);`,
    ].join('')], { encoding: 'utf-8', cwd: path.join(__dirname, '..', '..') });
    assert.equal(probe.stderr, '0', probe.stderr);
  });

  it('--version prints the package version and TensorFlow.js\'s', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf-8'));
    const tfjs = JSON.parse(fs.readFileSync(require.resolve('@tensorflow/tfjs/package.json'), 'utf-8'));
    for (const flag of ['--version', '-V']) {
      const r = runBin([flag]);
      assert.equal(r.status, 0);
      assert.equal(r.stdout, `convnext-ts ${pkg.version} (TensorFlow.js ${tfjs.version})\n`);
    }
  });

  it('info and export-recipe run without the native library: no TensorFlow log lines on stderr', () => {
    const info = runBin(['info', '-m', 'convnext_atto', '--json']);
    assert.equal(info.status, 0, info.stderr);
    assert.equal(info.stderr, '');
    assert.equal(JSON.parse(info.stdout).params, counts.params.convnext_atto);
    const recipe = runBin(['export-recipe', '-c', path.join(__dirname, '..', '..', 'configs', 'imagenet-convnext-tiny.yaml')]);
    assert.equal(recipe.status, 0, recipe.stderr);
    assert.equal(recipe.stderr, '');
    assert.match(recipe.stdout, /^torchrun --nproc_per_node=8 train\.py/m);
  });

  it('TensorFlow\'s C++ logging: errors only by default, everything with --verbose', () => {
    // eval loads the training library (and TensorFlow) before it finds that the run folder is missing.
    const args = ['eval', '--run', path.join(dir, 'no-such-run'), '--no-progress'];
    const quiet = runBin(args);
    const verbose = runBin(['--verbose', ...args]);
    for (const r of [quiet, verbose]) {
      assert.equal(r.status, 1);
      assert.match(r.stderr.trim().split('\n').pop()!, /^convnext: error: .*no-such-run is not a run folder/);
    }
    assert.doesNotMatch(quiet.stderr, /cpu_feature_guard/);
    assert.match(verbose.stderr, /cpu_feature_guard/);
  });

  it('fails with one line for an unknown model, missing files, a corrupt image, wrong weights, a bad size', () => {
    const img = path.join(dir, 'photo.jpg');
    assertFailsQuietly(['info', '--model', 'convnext_tinny'], /unknown model "convnext_tinny" \(did you mean convnext_tiny/);
    assertFailsQuietly(['predict', '-m', 'convnext_atto', '-w', path.join(dir, 'none.safetensors'), img], /weights file not found: .*none\.safetensors/);
    assertFailsQuietly(['predict', '-m', 'convnext_atto', '-w', weights(), path.join(dir, 'none.jpg')], /image not found: .*none\.jpg/);
    assertFailsQuietly(['predict', '-m', 'convnext_atto', '-w', weights(), '-s', '32', path.join(dir, 'corrupt.jpg')], /cannot decode image .*corrupt\.jpg/);
    assertFailsQuietly(['predict', '-m', 'convnext_femto', '-w', weights(), img], /shape mismatch for downsample_layers\.0\.0\.weight \(model \[48, 3, 4, 4\], weights \[40, 3, 4, 4\]\)/);
    assertFailsQuietly(['predict', '-m', 'convnext_atto', '-w', path.join(dir, 'atto5.safetensors'), '--classes', '1000', img],
      /the weights have 5 classes but the model has 1000: .*--classes 5/);
    assertFailsQuietly(['predict', '-m', 'convnext_atto', '-w', weights(), '--size', '100', img], /--size 100 is not divisible by 32/);
    assertFailsQuietly(['predict', '-m', 'convnext_atto', '-w', weights(), '--labels', path.join(dir, 'labels.txt'), img],
      /--labels .*labels\.txt has 5 names, the model has 1000 classes/);
  });
});
