/**
 * data_offsets validated as the reference implementation (huggingface/safetensors, Metadata::validate and
 * the buffer-length check) does: integers, begin <= end, sorted by offset they tile the data section from
 * byte 0 to its end with no gap and no overlap. Header order does not matter.
 */
import { strict as assert } from 'assert';

import { parseSafetensors } from '../../src/convnext/safetensors';

function file(header: unknown, dataBytes: number): Uint8Array {
  const json = typeof header === 'string' ? header : JSON.stringify(header);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const data = Buffer.alloc(dataBytes);
  for (let i = 0; i < dataBytes; i++) data[i] = i;
  return Buffer.concat([len, Buffer.from(json), data]);
}

const f32 = (offsets: unknown, shape = [2]) => ({ dtype: 'F32', shape, data_offsets: offsets });

describe('safetensors: data_offsets', () => {
  it('accepts tensors that tile the data section, in any header order', () => {
    const { tensors } = parseSafetensors(file({ b: f32([8, 16]), a: f32([0, 8]), e: f32([16, 16], [0]) }, 16));
    assert.deepEqual(Array.from(tensors.get('a')!.bytes), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(Array.from(tensors.get('b')!.bytes), [8, 9, 10, 11, 12, 13, 14, 15]);
    assert.deepEqual([...tensors.keys()], ['b', 'a', 'e']);
  });

  const bad: Array<[string, unknown, number, RegExp]> = [
    ['non-integer offsets', { a: f32([0.5, 8.5]) }, 16, /"a" has data_offsets \[0\.5,8\.5\]: expected two non-negative integers/],
    ['negative offsets', { a: f32([-8, 0]) }, 8, /"a" has data_offsets \[-8,0\]: expected two non-negative integers/],
    ['string offsets', { a: f32(['0', '8']) }, 8, /expected two non-negative integers/],
    ['three offsets', { a: f32([0, 8, 8]) }, 8, /expected two non-negative integers/],
    ['begin after end', { a: f32([8, 0]) }, 8, /"a" has data_offsets \[8,0\]: begin after end/],
    ['overlapping tensors', { a: f32([0, 8]), b: f32([4, 12]) }, 12, /"b" .*\[4,12\] overlap.* "a"|overlap/],
    ['the same bytes twice', { a: f32([0, 8]), b: f32([0, 8]) }, 8, /overlap/],
    ['a gap between tensors', { a: f32([0, 8]), b: f32([12, 20]) }, 20, /gap of 4 bytes before "b"/],
    ['a gap at the start', { a: f32([4, 12]) }, 12, /gap of 4 bytes before "a"/],
    ['bytes after the last tensor', { a: f32([0, 8]) }, 16, /tensors cover 8 of the 16-byte data section/],
    ['metadata that is not a string map', { __metadata__: { n: 1 }, a: f32([0, 8]) }, 8, /__metadata__ .*string/],
    ['a tensor entry that is not an object', { a: 5 }, 8, /tensor "a"/],
    ['a header that is an array', '[1]', 8, /header is not a JSON object/],
  ];
  for (const [what, header, n, re] of bad) {
    it(`rejects ${what}`, () => {
      assert.throws(() => parseSafetensors(file(header, n), 'w.safetensors'),
        (err: Error) => err.name === 'SafetensorsError' && /^w\.safetensors is not a valid safetensors file: /.test(err.message) && re.test(err.message)
          ? true : assert.fail(`${err.name}: ${err.message}`));
    });
  }
});
