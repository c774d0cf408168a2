/**
 * The eval transform's cost follows the crop, not the resized image: a 20000x1 strip (shorter side resized
 * to 256 would be 256 x 5,120,000 pixels, 3.9 GB) or a tiny crop_pct must not materialise the full resize.
 * The windowed resize must give the very bytes of resize-then-crop (the PIL fixtures in
 * test/eval-transform.test.ts pin those to PIL's).
 */
import { strict as assert } from 'assert';

import { evalGeometry } from '../../src/augment/eval-geometry';
import { centerCrop, crop, resizeBox, resizeBoxWindow, resizeShorter } from '../../src/augment/resample';
import type { RgbImage } from '../../src/image/sample';
import { withJsImageOps } from '../../src/native/image';

function noise(height: number, width: number, seed = 1): RgbImage {
  const image = new Uint8Array(height * width * 3);
  let s = seed >>> 0;
  for (let i = 0; i < image.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    image[i] = s >>> 24;
  }
  return { image, height, width, channels: 3 };
}

/** Peak resident memory of this process so far, in MB (monotonic). */
const peakMb = (): number => process.resourceUsage().maxRSS / 1024;

describe('eval transform: bounded memory and time', () => {
  it('a 20000x1 image is resized only where the 224 crop needs it', () => {
    const img = noise(1, 20000);
    const before = peakMb();
    const t0 = Date.now();
    const out = evalGeometry(img, { size: 224, cropPct: 0.875 });
    const ms = Date.now() - t0;
    assert.equal(out.height, 224);
    assert.equal(out.width, 224);
    assert.ok(ms < 3000, `${ms} ms`);
    assert.ok(peakMb() - before < 200, `peak RSS grew by ${(peakMb() - before).toFixed(0)} MB`);
  });

  it('crop_pct 0.01 on an ordinary photo-sized image stays small (shorter side 22400)', () => {
    const img = noise(300, 400, 7);
    const before = peakMb();
    const t0 = Date.now();
    const out = evalGeometry(img, { size: 224, cropPct: 0.01 });
    assert.equal(out.height * out.width, 224 * 224);
    assert.ok(Date.now() - t0 < 3000, `${Date.now() - t0} ms`);
    assert.ok(peakMb() - before < 200, `peak RSS grew by ${(peakMb() - before).toFixed(0)} MB`);
  });

  it('the windowed path gives the bytes of the full resize then centre crop (JS and native)', () => {
    const shapes: Array<[number, number, number, number]> = [
      // [h, w, size, cropPct]: long strips, up- and down-scaling, odd sizes, tiny crop_pct
      [3, 400, 16, 0.875], [400, 3, 16, 0.875], [37, 53, 24, 0.3], [120, 90, 32, 0.9], [64, 64, 31, 0.05],
      [200, 150, 20, 0.5],
    ];
    for (const [h, w, size, cropPct] of shapes) {
      const img = noise(h, w, h * 1000 + w);
      const s = Math.floor(size / cropPct);
      for (const run of [<T>(f: () => T) => f(), withJsImageOps]) {
        const full = centerCrop(resizeShorter(img, s, 'bicubic'), size);
        const got = run(() => evalGeometry(img, { size, cropPct }));
        assert.deepEqual(got.image, full.image, `center ${h}x${w} size ${size} crop ${cropPct}`);
        const squash = centerCrop(resizeBox(img, s, s, 'bicubic'), size);
        const gotSquash = run(() => evalGeometry(img, { size, cropPct, cropMode: 'squash' }));
        assert.deepEqual(gotSquash.image, squash.image, `squash ${h}x${w} size ${size} crop ${cropPct}`);
      }
      // any window of a resize with a box, bilinear too
      const box = { top: 1.5, left: 0.25, height: h - 2, width: w - 1 };
      for (const interp of ['bilinear', 'bicubic'] as const) {
        const fullOut = resizeBox(img, 40, 30, interp, box);
        const win = { top: 5, left: 3, height: 20, width: 17 };
        assert.deepEqual(resizeBoxWindow(img, 40, 30, interp, box, win).image,
          crop(fullOut, win.top, win.left, win.height, win.width).image, `window ${h}x${w} ${interp}`);
      }
    }
  });

  it('rejects a window outside the output and absurd resize targets with clear errors', () => {
    const img = noise(4, 4);
    assert.throws(() => resizeBoxWindow(img, 8, 8, 'bicubic', { top: 0, left: 0, height: 4, width: 4 },
      { top: 4, left: 0, height: 5, width: 1 }), /window .* not inside the 8x8 output/);
    assert.throws(() => evalGeometry(img, { size: 224, cropPct: 1e-300 }), /too large/);
  });
});
