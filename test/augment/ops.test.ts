/**
 * Pixel operations against PIL / timm (fixture from test/fixtures/data/make_pil_fixtures.py) and
 * hand-computed geometry on tiny arrays.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';

import * as A from '../../src/augment';
import { collate } from '../../src/data';
import { nativeImageOps, withJsImageOps as js } from '../../src/native/image';

interface Fixture {
  height: number;
  width: number;
  fill: [number, number, number];
  image: number[];
  ops: Record<string, { height: number; width: number; data: number[] }>;
}
const fx = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures/data/pil-ops.json'), 'utf8')) as Fixture;
const img: RgbImage = { image: Uint8Array.from(fx.image), height: fx.height, width: fx.width, channels: 3 };
const H = fx.height;
const W = fx.width;

/** Image from rows of [r,g,b] triples. */
function rgb(rows: number[][][]): RgbImage {
  return { image: Uint8Array.from(rows.flat(2)), height: rows.length, width: rows[0].length, channels: 3 };
}
/** Grey image whose pixel value is given per position (r = g = b). */
function grey(rows: number[][]): RgbImage {
  return rgb(rows.map((r) => r.map((v) => [v, v, v])));
}
function greyValues(im: RgbImage): number[][] {
  const out: number[][] = [];
  for (let y = 0; y < im.height; y++) out.push(Array.from({ length: im.width }, (_, x) => im.image[(y * im.width + x) * 3]));
  return out;
}

function compare(name: string, got: RgbImage, maxDiff = 0, maxMismatchFraction = 0): void {
  const ref = fx.ops[name];
  assert.equal(got.height, ref.height, `${name} height`);
  assert.equal(got.width, ref.width, `${name} width`);
  let worst = 0;
  let mismatches = 0;
  ref.data.forEach((v, i) => {
    const d = Math.abs(v - got.image[i]);
    worst = Math.max(worst, d);
    if (d > 0) mismatches++;
  });
  assert.ok(worst <= maxDiff, `${name}: max difference ${worst} > ${maxDiff}`);
  assert.ok(mismatches <= maxMismatchFraction * ref.data.length, `${name}: ${mismatches} values differ`);
}

describe('augment: pixel ops match PIL / timm exactly', () => {
  const exact: [string, () => RgbImage][] = [
    ['autoContrast', () => A.autoContrast(img)],
    ['equalize', () => A.equalize(img)],
    ['invert', () => A.invert(img)],
    ['posterize2', () => A.posterize(img, 2)],
    ['posterize0', () => A.posterize(img, 0)],
    ['solarize100', () => A.solarize(img, 100)],
    ['solarizeAdd60', () => A.solarizeAdd(img, 60)],
    ['color1.6', () => A.color(img, 1.6)],
    ['color0.3', () => A.color(img, 0.3)],
    ['contrast1.7', () => A.contrast(img, 1.7)],
    ['contrast0.2', () => A.contrast(img, 0.2)],
    ['brightness1.5', () => A.brightness(img, 1.5)],
    ['brightness0.4', () => A.brightness(img, 0.4)],
    ['sharpness1.9', () => A.sharpness(img, 1.9)],
    ['sharpness0.1', () => A.sharpness(img, 0.1)],
  ];
  for (const [name, f] of exact) it(name, () => compare(name, f()));

  // warpAffine native (where it builds) and in JavaScript.
  const warps: [string, A.AffineMatrix][] = [
    ['rotate23', A.rotationMatrix(23, H, W)],
    ['rotate-90', A.rotationMatrix(-90, H, W)],
    ['shearX0.25', [1, 0.25, 0, 0, 1, 0]],
    ['shearY-0.2', [1, 0, 0, -0.2, 1, 0]],
    ['translateXRel0.3', [1, 0, 0.3 * W, 0, 1, 0]],
    ['translateYRel-0.25', [1, 0, 0, 0, 1, -0.25 * H]],
  ];
  for (const [name, m] of warps) {
    it(name, () => {
      compare(name, A.warpAffine(img, m, fx.fill));
      compare(name, js(() => A.warpAffine(img, m, fx.fill)));
    });
  }

  // PIL's fixed-point resample, so exact too; native (where it builds) and in JavaScript.
  const resizes: [string, number, number, A.Interpolation, A.Box?][] = [
    ['resizeBilinear7x5', 7, 5, 'bilinear'],
    ['resizeBilinear20x17', 20, 17, 'bilinear'],
    ['resizeBicubic7x5', 7, 5, 'bicubic'],
    ['resizeBicubic20x17', 20, 17, 'bicubic'],
    // crop (left 2, top 3, 7 wide, 8 high) then resize, as torchvision's resized_crop
    ['cropResizeBicubic8', 8, 8, 'bicubic', { top: 3, left: 2, height: 8, width: 7 }],
  ];
  for (const [name, h, w, interp, box] of resizes) {
    it(name, () => {
      compare(name, A.resizeBox(img, h, w, interp, box));
      compare(name, js(() => A.resizeBox(img, h, w, interp, box)));
    });
  }

  it('RandAugment ops at magnitude 10 reach timm\'s argument ranges', () => {
    // Posterize increasing at m=10 keeps 4 - int(1.0 * 4) = 0 bits: black image.
    assert.ok(A.applyOp('PosterizeIncreasing', img, 10, new A_Rng(1)).image.every((v) => v === 0));
    // Solarize increasing at m=10: threshold 256 - 256 = 0, every value inverted.
    const sol = A.applyOp('SolarizeIncreasing', img, 10, new A_Rng(1)).image;
    assert.ok(sol.every((v, i) => v === 255 - img.image[i]));
    // SolarizeAdd at m=5: add int(0.5 * 110) = 55 below 128.
    const add = A.applyOp('SolarizeAdd', img, 5, new A_Rng(1)).image;
    assert.ok(add.every((v, i) => v === (img.image[i] < 128 ? Math.min(255, img.image[i] + 55) : img.image[i])));
    // Magnitude 0 leaves the enhance ops at factor 1 (identity).
    for (const op of ['ColorIncreasing', 'ContrastIncreasing', 'BrightnessIncreasing', 'SharpnessIncreasing'] as const) {
      assert.deepEqual(A.applyOp(op, img, 0, new A_Rng(3)).image, img.image, op);
    }
  });
});
import { Rng as A_Rng } from "../../src/util";
import { CIFAR10_NORM, IMAGENET_NORM, type HostBatch, type RgbImage } from "../../src/image";

