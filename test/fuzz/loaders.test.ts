/**
 * Seeded fuzzing of the loaders that read outside input: safetensors headers (parseSafetensors, then
 * toFloat32 on whatever parsed) and image bytes (decodeImageFile). Every input must end in a result or an
 * Error with a message (SafetensorsError / CorruptImageError), never another kind of exception, a hang or
 * a large allocation. Counts and time are bounded (a few seconds in all).
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';

import { parseSafetensors, SafetensorsError, toFloat32 } from '../../src/convnext/safetensors';
import { CorruptImageError, decodeImageFile } from '../../src/image/decode';
import { Rng } from '../../src/util/rng';

function safetensorsFile(header: unknown, data: Uint8Array): Uint8Array {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

/** A valid file: F32 [2, 3], F16 [4], I64 [1], BF16 [0] and metadata. */
function validHeader(): Record<string, unknown> {
  return {
    __metadata__: { format: 'pt' },
    w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] },
    h: { dtype: 'F16', shape: [4], data_offsets: [24, 32] },
    i: { dtype: 'I64', shape: [1], data_offsets: [32, 40] },
    e: { dtype: 'BF16', shape: [0], data_offsets: [40, 40] },
  };
}

const WEIRD_VALUES: unknown[] = [
  -1, 0, 1, 0.5, 1e300, -1e300, 2 ** 53, 2 ** 64, Number.MAX_SAFE_INTEGER, 'x', '8', null, true, [], {}, [0], [1, 2, 3],
  [2 ** 40, 2 ** 40], [-1, 4], [8, 4], [[0], [8]],
];

/** Replaces a random leaf (or adds a key) of a JSON value with something odd. */
function mutateJson(v: unknown, rng: Rng, depth = 0): unknown {
  const pick = <T>(xs: T[]): T => xs[rng.int(0, xs.length)];
  if (v === null || typeof v !== 'object' || depth > 3 || rng.random() < 0.15) return pick(WEIRD_VALUES);
  if (Array.isArray(v)) {
    const out = v.slice();
    if (out.length === 0 || rng.random() < 0.2) out.push(pick(WEIRD_VALUES));
    else {
      const k = rng.int(0, out.length);
      out[k] = mutateJson(out[k], rng, depth + 1);
    }
    return out;
  }
  const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
  const keys = Object.keys(out);
  const r = rng.random();
  if (r < 0.1) out[pick(['__metadata__', 'x', 'dtype', 'shape', 'data_offsets', ''])] = pick(WEIRD_VALUES);
  else if (r < 0.2 && keys.length) delete out[pick(keys)];
  else if (keys.length) {
    const k = pick(keys);
    out[k] = mutateJson(out[k], rng, depth + 1);
  }
  return out;
}

