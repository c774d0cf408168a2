/** RandomResizedCrop sampling, RandAugment policy and draws, built train/eval pipelines, the grid helper. */
import { strict as assert } from 'assert';

import * as A from '../../src/augment';
import { type Dataset } from '../../src/data';
import { Rng } from "../../src/util";
import { type Sample } from "../../src/image";

function noise(h: number, w: number, seed = 1): Sample {
  const r = new Rng(seed);
  return { image: Uint8Array.from({ length: h * w * 3 }, () => r.int(0, 256)), height: h, width: w, channels: 3, label: 2 };
}

describe('augment: RandomResizedCrop', () => {
  it('samples boxes inside the image with area in scale and aspect in ratio (torchvision get_params)', () => {
    const rng = new Rng(3);
    let areaSum = 0;
    const N = 2000;
    for (let i = 0; i < N; i++) {
      const b = A.randomResizedCropParams(200, 300, [0.08, 1], [3 / 4, 4 / 3], rng);
      assert.ok(b.top >= 0 && b.left >= 0 && b.top + b.height <= 200 && b.left + b.width <= 300);
      const frac = (b.height * b.width) / 60000;
      // w and h are rounded, so allow a pixel's worth of slack on the bounds
      assert.ok(frac > 0.07 && frac <= 1, `area fraction ${frac}`);
      // rounding w and h (each >= ~69 px here) moves the aspect by under 2%
      assert.ok(b.width / b.height > 0.73 && b.width / b.height < 1.36, `aspect ${b.width / b.height}`);
      areaSum += frac;
    }
    // Accepted draws are uniform on [0.08, 1] truncated by the fit test, so the mean lies below 0.54.
    assert.ok(areaSum / N > 0.35 && areaSum / N < 0.54, `mean area ${areaSum / N}`);
  });

  it('falls back to a centre crop clamped to the ratio range when no draw fits', () => {
    // A 10x100 strip with scale (0.9, 1): a box of 900+ px with aspect <= 4/3 needs 26+ rows, so all ten
    // draws fail.
    const b = A.randomResizedCropParams(10, 100, [0.9, 1], [3 / 4, 4 / 3], new Rng(1));
    // in_ratio 10 > 4/3 → h = 10, w = round(10 * 4/3) = 13, left = (100 - 13) // 2 = 43
    assert.deepEqual(b, { top: 0, left: 43, height: 10, width: 13 });
    const c = A.randomResizedCropParams(100, 10, [0.9, 1], [3 / 4, 4 / 3], new Rng(1));
    // in_ratio 0.1 < 3/4 → w = 10, h = round(10 / 0.75) = 13, top = 87 // 2 = 43
    assert.deepEqual(c, { top: 43, left: 0, height: 13, width: 10 });
  });

  it('scale (1, 1) and ratio = the image aspect gives the whole image, resized', () => {
    const s = noise(20, 20);
    const out = A.randomResizedCrop(s, 20, new Rng(0), [1, 1], [1, 1]);
    assert.deepEqual(out.image, s.image);
  });
});

describe('augment: RandAugment', () => {
  it('parses rand-m9-mstd0.5-inc1 into timm\'s settings', () => {
    const c = A.parseRandAugment('rand-m9-mstd0.5-inc1');
    assert.equal(c.magnitude, 9);
    assert.equal(c.magnitudeStd, 0.5);
    assert.equal(c.numLayers, 2);
    assert.equal(c.prob, 0.5);
    assert.deepEqual(c.ops, A.RAND_INCREASING_TRANSFORMS);
    assert.equal(c.ops.length, 15);
    assert.deepEqual(c.fill, [124, 116, 104]);
    assert.equal(A.parseRandAugment('rand-m7-n3-mstd101').magnitudeStd, Infinity);
    assert.equal(A.parseRandAugment('rand-n3').numLayers, 3);
    assert.throws(() => A.parseRandAugment('rand-m9-q2'), /unknown section 'q'/);
    assert.throws(() => A.parseRandAugment('augmix-m3'), /must start with 'rand'/);
  });

  it('draws 2 ops with replacement, applies each with p 0.5, magnitude ~ N(9, 0.5) clipped to [0, 10]', () => {
    const cfg = A.parseRandAugment('rand-m9-mstd0.5-inc1');
    const img = noise(8, 8);
    const counts = new Map<string, number>();
    const mags: number[] = [];
    let applied = 0;
    let total = 0;
    for (let s = 0; s < 1500; s++) {
      const trace: A.RandAugmentTrace[] = [];
      A.randAugment(img, cfg, new Rng(s), trace);
      assert.equal(trace.length, 2);
      for (const t of trace) {
        total++;
        counts.set(t.op, (counts.get(t.op) ?? 0) + 1);
        if (t.applied) {
          applied++;
          mags.push(t.magnitude!);
        }
      }
    }
    assert.equal(counts.size, 15);
    for (const [op, n] of counts) assert.ok(n > total / 15 / 2, `${op} chosen ${n} times of ${total}`);
    assert.ok(Math.abs(applied / total - 0.5) < 0.04, `applied ${applied} / ${total}`);
    const mean = mags.reduce((a, b) => a + b, 0) / mags.length;
    const sd = Math.sqrt(mags.reduce((a, b) => a + (b - mean) ** 2, 0) / mags.length);
    assert.ok(Math.abs(mean - 9) < 0.05 && Math.abs(sd - 0.5) < 0.05, `magnitude mean ${mean} sd ${sd}`);
    assert.ok(mags.every((m) => m >= 0 && m <= 10));
  });

  it('is a pure function of the rng state', () => {
    const cfg = A.parseRandAugment('rand-m9-mstd0.5-inc1');
    const img = noise(16, 16);
    for (let s = 0; s < 30; s++) assert.deepEqual(A.randAugment(img, cfg, new Rng(s)).image, A.randAugment(img, cfg, new Rng(s)).image);
  });
});