describe('augment: geometry on hand-made arrays', () => {
  const g = grey([
    [1, 2, 3, 4],
    [5, 6, 7, 8],
    [9, 10, 11, 12],
  ]);

  it('hflip mirrors each row', () => {
    assert.deepEqual(greyValues(A.hflip(g)), [
      [4, 3, 2, 1],
      [8, 7, 6, 5],
      [12, 11, 10, 9],
    ]);
  });

  it('crop takes the given window', () => {
    assert.deepEqual(greyValues(A.crop(g, 1, 1, 2, 2)), [
      [6, 7],
      [10, 11],
    ]);
    assert.throws(() => A.crop(g, 2, 0, 2, 2), /does not fit a 3x4 image/);
  });

  it('centerCrop rounds offsets like Python (banker\'s rounding)', () => {
    // 3x4 → 2x2: top = round(0.5) = 0 (half to even), left = round(1.0) = 1
    assert.deepEqual(greyValues(A.centerCrop(g, 2, 2)), [
      [2, 3],
      [6, 7],
    ]);
    // 3x4 → 1x1: top = round(1.0) = 1, left = round(1.5) = 2
    assert.deepEqual(greyValues(A.centerCrop(g, 1, 1)), [[7]]);
    assert.equal(A.pyRound(2.5), 2);
    assert.equal(A.pyRound(3.5), 4);
  });

  it('resizeShorter keeps the aspect ratio (torchvision Resize(int))', () => {
    const r = A.resizeShorter(grey([[0, 0, 0, 0, 0, 0]]), 3);
    assert.deepEqual([r.height, r.width], [3, 18]);
    const big = { image: new Uint8Array(300 * 200 * 3), height: 300, width: 200, channels: 3 as const };
    const s = A.resizeShorter(big, 256);
    assert.deepEqual([s.height, s.width], [384, 256]);
  });

  it('resize to the same size is the identity; 2x downscale uses PIL\'s widened triangle filter', () => {
    assert.deepEqual(A.resizeBox(g, 3, 4, 'bilinear').image, g.image);
    const four = grey([
      [0, 100, 50, 50],
      [100, 200, 50, 250],
    ]);
    // Width 4 → 2: scale 2, so the triangle's radius grows to 2. Output 0 is centred at source x = 1.0 and
    // reads pixel centres 0.5, 1.5, 2.5 with weights 1 - |d| / 2 = 0.75, 0.75, 0.25 → 3/7, 3/7, 1/7.
    //   row 0: (3*0 + 3*100 + 50) / 7 = 50;   row 1: (3*100 + 3*200 + 50) / 7 = 135.7 → 136 (8-bit pass)
    // Output 1 (centre 3.0) reads 1.5, 2.5, 3.5 with 1/7, 3/7, 3/7:
    //   row 0: (100 + 150 + 150) / 7 = 57.1 → 57;  row 1: (200 + 150 + 750) / 7 = 157.1 → 157
    // Height 2 → 1 reads both rows with 0.75, 0.75 → 1/2 each: (50 + 136) / 2 = 93, (57 + 157) / 2 = 107.
    assert.deepEqual(greyValues(A.resizeBox(four, 1, 2, 'bilinear')), [[93, 107]]);
  });

  it('warpAffine with an integer translation shifts pixels and fills the uncovered column', () => {
    // x_in = x + 1: output column x shows input column x + 1; the last column samples outside → fill 0.
    assert.deepEqual(greyValues(A.warpAffine(g, [1, 0, 1, 0, 1, 0], [0, 0, 0])), [
      [2, 3, 4, 0],
      [6, 7, 8, 0],
      [10, 11, 12, 0],
    ]);
  });

  it('rotation by 180 degrees reverses the image', () => {
    assert.deepEqual(greyValues(A.warpAffine(g, A.rotationMatrix(180, 3, 4), [0, 0, 0], 'nearest')), [
      [12, 11, 10, 9],
      [8, 7, 6, 5],
      [4, 3, 2, 1],
    ]);
  });

  it('similarityMatrix(0, 1, 0, 0) is the identity and scale 2 zooms about the centre', () => {
    const m = A.similarityMatrix(0, 1, 0, 0, 3, 4);
    assert.deepEqual(greyValues(A.warpAffine(g, m, [0, 0, 0], 'nearest')), greyValues(g));
    // Zoom 2 on a 4x4: output centre pixel (1.5, 1.5) samples input (1.75, 1.75) → pixel (1, 1).
    const four = grey([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
      [9, 10, 11, 12],
      [13, 14, 15, 16],
    ]);
    const z = greyValues(A.warpAffine(four, A.similarityMatrix(0, 2, 0, 0, 4, 4), [0, 0, 0], 'nearest'));
    // x_in = 2 + (x + 0.5 - 2) / 2 → columns 0..3 sample 1.25, 1.75, 2.25, 2.75 → input columns 1, 1, 2, 2
    assert.deepEqual(z, [
      [6, 6, 7, 7],
      [6, 6, 7, 7],
      [10, 10, 11, 11],
      [10, 10, 11, 11],
    ]);
  });
});

