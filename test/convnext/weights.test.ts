/**
 * safetensors and PyTorch state dicts: the format (against files written by Python's safetensors),
 * layouts and names of exported weights (against PyTorch's own state dict), key conventions, errors,
 * and — where python3 with torch, timm and safetensors is installed — a real round trip through PyTorch
 * and the .pth converter.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tf } from '../../src/backend';
import {
  ConvNeXt, HostTensor, StateDict, WeightsError, detectConvention, loadStateDict, loadWeights, parseSafetensors,
  permute, readSafetensors, readStateDict, saveWeights, stateDict, timmToOfficialKey, toFloat32, writeSafetensors,
} from '../../src/convnext';

const DIR = path.join(__dirname, '..', 'fixtures', 'parity');
const SMALL = { depths: [1, 1, 2, 1], dims: [8, 16, 24, 32], numClasses: 10 };
const OFFICIAL = path.join(DIR, 'convnext_official.safetensors');
const PYTHON = process.env.PYTHON ?? 'python3';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'convnext-weights-'));
}

function pythonHas(modules: string[]): boolean {
  const code = `import importlib.util, sys; sys.exit(any(importlib.util.find_spec(m) is None for m in ${JSON.stringify(modules)}))`;
  return spawnSync(PYTHON, ['-c', code]).status === 0;
}

function runPython(args: string[]): string {
  const r = spawnSync(PYTHON, args, { encoding: 'utf-8', cwd: path.join(__dirname, '..', '..') });
  assert.equal(r.status, 0, `${PYTHON} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

function logitsOf(m: ConvNeXt): number[][] {
  const io = readStateDict(path.join(DIR, 'convnext_io.safetensors')).stateDict.get('input')!;
  return tf.tidy(() => {
    const x = tf.transpose(tf.tensor4d(io.data, io.shape as [number, number, number, number]), [0, 2, 3, 1]) as tf.Tensor4D;
    return m.eval().forward(x).arraySync();
  });
}

function maxDiff(a: number[][], b: number[][]): number {
  return Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - b[i][j]))));
}

function snapshot(m: ConvNeXt): Map<string, Float32Array> {
  return new Map(m.namedParameters().map(([k, v]) => [k, Float32Array.from(v.dataSync())]));
}

describe('safetensors', () => {
  it('reads files written by Python safetensors (header, dtypes, metadata)', () => {
    const { tensors, metadata } = readSafetensors(OFFICIAL);
    assert.equal(metadata.format, 'pt');
    assert.match(metadata.state_dict_order, /^downsample_layers\.0\.0\.weight,/);
    assert.equal(tensors.size, 65);
    const w = tensors.get('downsample_layers.0.0.weight')!;
    assert.deepEqual([w.dtype, w.shape], ['F32', [8, 3, 4, 4]]);
    const pixels = readSafetensors(path.join(DIR, 'eval', 'expected.safetensors')).tensors.get('exact_size.pixels')!;
    assert.deepEqual([pixels.dtype, pixels.shape], ['U8', [64, 64, 3]]);
  });

  it('round-trips F32, F64, I64, I32 and U8 tensors with metadata; data starts 8-byte aligned', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'a.safetensors');
    writeSafetensors(file, {
      f32: { shape: [2, 3], data: Float32Array.from([1.5, -2, 3e-8, 0, Infinity, -0.25]) },
      f64: { shape: [2], data: Float64Array.from([Math.PI, -1e300]) },
      i64: { shape: [3], data: BigInt64Array.from([1n, -2n, 2n ** 40n]) },
      i32: { shape: [1, 1], data: Int32Array.from([-7]) },
      u8: { shape: [3], data: Uint8Array.from([0, 128, 255]) },
      empty: { shape: [0, 4], data: new Float32Array(0) },
    }, { note: 'hello' });
    assert.deepEqual(fs.readdirSync(dir), ['a.safetensors'], 'no temporary file left behind');
    const buf = fs.readFileSync(file);
    assert.equal((8 + Number(buf.readBigUInt64LE(0))) % 8, 0);
    const { tensors, metadata } = readSafetensors(file);
    assert.deepEqual(metadata, { note: 'hello' });
    assert.deepEqual([...tensors.keys()], ['f32', 'f64', 'i64', 'i32', 'u8', 'empty']);
    assert.deepEqual([...toFloat32(tensors.get('f32')!)], [1.5, -2, Math.fround(3e-8), 0, Infinity, -0.25]);
    assert.deepEqual([...toFloat32(tensors.get('f64')!)], [Math.fround(Math.PI), -Infinity]);
    assert.deepEqual([...toFloat32(tensors.get('i64')!)], [1, -2, 2 ** 40]);
    assert.deepEqual([...toFloat32(tensors.get('i32')!)], [-7]);
    assert.deepEqual([...toFloat32(tensors.get('u8')!)], [0, 128, 255]);
    assert.deepEqual(tensors.get('empty')!.shape, [0, 4]);
    fs.rmSync(dir, { recursive: true });
  });

  it('rejects malformed files with a message naming the problem', () => {
    const good = fs.readFileSync(OFFICIAL);
    const header = (json: string) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(BigInt(json.length));
      return Buffer.concat([b, Buffer.from(json), Buffer.alloc(16)]);
    };
    const cases: Array<[Uint8Array, RegExp]> = [
      [good.subarray(0, 4), /only 4 bytes/],
      [good.subarray(0, 1000), /header length \d+ does not fit/],
      [header('{"a": '), /header is not JSON/],
      [header('{"a":{"dtype":"Q8","shape":[1],"data_offsets":[0,1]}}'), /unsupported dtype "Q8"/],
      [header('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}'), /needs 8 bytes, its offsets span 4/],
      [header('{"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}'), /outside the 16-byte data section/],
    ];
    for (const [bytes, re] of cases) assert.throws(() => parseSafetensors(bytes, 'x.safetensors'), re);
    assert.throws(() => readSafetensors('/nonexistent/w.safetensors'), /weights file not found: \/nonexistent\/w.safetensors/);
  });
});

describe('PyTorch state dicts', () => {
  it('permute transposes like torch.permute', () => {
    const t = permute(Float32Array.from({ length: 24 }, (_, i) => i), [2, 3, 4], [2, 0, 1]);
    assert.deepEqual(t.shape, [4, 2, 3]);
    // out[k, i, j] = in[i, j, k] = 12 i + 4 j + k
    assert.equal(t.data[1 * 6 + 1 * 3 + 2], 12 + 8 + 1);
  });

  it('exports exactly the tensors PyTorch holds: official names, order and layouts', () => {
    const m = new ConvNeXt(SMALL);
    loadWeights(m, OFFICIAL);
    const ours = stateDict(m);
    const { stateDict: torch, metadata } = readStateDict(OFFICIAL);
    assert.deepEqual([...ours.keys()], metadata.state_dict_order.split(','));
    for (const [k, t] of torch) {
      assert.deepEqual(ours.get(k)!.shape, t.shape, k);
      assert.deepEqual(ours.get(k)!.data, t.data, k);
    }
    // And saving writes that state dict.
    const dir = tmpDir();
    saveWeights(m, path.join(dir, 'w.safetensors'), { arch: 'small' });
    const back = readStateDict(path.join(dir, 'w.safetensors'));
    assert.deepEqual(back.metadata, { format: 'pt', arch: 'small' });
    for (const [k, t] of torch) assert.deepEqual(back.stateDict.get(k)!.data, t.data, k);
    fs.rmSync(dir, { recursive: true });
    m.dispose();
  });

  it('maps timm keys to the official ones and detects the convention', () => {
    const cases: Array<[string, string]> = [
      ['stem.0.weight', 'downsample_layers.0.0.weight'],
      ['stem.1.bias', 'downsample_layers.0.1.bias'],
      ['stages.2.downsample.1.weight', 'downsample_layers.2.1.weight'],
      ['stages.3.blocks.2.conv_dw.bias', 'stages.3.2.dwconv.bias'],
      ['stages.0.blocks.10.mlp.fc1.weight', 'stages.0.10.pwconv1.weight'],
      ['stages.0.blocks.1.mlp.fc2.bias', 'stages.0.1.pwconv2.bias'],
      ['stages.1.blocks.0.norm.weight', 'stages.1.0.norm.weight'],
      ['stages.1.blocks.0.gamma', 'stages.1.0.gamma'],
      ['head.norm.weight', 'norm.weight'],
      ['head.fc.bias', 'head.bias'],
      ['norm_pre.weight', 'norm_pre.weight'],
    ];
    for (const [timm, official] of cases) assert.equal(timmToOfficialKey(timm), official, timm);
    assert.equal(detectConvention(readStateDict(path.join(DIR, 'convnext_timm.safetensors')).stateDict.keys()), 'timm');
    assert.equal(detectConvention(readStateDict(OFFICIAL).stateDict.keys()), 'official');
  });

  it('strips wrapper prefixes (module., model., _orig_mod.)', () => {
    const sd = readStateDict(OFFICIAL).stateDict;
    const wrapped: StateDict = new Map([...sd].map(([k, v]) => [`model._orig_mod.${k}`, v]));
    const m = new ConvNeXt(SMALL);
    const r = loadStateDict(m, wrapped);
    assert.equal(r.strippedPrefix, 'model._orig_mod.');
    assert.equal(r.loadedKeys.length, 65);
    m.dispose();
  });

  it('lists missing keys, unexpected keys, shape mismatches and the class count at once, loading nothing', () => {
    const sd = readStateDict(OFFICIAL).stateDict;
    sd.delete('stages.2.1.gamma');
    sd.delete('norm.bias');
    sd.set('stages.4.0.gamma', { shape: [32], data: new Float32Array(32) });
    const w = sd.get('stages.0.0.pwconv1.weight')!;
    sd.set('stages.0.0.pwconv1.weight', { shape: [8, 32], data: w.data });
    const m = new ConvNeXt({ ...SMALL, numClasses: 5 });
    const before = snapshot(m);
    let err: WeightsError | undefined;
    try {
      loadStateDict(m, sd, { source: 'w.safetensors' });
    } catch (e) {
      err = e as WeightsError;
    }
    assert.ok(err instanceof WeightsError, 'throws WeightsError');
    assert.deepEqual(err.missingKeys, ['stages.2.1.gamma', 'norm.bias']);
    assert.deepEqual(err.unexpectedKeys, ['stages.4.0.gamma']);
    assert.deepEqual(err.mismatched.map((x) => x.key), ['stages.0.0.pwconv1.weight', 'head.weight', 'head.bias']);
    assert.deepEqual(err.classCount, { file: 10, model: 5 });
    assert.match(err.message, /^cannot load w\.safetensors: the weights have 10 classes but the model has 5: .*numClasses 10.*ignoreHead/);
    assert.match(err.message, /shape mismatch for stages\.0\.0\.pwconv1\.weight \(model \[32, 8\], weights \[8, 32\]\)/);
    assert.match(err.message, /missing 2 key\(s\): stages\.2\.1\.gamma, norm\.bias; unexpected 1 key\(s\): stages\.4\.0\.gamma$/);
    for (const [k, v] of snapshot(m)) assert.deepEqual(v, before.get(k), `${k} unchanged`);
    m.dispose();
  });

  it('strict: false loads what matches and returns missing / unexpected keys', () => {
    const sd = readStateDict(OFFICIAL).stateDict;
    sd.delete('norm.bias');
    sd.set('extra.weight', { shape: [1], data: new Float32Array(1) });
    const m = new ConvNeXt(SMALL);
    const r = loadStateDict(m, sd, { strict: false });
    assert.deepEqual([r.missingKeys, r.unexpectedKeys], [['norm.bias'], ['extra.weight']]);
    assert.deepEqual(m.norm.weight.dataSync(), sd.get('norm.weight')!.data);
    m.dispose();
  });

  it('ignoreHead keeps a fresh head for another class count and loads everything else', () => {
    const m = new ConvNeXt({ ...SMALL, numClasses: 3 });
    const head = Float32Array.from(m.head.weight.dataSync());
    const r = loadWeights(m, path.join(DIR, 'convnext_timm.safetensors'), { ignoreHead: true });
    assert.deepEqual([r.missingKeys, r.unexpectedKeys, r.loadedKeys.length], [[], [], 63]);
    assert.deepEqual(m.head.weight.dataSync(), head);
    const sd = readStateDict(OFFICIAL).stateDict;
    assert.deepEqual(m.norm.weight.dataSync(), sd.get('norm.weight')!.data, 'timm head.norm is the final norm, kept');
    m.dispose();
  });

  it('points PyTorch pickles to the converter', () => {
    const m = new ConvNeXt(SMALL);
    assert.throws(() => loadWeights(m, 'convnext_tiny_1k_224_ema.pth'), /convert it first: python data-scripts\/convert_pth\.py/);
    m.dispose();
  });
});

describe('round trip through PyTorch (python3 with torch, timm, safetensors)', function () {
  this.timeout(300_000);
  before(function () {
    if (!pythonHas(['torch', 'timm', 'safetensors'])) this.skip();
  });

  it('weights saved here load strictly into PyTorch (reference model and timm) and give our logits', () => {
    const m = new ConvNeXt(SMALL);
    // Start from random weights (not a fixture), so the check covers the exporter alone.
    const dir = tmpDir();
    const file = path.join(dir, 'ours.safetensors');
    saveWeights(m, file);
    const ours = logitsOf(m);
    const out = JSON.parse(runPython(['test/fixtures/make_parity_fixtures.py', '--roundtrip', file])) as
      { reference: number[][]; timm: number[][] };
    assert.ok(maxDiff(ours, out.reference) < 1e-4, `reference: ${maxDiff(ours, out.reference)}`);
    assert.ok(maxDiff(ours, out.timm) < 1e-4, `timm: ${maxDiff(ours, out.timm)}`);
    fs.rmSync(dir, { recursive: true });
    m.dispose();
  });

  it('convert_pth.py turns a nested, prefixed .pth checkpoint into weights that load here', () => {
    const dir = tmpDir();
    const pth = path.join(dir, 'ckpt.pth');
    const st = path.join(dir, 'ckpt.safetensors');
    runPython(['-c', `import torch; from safetensors.torch import load_file
sd = load_file(${JSON.stringify(path.join(DIR, 'convnext_timm.safetensors'))})
torch.save({'model': {'module.' + k: v for k, v in sd.items()}, 'epoch': 3}, ${JSON.stringify(pth)})`]);
    const log = runPython(['data-scripts/convert_pth.py', pth, st]);
    assert.match(log, /65 tensors, .* timm keys/);
    const m = new ConvNeXt(SMALL);
    const r = loadWeights(m, st);
    assert.equal(r.convention, 'timm');
    const expected = readStateDict(path.join(DIR, 'convnext_io.safetensors')).stateDict.get('logits') as HostTensor;
    const got = logitsOf(m).flat();
    assert.ok(got.every((v, i) => Math.abs(v - expected.data[i]) < 1e-4));
    fs.rmSync(dir, { recursive: true });
    m.dispose();
  });
});
