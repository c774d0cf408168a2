/** Label and pixel arithmetic of Mixup / CutMix / label smoothing / Random Erasing (timm semantics). */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';

import {
  applyMix,
  cutmixBox,
  drawMix,
  eraseOne,
  mixupTargets,
  mixupTransform,
  randomErasingTransform,
} from '../../src/augment';
import { Rng } from "../../src/util";
import { type HostBatch } from "../../src/image";

const close = (a: number, b: number, eps = 1e-6): boolean => Math.abs(a - b) < eps;

/** A batch of B constant images: image b has every value b + 1. */
function constBatch(B: number, H: number, W: number, labels: number[], K: number): HostBatch {
  const x = new Float32Array(B * H * W * 3);
  for (let b = 0; b < B; b++) x.fill(b + 1, b * H * W * 3, (b + 1) * H * W * 3);
  const y = new Float32Array(B * K);
  labels.forEach((l, b) => (y[b * K + l] = 1));
  return { x, shape: [B, H, W, 3], y, yWidth: K, labels: Int32Array.from(labels), indices: Int32Array.from(labels.keys()) };
}

describe('augment: mixup / cutmix targets', () => {
  it('smoothed, mixed one-hots: worked example', () => {
    // K = 4, smoothing 0.1: off = 0.1 / 4 = 0.025, on = 1 - 0.1 + 0.025 = 0.925.
    // labels [0, 3], lam 0.7; row 0 mixes with flipped row (label 3), row 1 with label 0.
    //   row 0: class 0 = 0.7 * 0.925 + 0.3 * 0.025 = 0.655; class 3 = 0.7 * 0.025 + 0.3 * 0.925 = 0.295;
    //          classes 1, 2 = 0.025.  Sum = 0.655 + 0.295 + 0.05 = 1.
    const y = mixupTargets(Int32Array.from([0, 3]), 4, 0.7, 0.1);
    const want = [0.655, 0.025, 0.025, 0.295, 0.295, 0.025, 0.025, 0.655];
    want.forEach((w, i) => assert.ok(close(y[i], w), `y[${i}] = ${y[i]}, want ${w}`));
  });

  it('matches timm.data.mixup.mixup_target (fixture)', () => {
    const fx = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures/data/pil-ops.json'), 'utf8')).mixupTarget;
    const y = mixupTargets(Int32Array.from(fx.labels), fx.numClasses, fx.lam, fx.smoothing);
    (fx.y as number[]).forEach((v, i) => assert.ok(close(y[i], v), `y[${i}] = ${y[i]}, timm ${v}`));
  });

  it('without mixing (lam = 1) targets are the smoothed one-hots; every row sums to 1', () => {
    const y = mixupTargets(Int32Array.from([2, 0, 1]), 5, 1, 0.1);
    // on = 0.9 + 0.02 = 0.92, off = 0.02
    assert.ok(close(y[2], 0.92) && close(y[0], 0.02) && close(y[5], 0.92) && close(y[11], 0.92));
    const rng = new Rng(5);
    for (let t = 0; t < 50; t++) {
      const lam = rng.random();
      const labels = Int32Array.from({ length: 6 }, () => rng.int(0, 10));
      const ys = mixupTargets(labels, 10, lam, 0.1);
      for (let b = 0; b < 6; b++) {
        const s = ys.subarray(b * 10, b * 10 + 10).reduce((a, v) => a + v, 0);
        assert.ok(close(s, 1, 1e-5), `row sum ${s}`);
      }
    }
  });

  it('mixup blends each image with its mirror in the batch by lam', () => {
    const batch = constBatch(3, 2, 2, [0, 1, 2], 3);
    applyMix(batch, { lam: 0.75, cutmix: false });
    // image 0 = 0.75 * 1 + 0.25 * 3 = 1.5; image 1 pairs with itself = 2; image 2 = 0.75 * 3 + 0.25 * 1 = 2.5
    assert.ok(batch.x.subarray(0, 12).every((v) => close(v, 1.5)));
    assert.ok(batch.x.subarray(12, 24).every((v) => close(v, 2)));
    assert.ok(batch.x.subarray(24, 36).every((v) => close(v, 2.5)));
  });

  it('cutmix pastes the mirror image\'s box and corrects lambda to the clipped box area', () => {
    // 10x10, lam 0.64 → side ratio sqrt(0.36) = 0.6 → cut 6x6. Centre drawn uniformly; near a border the
    // box is clipped, and lam becomes 1 - area / 100.
    const rng = new Rng(11);
    for (let t = 0; t < 200; t++) {
      const [yl, yh, xl, xh] = cutmixBox(10, 10, 0.64, rng);
      assert.ok(yl >= 0 && xl >= 0 && yh <= 10 && xh <= 10 && yh - yl <= 6 && xh - xl <= 6);
    }
    const cfg = { mixupAlpha: 0, cutmixAlpha: 1, prob: 1, switchProb: 0.5, smoothing: 0, numClasses: 2 };
    for (let seed = 0; seed < 50; seed++) {
      const d = drawMix(cfg, 10, 10, new Rng(seed));
      assert.ok(d.cutmix && d.box);
      const [yl, yh, xl, xh] = d.box!;
      assert.ok(close(d.lam, 1 - ((yh - yl) * (xh - xl)) / 100), `lam ${d.lam} vs box ${d.box}`);
    }
    // Pixels: box rows 1..2, cols 2..3 of image 0 come from image 1 (value 2) and vice versa.
    const batch = constBatch(2, 4, 4, [0, 1], 2);
    applyMix(batch, { lam: 1 - 4 / 16, cutmix: true, box: [1, 3, 2, 4] });
    const at = (b: number, y: number, x: number): number => batch.x[((b * 4 + y) * 4 + x) * 3];
    assert.equal(at(0, 1, 2), 2);
    assert.equal(at(0, 2, 3), 2);
    assert.equal(at(0, 0, 0), 1);
    assert.equal(at(0, 3, 2), 1);
    assert.equal(at(1, 1, 2), 1);
    assert.equal(at(1, 0, 0), 2);
  });

  it('mixupTransform: targets agree with the pixels actually mixed, switch prob ~ 0.5, deterministic', () => {
    const cfg = { mixupAlpha: 0.8, cutmixAlpha: 1, prob: 1, switchProb: 0.5, smoothing: 0.1, numClasses: 2 };
    const t = mixupTransform(cfg);
    let cut = 0;
    const N = 400;
    for (let s = 0; s < N; s++) {
      const batch = constBatch(2, 8, 8, [0, 1], 2);
      t(batch, new Rng(s));
      // Image 0 started at 1, image 1 at 2: the mean of image 0 is lam * 1 + (1 - lam) * 2 both for mixup
      // and for area-corrected cutmix, so the mean pixel recovers lam.
      let mean = 0;
      for (let i = 0; i < 192; i++) mean += batch.x[i] / 192;
      const lam = 2 - mean;
      // class 0 target = lam * (1 - 0.1 + 0.05) + (1 - lam) * 0.05
      assert.ok(close(batch.y[0], lam * 0.95 + (1 - lam) * 0.05, 1e-5), `seed ${s}`);
      if (batch.x.subarray(0, 192).some((v) => v === 2)) cut++;
      const again = constBatch(2, 8, 8, [0, 1], 2);
      t(again, new Rng(s));
      assert.deepEqual(again.x, batch.x);
    }
    assert.ok(Math.abs(cut / N - 0.5) < 0.1, `cutmix chosen ${cut} / ${N}`);
  });

  it('prob 0 leaves pixels alone and only smooths', () => {
    const batch = constBatch(2, 2, 2, [1, 0], 2);
    mixupTransform({ mixupAlpha: 0.8, cutmixAlpha: 1, prob: 0, switchProb: 0.5, smoothing: 0.2, numClasses: 2 })(batch, new Rng(1));
    assert.ok(batch.x.subarray(0, 12).every((v) => v === 1));
    assert.ok(close(batch.y[1], 0.9) && close(batch.y[0], 0.1));
  });
});

