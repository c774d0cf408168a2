/**
 * The evaluation transform against timm's `transforms_imagenet_eval` on PIL images (fixtures from
 * test/fixtures/make_parity_fixtures.py): crop geometry, bicubic pixels, normalisation.
 *
 * Resized pixels must equal PIL's exactly: the resampler uses PIL's fixed-point weights and integer sums.
 * A crop one pixel off would differ by tens of levels on these noisy test images. (sharp's own 'cubic'
 * resize differs from PIL by up to 12 levels when shrinking and 109 when enlarging, which is why the
 * transform does not use it.)
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { tf } from '../../src/backend';
import { evalGeometry, type CropMode } from '../../src/augment/eval-geometry';
import { loadEvalBatch, loadEvalImage, normalizeImage } from '../../src/augment/eval-transform';
import { readSafetensors, toFloat32 } from '../../src/convnext';
import { decodeImageFile } from '../../src/image/decode';

const DIR = path.join(__dirname, '..', 'fixtures', 'parity', 'eval');
const cases: Array<{ name: string; file: string; size: number; crop_pct: number; crop_mode: CropMode }> =
  JSON.parse(fs.readFileSync(path.join(DIR, 'cases.json'), 'utf-8'));
const expected = readSafetensors(path.join(DIR, 'expected.safetensors')).tensors;

function ref(key: string): { data: Float32Array; shape: number[] } {
  const t = expected.get(key);
  if (!t) throw new Error(`fixture has no ${key}`);
  return { data: toFloat32(t), shape: t.shape };
}

describe('eval transform vs timm transforms_imagenet_eval (PIL, bicubic)', () => {
  for (const c of cases) {
    it(`${c.name}: ${c.file} → ${c.size}, crop_pct ${c.crop_pct}, ${c.crop_mode}: PIL's pixels exactly`, async () => {
      const img = await decodeImageFile(path.join(DIR, c.file));
      const out = evalGeometry(img, { size: c.size, cropPct: c.crop_pct, cropMode: c.crop_mode });
      const r = ref(`${c.name}.pixels`);
      assert.deepEqual([out.height, out.width, 3], r.shape);
      const differing = r.data.filter((v, i) => out.image[i] !== v).length;
      assert.equal(differing, 0, `${differing} of ${r.data.length} values differ from PIL's`);
    });
  }

  it('an image already at the size with crop_pct 1 passes through unchanged (no resampling)', async () => {
    const file = path.join(DIR, 'square64.png');
    const img = await decodeImageFile(file);
    const out = evalGeometry(img, { size: 64, cropPct: 1 });
    assert.deepEqual(out.image, img.image);
    assert.deepEqual(await loadEvalImage(file, { size: 64, cropPct: 1 }), normalizeImage(img));
  });

  it('decodes JPEG exactly as PIL does', async () => {
    const img = await decodeImageFile(path.join(DIR, 'photo.jpg'));
    assert.deepEqual(Float32Array.from(img.image), ref('jpeg_down.decoded').data);
  });

  it('normalises as ToTensor + Normalize(ImageNet mean, std)', async () => {
    const r = ref('landscape_down.normalised'); // CHW
    const pixels = ref('landscape_down.pixels');
    const ours = normalizeImage({ image: Uint8Array.from(pixels.data), height: 64, width: 64, channels: 3 });
    const chw = (y: number, x: number, c: number) => r.data[c * 64 * 64 + y * 64 + x];
    let max = 0;
    for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) for (let c = 0; c < 3; c++) {
      max = Math.max(max, Math.abs(ours[(y * 64 + x) * 3 + c] - chw(y, x, c)));
    }
    assert.ok(max < 1e-6, `max |diff| ${max}`);
    // End to end: within one grey level, 1 / (255 * 0.224).
    const full = await loadEvalImage(path.join(DIR, 'landscape.png'), { size: 64 });
    const step = 1 / (255 * 0.224) + 1e-6;
    for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) for (let c = 0; c < 3; c++) {
      assert.ok(Math.abs(full[(y * 64 + x) * 3 + c] - chw(y, x, c)) <= step);
    }
  });

  it('batches files into an NHWC tensor and rejects bad options', async () => {
    const before = tf.memory().numTensors;
    const x = await loadEvalBatch([path.join(DIR, 'landscape.png'), path.join(DIR, 'photo.jpg')], { size: 32 });
    assert.deepEqual(x.shape, [2, 32, 32, 3]);
    x.dispose();
    assert.equal(tf.memory().numTensors, before);
    const img = await decodeImageFile(path.join(DIR, 'square64.png'));
    assert.throws(() => evalGeometry(img, { size: 32, cropPct: 1.5 }), /cropPct must be in \(0, 1\]/);
    assert.throws(() => evalGeometry(img, { size: 31.5 }), /size must be a positive integer/);
  });
});
