/**
 * The `convnext` command under bad input, spawned as a user runs it (bin/convnext.js): predict keeps the
 * good results when some files are bad; eval's options are validated, --per-class works through the bin,
 * a class-count mismatch names eval's real inputs; broken run-folder JSON and raw file-system errors
 * become one clear line.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';

import { createModel, saveWeights } from '../../src/convnext';
import { describeError } from '../../src/cli/errors';
import { makeImageFolder } from '../fixtures/data/make';

const BIN = path.join(__dirname, '..', '..', 'bin', 'convnext.js');

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf-8', env: { ...process.env, DEBUG: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Our own stderr lines (TensorFlow's native library may log start-up lines of its own). */
const ours = (stderr: string): string[] => stderr.split('\n').filter((l) => l.startsWith('convnext:'));

function assertFails(args: string[], re: RegExp): string {
  const r = cli(args);
  assert.notEqual(r.status, 0, `exit status for ${args.join(' ')}`);
  const lines = r.stderr.trim().split('\n');
  const last = lines[lines.length - 1];
  assert.match(last, re, r.stderr);
  assert.ok(!/\n\s+at /.test(r.stderr), `no stack trace:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /NaN|undefined/);
  return last;
}

describe('convnext CLI: robustness', function () {
  this.timeout(180_000);
  let dir: string;
  const w5 = () => path.join(dir, 'atto5.safetensors');
  const w2 = () => path.join(dir, 'atto2.safetensors');
  const data = () => path.join(dir, 'data');

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convnext-cli-robust-'));
    for (const [n, file] of [[5, w5()], [2, w2()]] as const) {
      const m = createModel('convnext_atto', { numClasses: n });
      saveWeights(m, file);
      m.dispose();
    }
    const raw = Buffer.alloc(40 * 40 * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 7919) % 256;
    const img = () => sharp(raw, { raw: { width: 40, height: 40, channels: 3 } });
    await img().png().toFile(path.join(dir, 'good1.png'));
    await img().jpeg().toFile(path.join(dir, 'good2.jpg'));
    await img().webp().toFile(path.join(dir, 'good3.webp'));
    fs.writeFileSync(path.join(dir, 'corrupt.jpg'), 'this is not a JPEG');
    fs.mkdirSync(path.join(dir, 'folder.png'));
    await makeImageFolder(data(), { a: 2, b: 2 }, 40);
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('predict --json: bad files are reported, the good results kept, the JSON valid, the exit non-zero', () => {
    const files = ['good1.png', 'corrupt.jpg', 'good2.jpg', 'folder.png', 'good3.webp'].map((f) => path.join(dir, f));
    const r = cli(['predict', '-m', 'convnext_atto', '-w', w5(), '-s', '32', '--batch-size', '2', '--json', ...files]);
    assert.notEqual(r.status, 0);
    const out = JSON.parse(r.stdout) as { classes: number; predictions: Array<{ image: string; logits: number[] }>; errors: Array<{ image: string; error: string }> };
    assert.equal(out.classes, 5);
    assert.deepEqual(out.predictions.map((p) => path.basename(p.image)), ['good1.png', 'good2.jpg', 'good3.webp']);
    assert.ok(out.predictions.every((p) => p.logits.length === 5 && p.logits.every(Number.isFinite)));
    assert.deepEqual(out.errors.map((e) => path.basename(e.image)), ['corrupt.jpg', 'folder.png']);
    assert.match(out.errors[0].error, /cannot decode image .*corrupt\.jpg/);
    const lines = ours(r.stderr);
    assert.ok(lines.some((l) => /corrupt\.jpg/.test(l)) && lines.some((l) => /folder\.png/.test(l)), r.stderr);
    assert.match(lines[lines.length - 1], /^convnext: error: 2 of 5 images could not be classified/);
  });

  it('predict (text): streams the good results and names each bad file on stderr', () => {
    const files = ['corrupt.jpg', 'good1.png'].map((f) => path.join(dir, f));
    const r = cli(['predict', '-m', 'convnext_atto', '-w', w5(), '-s', '32', ...files]);
    assert.notEqual(r.status, 0);
    assert.match(r.stdout, /good1\.png\n {2}1\. /);
    assert.doesNotMatch(r.stdout, /corrupt/);
    assert.ok(ours(r.stderr).some((l) => /cannot decode image .*corrupt\.jpg/.test(l)), r.stderr);
  });

  it('eval --per-class works through the bin (no dynamic import)', () => {
    const r = cli(['eval', '--weights', w2(), '--model', 'convnext_atto', '--data', data(), '--per-class', '1',
      '--input-size', '32', '--batch-size', '2', '--no-progress']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /on 2 images \(32px, crop 0\.875 center\): top-1 \d+\.\d\d%/);
  });

  it('eval validates its numeric options', () => {
    const base = ['eval', '--weights', w2(), '--model', 'convnext_atto', '--data', data(), '--no-progress'];
    for (const [flag, value] of [['--input-size', 'abc'], ['--batch-size', '0'], ['--per-class', '-1'], ['--crop-pct', '2'], ['--input-size', '32.5']]) {
      const r = cli([...base, flag, value]);
      assert.notEqual(r.status, 0, `${flag} ${value}`);
      assert.match(r.stderr, new RegExp(`${flag}.*${value.replace('.', '\\.')}|${value.replace('.', '\\.')}.*${flag}`), r.stderr);
      assert.doesNotMatch(r.stderr, /NaN|undefined|\n\s+at /);
    }
  });

  it('eval: a class-count mismatch names the data and the weights, not a flag eval lacks', () => {
    const last = assertFails(['eval', '--weights', w5(), '--model', 'convnext_atto', '--data', data(), '--input-size', '32', '--no-progress'],
      /^convnext: error: /);
    assert.doesNotMatch(last, /--classes/);
    assert.match(last, /5 classes/);
    assert.match(last, /2 classes/);
    assert.match(last, new RegExp(path.basename(data())));
  });

  it('eval --run: a broken config.json is named in the error', () => {
    const run = path.join(dir, 'run');
    fs.mkdirSync(run);
    fs.writeFileSync(path.join(run, 'config.json'), '{"name": "x",');
    assertFails(['eval', '--run', run, '--no-progress'], /^convnext: error: .*run\/config\.json is not valid JSON/);
  });

  it('predict --labels with a folder: a clear message, no raw EISDIR', () => {
    const last = assertFails(['predict', '-m', 'convnext_atto', '-w', w5(), '-s', '32', '--labels', dir, path.join(dir, 'good1.png')],
      /^convnext: error: /);
    assert.doesNotMatch(last, /EISDIR/);
    assert.match(last, /is a folder/);
  });
});

describe('CLI error messages for file-system errors', () => {
  const errno = (code: string, syscall: string, p?: string): NodeJS.ErrnoException =>
    Object.assign(new Error(`${code}: raw, ${syscall}${p ? ` '${p}'` : ''}`), { code, syscall, ...(p ? { path: p } : {}) });

  it('maps EEXIST, EISDIR, ENOTDIR, EACCES, ENOSPC to sentences naming the path', () => {
    assert.equal(describeError(errno('EEXIST', 'mkdir', '/r/out')), '/r/out already exists and is not a folder (EEXIST in mkdir)');
    assert.equal(describeError(errno('EEXIST', 'open', '/r/lock')), '/r/lock already exists (EEXIST in open)');
    assert.equal(describeError(errno('EISDIR', 'open', '/r/w.safetensors')), '/r/w.safetensors is a folder, expected a file (EISDIR in open)');
    assert.match(describeError(errno('EISDIR', 'read')), /^a folder was given where a file is expected/);
    assert.match(describeError(errno('ENOTDIR', 'open', '/r/a/b')), /\/r\/a\/b: a part of this path is a file, not a folder/);
    assert.match(describeError(errno('EACCES', 'open', '/r/x')), /permission denied: \/r\/x/);
    assert.match(describeError(errno('ENOSPC', 'write', '/r/x')), /no space left on the device .*\/r\/x/);
    assert.equal(describeError(new Error('plain')), 'plain');
    assert.equal(describeError('a string'), 'a string');
  });
});
