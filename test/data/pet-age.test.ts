/**
 * The pet-age data: the annotation reader's errors (hand-written cases), the competition layout read from a
 * committed fixture (test/fixtures/data/pet-age, the exact trainset/valset/testset/annotations layout), the
 * validation behind data-scripts/prepare-pet-age.ts, and the stand-in's noise injection rate and splits.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { AnnotationError, parseAgeAnnotations, PetAgeDataset, readAgeAnnotations, validatePetAge } from '../../src/data/pet-age';
import { ageOfZoom, drawAge, injectLabelNoise, MIN_NOISE_MONTHS, petAgeStandIn, zoomOfAge } from '../../src/data/regression-stand-in';
import { Rng } from '../../src/util/rng';

const ROOT = path.resolve(__dirname, '..', '..');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'data', 'pet-age');

describe('pet-age annotations', () => {
  it('reads tab, CSV (with a header) and space-separated lines', () => {
    const tab = parseAgeAnnotations('a.jpg\t12\r\nb c.jpg\t0\n\nd.jpg\t191.5\n', 't');
    assert.deepEqual(tab.problems, []);
    assert.deepEqual(tab.entries.map((e) => [e.file, e.age, e.line]), [['a.jpg', 12, 1], ['b c.jpg', 0, 2], ['d.jpg', 191.5, 4]]);
    const csv = parseAgeAnnotations('path,age\n"x,1.jpg",30\ny.jpg, 4\n', 'c');
    assert.deepEqual(csv.entries.map((e) => [e.file, e.age]), [['x,1.jpg', 30], ['y.jpg', 4]]);
    assert.deepEqual(parseAgeAnnotations('z.jpg 7\n').entries.map((e) => e.age), [7]);
  });

  it('names every bad line: no separator, not a number, out of [0, 192), duplicates, empty', () => {
    const { entries, problems } = parseAgeAnnotations(['a.jpg\t10', 'nosep', 'b.jpg\tten', 'c.jpg\t192', 'd.jpg\t-1', 'a.jpg\t11', '\t5'].join('\n'), 'ann.txt');
    assert.deepEqual(entries.map((e) => e.file), ['a.jpg']);
    assert.deepEqual(problems, [
      'ann.txt:2: expected "file name<TAB>age" or "path,age", got "nosep"',
      'ann.txt:3: age "ten" is not a number',
      'ann.txt:4: age 192 is outside [0, 192) months',
      'ann.txt:5: age -1 is outside [0, 192) months',
      'ann.txt:6: a.jpg is annotated again (first on line 1)',
      'ann.txt:7: empty file name',
    ]);
    assert.deepEqual(parseAgeAnnotations('\n\n', 'e').problems, ['e: no annotation lines']);
    // Only a first line may be a header.
    assert.deepEqual(parseAgeAnnotations('a.jpg\t1\nname\tage\n', 'h').problems, ['h:2: age "age" is not a number']);
  });

  it('readAgeAnnotations throws one error listing every problem', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnx-ann-'));
    try {
      const f = path.join(dir, 'train.txt');
      fs.writeFileSync(f, 'a.jpg\t200\nb.jpg\tx\n');
      assert.throws(() => readAgeAnnotations(f), (e: unknown) => e instanceof AnnotationError && e.problems.length === 2 && /train.txt: 2 problems/.test(e.message));
      assert.throws(() => readAgeAnnotations(path.join(dir, 'none.txt')), /annotation file not found/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('pet-age competition layout (fixture)', function () {
  this.timeout(120_000);

  it('reads each split: tab annotations, a CSV for val, test labels when given', async () => {
    const train = new PetAgeDataset(FIXTURE, 'train');
    assert.deepEqual(Array.from(train.targets), [3, 27.5, 60, 150]);
    assert.deepEqual(train.classes, []);
    const s = await train.get(1);
    assert.equal(s.label, 27.5);
    assert.equal(s.width, 8);
    assert.ok(s.path!.endsWith(path.join('trainset', 'b.png')));
    assert.deepEqual(Array.from(new PetAgeDataset(FIXTURE, 'val').targets), [12, 100]);
    assert.deepEqual(Array.from(new PetAgeDataset(FIXTURE, 'test').targets), [5, 191]);
    assert.equal(new PetAgeDataset(FIXTURE, 'train', { limit: 2 }).length, 2);
  });

  it('validates a good copy and reports missing, unreadable, unannotated and duplicate files in a broken one', async () => {
    const good = await validatePetAge(FIXTURE, { decode: 'full' });
    assert.deepEqual(good.errors, []);
    assert.deepEqual(good.splits.map((x) => [x.split, x.annotated, x.files]), [['train', 4, 4], ['val', 2, 2], ['test', 2, 2]]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnx-petage-'));
    try {
      fs.cpSync(FIXTURE, dir, { recursive: true });
      fs.rmSync(path.join(dir, 'trainset', 'c.png'));
      fs.writeFileSync(path.join(dir, 'trainset', 'd.png'), 'not an image');
      fs.copyFileSync(path.join(dir, 'trainset', 'a.png'), path.join(dir, 'trainset', 'extra.png'));
      fs.copyFileSync(path.join(dir, 'trainset', 'a.png'), path.join(dir, 'testset', 'h.png'));
      fs.appendFileSync(path.join(dir, 'annotations', 'train.txt'), 'a.png\t4\n');
      const bad = await validatePetAge(dir);
      const train = bad.splits.find((x) => x.split === 'train')!;
      assert.deepEqual(train.missing, ['c.png']);
      assert.equal(train.unreadable.length, 1);
      assert.match(train.unreadable[0], /^trainset\/d.png \(/);
      assert.deepEqual(train.unannotated, ['extra.png']);
      assert.deepEqual(train.problems, ['annotations/train.txt:5: a.png is annotated again (first on line 1)']);
      assert.equal(bad.crossSplitDuplicates.length, 1);
      assert.equal(bad.errors.length, 3);
      assert.throws(() => new PetAgeDataset(dir, 'train'), /annotated again/);
      // The script: exit 0 and a summary on the fixture, exit 1 naming the problems on the broken copy.
      const run = (root: string) => spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'data-scripts', 'prepare-pet-age.ts'), '--root', root], { encoding: 'utf8', cwd: ROOT });
      const ok = run(FIXTURE);
      assert.equal(ok.status, 0, ok.stderr);
      assert.match(ok.stdout, /trainset +4 annotated, +4 image files; ages 3\.0–150\.0 months/);
      assert.match(ok.stdout, /ok: the dataset is ready/);
      const broken = run(dir);
      assert.equal(broken.status, 1);
      assert.match(broken.stdout, /error: trainset: 1 annotated file\(s\) missing, e\.g\. c\.png/);
      assert.match(broken.stdout, /warning: 1 image\(s\) appear in more than one split/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a folder that is not in the layout, saying what is expected', () => {
    assert.throws(() => new PetAgeDataset(path.join(FIXTURE, 'nope'), 'train'), /is not a folder \(expected trainset\//);
    assert.throws(() => new PetAgeDataset(path.join(FIXTURE, 'trainset'), 'train'), /trainset is missing/);
  });
});

describe('pet-age stand-in', function () {
  this.timeout(120_000);

  it('injects exactly round(rate · n) wrong labels, each at least 12 months off, seeded', () => {
    const rng = new Rng(3);
    const ages = Array.from({ length: 1000 }, () => drawAge(rng));
    const { labels, noisy } = injectLabelNoise(ages, 0.06, 7);
    assert.equal(noisy.reduce((a, b) => a + b, 0), 60);
    for (let i = 0; i < ages.length; i++) {
      if (noisy[i]) assert.ok(Math.abs(labels[i] - ages[i]) >= MIN_NOISE_MONTHS && labels[i] >= 0 && labels[i] < 192);
      else assert.equal(labels[i], ages[i]);
    }
    assert.deepEqual(injectLabelNoise(ages, 0.06, 7).labels, labels);
    assert.notDeepEqual(injectLabelNoise(ages, 0.06, 8).noisy, noisy);
    assert.equal(injectLabelNoise(ages, 0, 7).noisy.reduce((a, b) => a + b, 0), 0);
    // 6% of 33 is 1.98: two labels.
    assert.equal(injectLabelNoise(ages.slice(0, 33), 0.06, 1).noisy.reduce((a, b) => a + b, 0), 2);
  });

  it('maps ages to zooms 1..4 and back; ages fall in [0, 192) and skew young', () => {
    assert.equal(zoomOfAge(0), 1);
    assert.ok(Math.abs(zoomOfAge(96) - 2) < 1e-12 && Math.abs(ageOfZoom(zoomOfAge(37)) - 37) < 1e-9);
    const rng = new Rng(1);
    const ages = Array.from({ length: 5000 }, () => drawAge(rng));
    assert.ok(ages.every((a) => a >= 0 && a < 192));
    const young = ages.filter((a) => a < 48).length;
    const old = ages.filter((a) => a >= 144).length;
    assert.ok(young > 0.5 * ages.length && old < 0.02 * ages.length, `young ${young}, old ${old}`);
  });

  it('builds seeded splits in the study\'s proportions, noisy train / val and a clean test split', async () => {
    const s = await petAgeStandIn({ standIn: true, progress: false, seed: 0 });
    const n = s.train.dataset.length + s.val.dataset.length + s.test.dataset.length;
    assert.ok(Math.abs(s.val.dataset.length / n - 3 / 26) < 0.01 && Math.abs(s.test.dataset.length / n - 3 / 26) < 0.01);
    const count = (m: Uint8Array) => m.reduce((a, b) => a + b, 0);
    assert.equal(count(s.train.noisy), Math.round(0.06 * s.train.dataset.length));
    assert.equal(count(s.val.noisy), Math.round(0.06 * s.val.dataset.length));
    assert.equal(count(s.test.noisy), 0);
    assert.deepEqual(Array.from(s.test.dataset.targets), Array.from(s.test.trueAges));
    assert.match(s.description, /STAND-IN \(not pet ages\)/);
    const x = await s.train.dataset.get(0);
    assert.deepEqual([x.height, x.width], [64, 64]);
    // The same seed gives the same data (from the cache), another seed other ages.
    const again = await petAgeStandIn({ standIn: true, progress: false, seed: 0 });
    assert.deepEqual(Array.from(again.train.dataset.targets), Array.from(s.train.dataset.targets));
    assert.deepEqual(again.train.dataset.pixels.subarray(0, 1000), s.train.dataset.pixels.subarray(0, 1000));
    const limited = await petAgeStandIn({ standIn: true, progress: false, seed: 0, limit: 10 });
    assert.equal(limited.train.dataset.length, 10);
  });
});
