/** ImageFolder, ImageNet layout, CSV regression, stratified split and the decoded cache on tiny fixtures. */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';

import {
  cachedDataset,
  classCounts,
  CsvRegressionDataset,
  ImageFolder,
  imageNet,
  readCache,
  stratifiedSplit,
  takePerClass,
  type LabelledDataset,
} from '../../src/data';
import { makeImageFolder, tempDir, writeImage } from '../fixtures/data/make';
import { CorruptImageError } from "../../src/image";

describe('data: ImageFolder', () => {
  let root: string;
  before(async () => {
    root = path.join(tempDir(), 'imgs');
    await makeImageFolder(root, { cat: 2, ant: 3 }, 6);
    await writeImage(path.join(root, 'ant', 'x.JPEG'), 77, 5, 'jpeg');
    fs.writeFileSync(path.join(root, 'ant', 'notes.txt'), 'not an image');
    fs.mkdirSync(path.join(root, '.hidden'));
  });

  it('sorts classes, labels by folder, skips other extensions, matches .JPEG case-insensitively', async () => {
    const ds = new ImageFolder(root);
    assert.deepEqual(ds.classes, ['ant', 'cat']);
    assert.equal(ds.length, 6);
    assert.deepEqual(Array.from(ds.targets), [0, 0, 0, 0, 1, 1]);
    assert.deepEqual(ds.paths.map((p) => path.basename(p)), ['000.png', '001.png', '002.png', 'x.JPEG', '000.png', '001.png']);
    const s = await ds.get(4); // cat/000.png, written with red = 10 * 1 + 0
    assert.deepEqual([s.height, s.width, s.channels, s.label], [6, 6, 3, 1]);
    assert.deepEqual(Array.from(s.image.subarray(0, 3)), [10, 10, 200]);
    const j = await ds.get(3);
    assert.deepEqual([j.height, j.width], [5, 5]);
    await assert.rejects(ds.get(6), RangeError);
  });

  it('clear errors: missing root, no class folders, empty class folder', async () => {
    assert.throws(() => new ImageFolder(path.join(root, 'nope')), /dataset root .*nope does not exist/);
    const flat = tempDir();
    await writeImage(path.join(flat, 'a.png'), 1);
    assert.throws(() => new ImageFolder(flat), /has no class folders/);
    const empty = tempDir();
    await makeImageFolder(empty, { a: 1 });
    fs.mkdirSync(path.join(empty, 'b'));
    assert.throws(() => new ImageFolder(empty), /class folder .*b has no images/);
  });

  it('corrupt files: an error naming the file, or skipped and counted with skipCorrupt', async () => {
    const dir = tempDir();
    await makeImageFolder(dir, { a: 3 });
    const bad = path.join(dir, 'a', '001.png');
    fs.writeFileSync(bad, Buffer.from('definitely not a png'));
    const strict = new ImageFolder(dir);
    await assert.rejects(strict.get(1), (e: Error) => e instanceof CorruptImageError && e.message.includes(bad));
    const lenient = new ImageFolder(dir, { skipCorrupt: true });
    // The corrupt item is replaced by the next readable one (002.png: red 2).
    const s = await lenient.get(1);
    assert.equal(s.image[0], 2);
    assert.equal(lenient.corrupt.size, 1);
    assert.ok(lenient.corrupt.has(bad));
    // The decoded cache leaves it out altogether and records it.
    const cached = await cachedDataset(lenient, { name: 'corrupt', cacheDir: tempDir(), skipCorrupt: true, progress: false });
    assert.equal(cached.length, 2);
    assert.deepEqual(cached.skipped, [bad]);
    await assert.rejects(cachedDataset(strict, { name: 'strict', cacheDir: tempDir(), progress: false }), /cannot decode image .*001\.png/);
  });

  it('imageNet() wants wnid folders', async () => {
    const inet = tempDir();
    await makeImageFolder(path.join(inet, 'val'), { n01440764: 1, n01443537: 1 });
    assert.deepEqual(imageNet(inet, 'val').classes, ['n01440764', 'n01443537']);
    await makeImageFolder(path.join(inet, 'train'), { goldfish: 1 });
    assert.throws(() => imageNet(inet, 'train'), /should hold wnid folders .*goldfish/);
  });
});

