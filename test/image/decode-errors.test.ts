/**
 * Errors from concurrent decodes name the file and give that file's own reason. libvips keeps one
 * process-wide error buffer that every finished pipeline clears, so with many decodes in flight (the
 * loader's prefetch) a failing decode used to report "Unknown error", or another file's reason.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import * as zlib from 'zlib';

import { CorruptImageError, decodeImageFile } from '../../src/image/decode';

describe('image: decode errors under concurrency', function () {
  this.timeout(60_000);
  let dir: string;
  const files: string[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'decode-errors-'));
    const raw = Buffer.alloc(200 * 200 * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 7919) % 251;
    const img = () => sharp(raw, { raw: { width: 200, height: 200, channels: 3 } });
    const jpg = await img().jpeg().toBuffer();
    const png = await img().png().toBuffer();
    for (let i = 0; i < 30; i++) {
      const f = path.join(dir, `${i}.${i % 2 ? 'jpg' : 'png'}`);
      const b = i % 2 ? jpg : png;
      fs.writeFileSync(f, i % 3 === 0 ? b.subarray(0, b.length - 100 - i * 10) : b);
      files.push(f);
    }
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('every failure is a CorruptImageError naming its file with its own reason, never "Unknown error"', async () => {
    for (let round = 0; round < 3; round++) {
      const results = await Promise.allSettled(files.map((f) => decodeImageFile(f)));
      results.forEach((r, i) => {
        const truncated = i % 3 === 0;
        if (!truncated) {
          assert.equal(r.status, 'fulfilled', `${files[i]}: ${r.status === 'rejected' ? r.reason : ''}`);
          return;
        }
        assert.equal(r.status, 'rejected', `${files[i]} is truncated`);
        const err = (r as PromiseRejectedResult).reason as Error;
        assert.ok(err instanceof CorruptImageError, String(err));
        assert.ok(err.message.includes(files[i]), err.message);
        assert.ok(!/Unknown error/.test(err.message), err.message);
        if (files[i].endsWith('.png')) assert.ok(!/jpeg/i.test(err.message), `another file's reason: ${err.message}`);
        else assert.ok(!/png/i.test(err.message.replace(files[i], '')), `another file's reason: ${err.message}`);
      });
    }
  });

  it('refuses images over PIL\'s decompression-bomb limit (2 x 89,478,485 pixels) before decoding them', async () => {
    // A 16x16 PNG whose IHDR (CRC fixed up) claims 14000 x 14000 = 196M pixels.
    const png = Buffer.from(await sharp({ create: { width: 16, height: 16, channels: 3, background: 'red' } }).png().toBuffer());
    png.writeUInt32BE(14000, 16);
    png.writeUInt32BE(14000, 20);
    png.writeUInt32BE(zlib.crc32(png.subarray(12, 29)) >>> 0, 29);
    const file = path.join(dir, 'bomb.png');
    fs.writeFileSync(file, png);
    assert.deepEqual(await sharp(file).metadata().then((m) => [m.width, m.height]), [14000, 14000]);
    const before = process.resourceUsage().maxRSS;
    await assert.rejects(decodeImageFile(file), (err: Error) => {
      assert.ok(err instanceof CorruptImageError);
      assert.match(err.message, /bomb\.png: .*196000000 pixels.* limit of 178956970/);
      return true;
    });
    assert.ok((process.resourceUsage().maxRSS - before) / 1024 < 100, 'no large allocation');
  });
});