describe('augment: built pipelines', () => {
  const cfg = A.augmentConfig({ inputSize: 24 });

  it('the paper defaults', () => {
    const p = A.PAPER_AUGMENT;
    assert.deepEqual(
      [p.inputSize, p.scale, p.hflip, p.randAugment, p.reprob, p.mixup, p.cutmix, p.mixupProb, p.mixupSwitchProb, p.smoothing, p.cropPct],
      [224, [0.08, 1], 0.5, 'rand-m9-mstd0.5-inc1', 0.25, 0.8, 1.0, 1.0, 0.5, 0.1, 0.875],
    );
  });

  it('train transform: inputSize output, deterministic per rng, varied across draws, label kept', async () => {
    const t = A.buildTrainTransform(cfg);
    const s = noise(40, 30);
    const a = await t(s, new Rng(5));
    const b = await t(s, new Rng(5));
    const c = await t(s, new Rng(6));
    assert.deepEqual([a.height, a.width, a.label], [24, 24, 2]);
    assert.deepEqual(a.image, b.image);
    assert.notDeepEqual(a.image, c.image);
  });

  it('hflip probability 1 with no other op is an exact mirror of the eval crop', async () => {
    const plain = A.augmentConfig({ inputSize: 8, scale: null, randAugment: '', hflip: 1, cropPct: 1 });
    const s = noise(8, 8);
    const out = await A.buildTrainTransform(plain)(s, new Rng(0));
    assert.deepEqual(out.image, A.hflip(s).image);
  });

  it('eval transform: short side to floor(size / crop_pct), centre crop', async () => {
    const e = A.buildEvalTransform({ inputSize: 224, cropPct: 0.875 });
    const out = await e({ ...noise(300, 400), label: 1 }, new Rng(0));
    assert.deepEqual([out.height, out.width], [224, 224]);
    // 300x400 → short side 256: 256x341, crop offsets round((256-224)/2) = 16, round((341-224)/2) = round(58.5) = 58
    const resized = A.resizeShorter(noise(300, 400), 256, 'bicubic');
    assert.deepEqual([resized.height, resized.width], [256, 341]);
    assert.deepEqual(out.image, A.crop(resized, 16, 58, 224, 224).image);
  });

  it('geometric affine keeps the size and is seeded', async () => {
    const t = A.buildTrainTransform(A.augmentConfig({ inputSize: 16, randAugment: '', geometric: A.DEFAULT_GEOMETRIC }));
    const s = noise(16, 16);
    assert.deepEqual((await t(s, new Rng(1))).image, (await t(s, new Rng(1))).image);
    const d = A.drawAffine(A.DEFAULT_GEOMETRIC, 100, 100, new Rng(4));
    assert.ok(Math.abs(d.degrees) <= 15 && d.scale >= 0.9 && d.scale <= 1.1 && Math.abs(d.tx) <= 10 && Math.abs(d.ty) <= 10);
  });

  it('batch transform: erasing + mixup when on, smoothing alone, or nothing', () => {
    assert.ok(A.buildBatchTransform(cfg, 10));
    assert.equal(A.buildBatchTransform(A.augmentConfig({ reprob: 0, mixup: 0, cutmix: 0, smoothing: 0 }), 10), undefined);
    const smooth = A.buildBatchTransform(A.augmentConfig({ reprob: 0, mixup: 0, cutmix: 0, smoothing: 0.1 }), 4)!;
    const batch = { x: new Float32Array(12), shape: [1, 2, 2, 3] as [number, number, number, number], y: new Float32Array(4), yWidth: 4, labels: Int32Array.from([1]), indices: Int32Array.from([0]) };
    smooth(batch, new Rng(0));
    assert.deepEqual(Array.from(batch.y).map((v) => +v.toFixed(4)), [0.025, 0.925, 0.025, 0.025]);
  });

  it('augmentationGrid returns the eval view and the loader\'s per-epoch draws', async () => {
    const ds: Dataset = { length: 3, classes: ['a', 'b', 'c'], get: async (i) => ({ ...noise(30, 30, i), label: i }) };
    const grid = await A.augmentationGrid(ds, cfg, { indices: [0, 2], draws: 3, seed: 1 });
    assert.equal(grid.length, 2);
    assert.deepEqual(grid[0].map((c) => c.caption), ['eval', 'train epoch 0', 'train epoch 1', 'train epoch 2']);
    assert.equal(grid[1][0].label, 2);
    assert.ok(grid.flat().every((c) => c.height === 24 && c.width === 24 && c.image.length === 24 * 24 * 3));
  });
});