describe('augment: the native image kernels (src/native/image_ops.cc) give the JavaScript versions\' bytes', function () {
  before(function () {
    if (!nativeImageOps()) {
      console.log('      native image kernels unavailable here (no C++ compiler, or CONVNEXT_NATIVE=0)');
      this.skip();
    }
  });

  it('on random images and crop boxes: shrinking, enlarging, fractional boxes, bilinear and bicubic', () => {
    const rng = new A_Rng(7);
    let cases = 0;
    for (const [h, w] of [[128, 128], [37, 90], [5, 3]]) {
      const img: RgbImage = { image: Uint8Array.from({ length: h * w * 3 }, () => Math.floor(rng.random() * 256)), height: h, width: w, channels: 3 };
      for (let i = 0; i < 40; i++) {
        const bh = 1 + rng.random() * (h - 1), bw = 1 + rng.random() * (w - 1);
        const box = i === 0 ? undefined : { top: rng.random() * (h - bh), left: rng.random() * (w - bw), height: bh, width: bw };
        const [oh, ow] = [1 + Math.floor(rng.random() * 80), 1 + Math.floor(rng.random() * 80)];
        for (const interp of ['bilinear', 'bicubic'] as const) {
          const ours = A.resizeBox(img, oh, ow, interp, box);
          const ref = js(() => A.resizeBox(img, oh, ow, interp, box));
          assert.deepEqual([ours.height, ours.width], [oh, ow]);
          assert.ok(Buffer.from(ours.image).equals(Buffer.from(ref.image)), `${h}x${w} ${interp} -> ${oh}x${ow} box ${JSON.stringify(box)}`);
          cases++;
        }
      }
    }
    assert.equal(cases, 240);
  });

  it('reads an image that is a view into a larger buffer; rejects one too short for its size, and boxes outside it', () => {
    const big = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) % 256);
    const view: RgbImage = { image: big.subarray(100, 100 + 6 * 7 * 3), height: 6, width: 7, channels: 3 };
    const copy: RgbImage = { ...view, image: view.image.slice() };
    assert.deepEqual(A.resizeBox(view, 4, 5, 'bicubic').image, js(() => A.resizeBox(copy, 4, 5, 'bicubic')).image);
    assert.throws(() => A.resizeBox({ ...view, height: 7 }, 4, 5, 'bicubic'), /126 bytes for a 7x7 RGB image/);
    assert.throws(() => A.resizeBox(view, 4, 5, 'bicubic', { top: -1, left: 0, height: 3, width: 3 }), /not inside the 6x7 image/);
    assert.throws(() => js(() => A.resizeBox(view, 4, 5, 'bicubic', { top: 4, left: 5, height: 2.5, width: 2 })), /not inside/);
  });

  it('warpAffine on random images: rotations, shears, translations, zooms and arbitrary matrices, both filters', () => {
    const rng = new A_Rng(9);
    let cases = 0;
    for (const [h, w] of [[64, 64], [37, 90], [3, 5]]) {
      const img: RgbImage = { image: Uint8Array.from({ length: h * w * 3 }, () => Math.floor(rng.random() * 256)), height: h, width: w, channels: 3 };
      const fill = [rng.int(0, 256), rng.int(0, 256), rng.int(0, 256)] as const;
      const signed = (scale: number) => (rng.random() * 2 - 1) * scale;
      for (let i = 0; i < 20; i++) {
        const matrices: A.AffineMatrix[] = [
          A.rotationMatrix(signed(180), h, w),
          [1, signed(0.3), 0, 0, 1, 0],
          [1, 0, signed(0.45 * w), 0, 1, signed(0.45 * h)],
          A.similarityMatrix(signed(30), 0.5 + rng.random(), signed(4), signed(4), h, w),
          [signed(2), signed(2), signed(2 * w), signed(2), signed(2), signed(2 * h)],
        ];
        for (const m of matrices) {
          for (const interp of ['bilinear', 'nearest'] as const) {
            const ours = A.warpAffine(img, m, fill, interp);
            const ref = js(() => A.warpAffine(img, m, fill, interp));
            assert.ok(Buffer.from(ours.image).equals(Buffer.from(ref.image)), `${h}x${w} ${interp} [${m}]`);
            cases++;
          }
        }
      }
    }
    assert.equal(cases, 600);
  });

  it('hflip, collate\'s normalisation and mixup\'s blend, on random data', () => {
    const rng = new A_Rng(4);
    const bytes = (n: number) => Uint8Array.from({ length: n }, () => rng.int(0, 256));
    for (const [h, w] of [[64, 64], [7, 3], [1, 1]]) {
      const img: RgbImage = { image: bytes(h * w * 3), height: h, width: w, channels: 3 };
      assert.deepEqual(A.hflip(img).image, js(() => A.hflip(img)).image, `hflip ${h}x${w}`);
    }
    for (const norm of [IMAGENET_NORM, CIFAR10_NORM]) {
      const samples = Array.from({ length: 5 }, (_, i) => ({ image: bytes(6 * 4 * 3), height: 6, width: 4, channels: 3 as const, label: i % 3 }));
      const want = js(() => collate(samples, Int32Array.of(0, 1, 2, 3, 4), 3, norm)).x;
      assert.ok(Buffer.from(collate(samples, Int32Array.of(0, 1, 2, 3, 4), 3, norm).x.buffer).equals(Buffer.from(want.buffer)));
    }
    for (const B of [8, 5]) {
      const x = Float32Array.from({ length: B * 4 * 3 * 3 }, () => rng.random() * 4 - 2);
      const lam = rng.random();
      const batch = (): HostBatch => ({ x: x.slice(), shape: [B, 4, 3, 3], y: new Float32Array(B), yWidth: 1, labels: new Int32Array(B), indices: new Int32Array(B) });
      const [ours, ref] = [batch(), batch()];
      A.applyMix(ours, { lam, cutmix: false });
      js(() => A.applyMix(ref, { lam, cutmix: false }));
      assert.ok(Buffer.from(ours.x.buffer).equals(Buffer.from(ref.x.buffer)), `mixup blend, batch ${B}, lam ${lam}`);
      assert.ok(!Buffer.from(ours.x.buffer).equals(Buffer.from(x.buffer)));
    }
  });

  it('warpAffine reads a view into a larger buffer; rejects a short buffer, a bad matrix and a bad fill', () => {
    const big = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) % 256);
    const view: RgbImage = { image: big.subarray(100, 100 + 6 * 7 * 3), height: 6, width: 7, channels: 3 };
    const copy: RgbImage = { ...view, image: view.image.slice() };
    const m = A.rotationMatrix(17, 6, 7);
    assert.deepEqual(A.warpAffine(view, m, [1, 2, 3]).image, js(() => A.warpAffine(copy, m, [1, 2, 3])).image);
    assert.throws(() => A.warpAffine({ ...view, height: 7 }, m), /126 bytes for a 7x7 RGB image/);
    assert.throws(() => A.warpAffine(view, [1, 0, NaN, 0, 1, 0]), /6 finite numbers/);
    assert.throws(() => js(() => A.warpAffine(view, m, [0, 256, 0])), /3 integers in 0..255/);
  });
});
