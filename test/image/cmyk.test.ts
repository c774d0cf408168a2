/**
 * CMYK JPEGs decode to PIL's colours: Image.open(f).convert('RGB') (Convert.c cmyk2rgb, no ICC), which
 * is what torchvision's loader feeds the reference models. Fixture from test/fixtures/image/make_cmyk_fixture.py.
 */
import { strict as assert } from 'assert';
import { readFileSync } from 'fs';
import { join } from 'path';

import { cmykToRgb, decodeImageFile } from '../../src/image/decode';

const dir = join(__dirname, '..', 'fixtures', 'image');

describe('image: CMYK decode matches PIL', () => {
  it('an Adobe (inverted) CMYK JPEG decodes to PIL convert("RGB") bytes', async () => {
    const img = await decodeImageFile(join(dir, 'cmyk.jpg'));
    const expected = readFileSync(join(dir, 'cmyk.rgb'));
    assert.equal(img.width, 24);
    assert.equal(img.height, 16);
    assert.equal(img.image.length, expected.length);
    let sum = 0;
    let max = 0;
    for (let i = 0; i < expected.length; i++) {
      const d = Math.abs(img.image[i] - expected[i]);
      sum += d;
      max = Math.max(max, d);
    }
    // Same JPEG, two libjpeg builds: the inverse DCTs may differ by a unit or two.
    assert.ok(sum / expected.length < 0.5, `mean |diff| ${sum / expected.length}`);
    assert.ok(max <= 3, `max |diff| ${max}`);
  });

  it('cmykToRgb is PIL cmyk2rgb bit for bit (values from Pillow 9.4 Image.convert)', () => {
    const cmyk = [[0, 0, 0, 0], [255, 255, 255, 255], [255, 0, 0, 0], [10, 128, 200, 30], [77, 3, 254, 128], [0, 0, 0, 255], [200, 100, 50, 1]];
    const pil = [[255, 255, 255], [0, 0, 0], [0, 255, 255], [216, 112, 49], [89, 126, 0], [0, 0, 0], [55, 154, 204]];
    assert.deepEqual(Array.from(cmykToRgb(Uint8Array.from(cmyk.flat()), cmyk.length)), pil.flat());
    // with a fifth (alpha) channel per pixel, dropped
    const withAlpha = Uint8Array.from(cmyk.flatMap((p) => [...p, 7]));
    assert.deepEqual(Array.from(cmykToRgb(withAlpha, cmyk.length, 5)), pil.flat());
  });
});