describe('augment: random erasing (pixel mode)', () => {
  it('erases a box of 2%–1/3 of the area with aspect in [0.3, 3.33], with N(0,1) noise', () => {
    const H = 32;
    const W = 32;
    let erased = 0;
    for (let s = 0; s < 300; s++) {
      const x = new Float32Array(H * W * 3).fill(7);
      const box = eraseOne(x, 0, H, W, 3, { prob: 0.25 }, new Rng(s));
      if (!box) {
        assert.ok(x.every((v) => v === 7));
        continue;
      }
      erased++;
      const [top, left, h, w] = box;
      // rounding of sqrt(area * aspect) lets the area drift a little beyond the nominal bounds
      assert.ok(h * w >= 0.02 * H * W * 0.6 && h * w <= (H * W) / 3 * 1.3, `area ${h * w}`);
      assert.ok(top + h <= H && left + w <= W);
      let changed = 0;
      for (let i = 0; i < x.length; i++) if (x[i] !== 7) changed++;
      assert.equal(changed, h * w * 3);
    }
    assert.ok(Math.abs(erased / 300 - 0.25) < 0.07, `erased ${erased} / 300`);
    // The noise is standard normal.
    const x = new Float32Array(64 * 64 * 3).fill(0);
    const box = eraseOne(x, 0, 64, 64, 3, { prob: 1, minArea: 0.3, maxArea: 0.3 }, new Rng(2))!;
    const vals = Array.from(x).filter((v) => v !== 0);
    const mean = vals.reduce((a, v) => a + v, 0) / vals.length;
    const sd = Math.sqrt(vals.reduce((a, v) => a + (v - mean) ** 2, 0) / vals.length);
    assert.ok(box && Math.abs(mean) < 0.05 && Math.abs(sd - 1) < 0.05, `mean ${mean} sd ${sd}`);
  });

  it('erases per image of a batch, deterministically', () => {
    const a = constBatch(8, 16, 16, [0, 0, 0, 0, 1, 1, 1, 1], 2);
    const b = constBatch(8, 16, 16, [0, 0, 0, 0, 1, 1, 1, 1], 2);
    randomErasingTransform({ prob: 0.5 })(a, new Rng(9));
    randomErasingTransform({ prob: 0.5 })(b, new Rng(9));
    assert.deepEqual(a.x, b.x);
  });
});