describe('data: decoded cache', () => {
  it('round-trips pixels and labels, reuses the file, and rebuilds when the folder changes', async () => {
    const root = path.join(tempDir(), 'c');
    await makeImageFolder(root, { a: 2, b: 2 }, 4);
    const cacheDir = tempDir();
    const folder = new ImageFolder(root);
    const first = await cachedDataset(folder, { name: 'tiny', cacheDir, progress: false });
    const file = path.join(cacheDir, 'tiny.bin');
    assert.ok(fs.existsSync(file));
    for (let i = 0; i < 4; i++) {
      const [a, b] = [await folder.get(i), await first.get(i)];
      assert.deepEqual(b.image, a.image);
      assert.equal(b.label, a.label);
    }
    const mtime = fs.statSync(file).mtimeMs;
    const again = await cachedDataset(new ImageFolder(root), { name: 'tiny', cacheDir, progress: false });
    assert.equal(fs.statSync(file).mtimeMs, mtime, 'cache reused, not rewritten');
    assert.deepEqual((await again.get(3)).image, (await first.get(3)).image);
    // Header + size check: 12-byte prefix, JSON header, 4 * 4 * 4 * 3 pixel bytes.
    assert.equal(readCache(file).dataset.pixels.length, 4 * 48);
    await writeImage(path.join(root, 'b', '002.png'), 99, 4);
    const grown = await cachedDataset(new ImageFolder(root), { name: 'tiny', cacheDir, progress: false });
    assert.equal(grown.length, 5);
    fs.writeFileSync(path.join(cacheDir, 'junk.bin'), 'xx');
    assert.throws(() => readCache(path.join(cacheDir, 'junk.bin')), /not a dataset cache file/);
  });
});

describe('data: CSV regression dataset', () => {
  it('reads path,target rows relative to the CSV, with or without a header', async () => {
    const dir = tempDir();
    await writeImage(path.join(dir, 'img', 'a.png'), 1);
    await writeImage(path.join(dir, 'img', 'b, with comma.png'), 2);
    fs.writeFileSync(path.join(dir, 'ages.csv'), 'path,age_months\nimg/a.png,14\n"img/b, with comma.png",191\n');
    const ds = new CsvRegressionDataset(path.join(dir, 'ages.csv'), { range: [0, 191] });
    assert.deepEqual(ds.classes, []);
    assert.deepEqual(Array.from(ds.targets), [14, 191]);
    const s = await ds.get(1);
    assert.equal(s.label, 191);
    assert.equal(s.image[0], 2);
    fs.writeFileSync(path.join(dir, 'bad.csv'), 'img/a.png,14\nimg/a.png,twelve\n');
    assert.throws(() => new CsvRegressionDataset(path.join(dir, 'bad.csv')), /bad\.csv:2: target 'twelve' is not a number/);
    fs.writeFileSync(path.join(dir, 'range.csv'), 'img/a.png,200\n');
    assert.throws(() => new CsvRegressionDataset(path.join(dir, 'range.csv'), { range: [0, 191] }), /200 outside \[0, 191\]/);
    fs.writeFileSync(path.join(dir, 'missing.csv'), 'img/zzz.png,3\n');
    assert.throws(() => new CsvRegressionDataset(path.join(dir, 'missing.csv')), /zzz\.png does not exist/);
  });
});

describe('data: stratified split', () => {
  /** A label-only dataset: counts per class 764, 1052, 784, 733, 984 (flowers5). */
  const counts = [764, 1052, 784, 733, 984];
  const fake: LabelledDataset = {
    classes: ['daisy', 'dandelion', 'rose', 'sunflower', 'tulip'],
    targets: Int32Array.from(counts.flatMap((n, c) => Array<number>(n).fill(c))),
    get length() {
      return this.targets.length;
    },
    get: () => Promise.reject(new Error('labels only')),
  };

  it('keeps round(0.9 n_c) of every class in train, disjoint and complete, reproducible by seed', () => {
    const s = stratifiedSplit(fake, 0.9, 42);
    // round(0.9 * [764, 1052, 784, 733, 984]) = [688, 947, 706, 660, 886] (687.6, 946.8, 705.6, 659.7, 885.6)
    assert.deepEqual(classCounts(s.train), [688, 947, 706, 660, 886]);
    assert.deepEqual(classCounts(s.val), [76, 105, 78, 73, 98]);
    const all = [...s.train.indices, ...s.val.indices].sort((a, b) => a - b);
    assert.deepEqual(all, [...Array(fake.length).keys()]);
    assert.deepEqual(stratifiedSplit(fake, 0.9, 42).val.indices, s.val.indices);
    assert.notDeepEqual(stratifiedSplit(fake, 0.9, 43).val.indices, s.val.indices);
    assert.equal(s.seed, 42);
  });

  it('takePerClass makes balanced smoke subsets', () => {
    assert.deepEqual(classCounts(takePerClass(fake, 3)), [3, 3, 3, 3, 3]);
  });
});