function expectCleanSafetensors(buf: Uint8Array, what: string): void {
  let parsed;
  try {
    parsed = parseSafetensors(buf, 'fuzz.safetensors');
  } catch (err) {
    assert.ok(err instanceof SafetensorsError, `${what}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    assert.match(err.message, /^fuzz\.safetensors is not a valid safetensors file: \S/);
    return;
  }
  // Whatever parses must be readable, inside the buffer, and sized by its shape.
  for (const [name, t] of parsed.tensors) {
    const values = toFloat32(t);
    assert.equal(values.length, t.shape.reduce((a, b) => a * b, 1), `${what}: ${name}`);
    assert.ok(t.bytes.byteOffset >= (buf as Buffer).byteOffset && t.bytes.byteOffset + t.bytes.length <= (buf as Buffer).byteOffset + buf.length);
  }
}

describe('fuzz: loaders', function () {
  this.timeout(60_000);

  it('safetensors: mutated headers, random bytes and truncations end in a result or a SafetensorsError', () => {
    const rng = new Rng(20240607);
    const data = new Uint8Array(40).map((_, i) => i * 13);
    const valid = safetensorsFile(validHeader(), data);
    expectCleanSafetensors(valid, 'valid');
    const t0 = Date.now();
    let n = 0;
    for (let k = 0; k < 4000; k++, n++) {
      const kind = k % 5;
      let buf: Uint8Array;
      if (kind === 0) buf = safetensorsFile(mutateJson(validHeader(), rng), data.subarray(0, rng.int(0, 48)));
      else if (kind === 1) {
        buf = Uint8Array.from(valid);
        for (let f = rng.int(1, 6); f > 0; f--) buf[rng.int(0, buf.length)] = rng.int(0, 256);
      } else if (kind === 2) buf = valid.subarray(0, rng.int(0, valid.length));
      else if (kind === 3) buf = Uint8Array.from({ length: rng.int(0, 64) }, () => rng.int(0, 256));
      else {
        // A header length that lies, and JSON text with random characters spliced in.
        const text = JSON.stringify(validHeader());
        const at = rng.int(0, text.length);
        const spliced = text.slice(0, at) + String.fromCharCode(rng.int(0, 128)) + text.slice(at + rng.int(0, 3));
        buf = safetensorsFile(spliced, data);
        if (rng.random() < 0.3) new DataView(buf.buffer, buf.byteOffset).setBigUint64(0, BigInt(rng.int(0, 2 ** 31)) * BigInt(rng.int(1, 2 ** 20)), true);
      }
      expectCleanSafetensors(buf, `case ${k} (kind ${kind})`);
    }
    assert.ok(Date.now() - t0 < 10_000, `${n} cases took ${Date.now() - t0} ms`);
  });

  it('images: random bytes and mutated PNG, JPEG, WebP, GIF and TIFF files decode or give a CorruptImageError', async () => {
    const rng = new Rng(7);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fuzz-images-'));
    try {
      const raw = Buffer.alloc(24 * 16 * 3);
      for (let i = 0; i < raw.length; i++) raw[i] = (i * 31) % 256;
      const img = () => sharp(raw, { raw: { width: 24, height: 16, channels: 3 } });
      const seeds = [await img().png().toBuffer(), await img().jpeg().toBuffer(), await img().webp().toBuffer(),
        await img().gif().toBuffer(), await img().tiff().toBuffer(), await img().jpeg().toColourspace('cmyk').toBuffer()];
      const t0 = Date.now();
      const cases: Buffer[] = [];
      for (let k = 0; k < 300; k++) {
        if (k % 6 === 5) {
          cases.push(Buffer.from(Uint8Array.from({ length: rng.int(0, 200) }, () => rng.int(0, 256))));
          continue;
        }
        const b = Buffer.from(seeds[k % seeds.length]);
        const r = rng.random();
        if (r < 0.4) {
          // flip bytes, more often in the first 64 (headers: sizes, chunk lengths, markers)
          for (let f = rng.int(1, 8); f > 0; f--) b[rng.random() < 0.6 ? rng.int(0, Math.min(64, b.length)) : rng.int(0, b.length)] = rng.int(0, 256);
          cases.push(b);
        } else if (r < 0.7) cases.push(b.subarray(0, rng.int(0, b.length)));
        else {
          const at = rng.int(0, b.length);
          cases.push(Buffer.concat([b.subarray(0, at), Buffer.from(Uint8Array.from({ length: rng.int(1, 40) }, () => rng.int(0, 256))), b.subarray(at)]));
        }
      }
      const files = cases.map((c, k) => {
        const f = path.join(dir, `case-${k}.img`);
        fs.writeFileSync(f, c);
        return f;
      });
      // Several in flight at once, as the loader decodes.
      let decoded = 0;
      for (let i = 0; i < files.length; i += 8) {
        const results = await Promise.allSettled(files.slice(i, i + 8).map((f) => decodeImageFile(f)));
        results.forEach((r, j) => {
          const f = files[i + j];
          if (r.status === 'fulfilled') {
            const { image, height, width } = r.value;
            assert.ok(height > 0 && width > 0 && image.length === height * width * 3, f);
            decoded++;
          } else {
            const err = r.reason as Error;
            assert.ok(err instanceof CorruptImageError, `${f}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
            assert.ok(err.message.includes(f) && err.message.length > `cannot decode image ${f}: `.length, err.message);
          }
        });
      }
      assert.ok(decoded > 0 && decoded < files.length, `${decoded} of ${files.length} decoded`);
      assert.ok(Date.now() - t0 < 20_000, `took ${Date.now() - t0} ms`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
