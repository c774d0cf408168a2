import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { loadCheckpoint } from '../../src/train/checkpoint';
import { readJsonFile, tempPathFor, writeFileAtomic } from '../../src/util/fs';

describe('util/fs', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnx-fs-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes text, bytes and chunks atomically, leaving no temporary file', () => {
    const f = path.join(dir, 'a', 'b.bin');
    writeFileAtomic(f, 'old');
    writeFileAtomic(f, [Uint8Array.of(1, 2), Uint8Array.of(3)]);
    assert.deepEqual([...fs.readFileSync(f)], [1, 2, 3]);
    assert.deepEqual(fs.readdirSync(path.dirname(f)), ['b.bin']);
    assert.notEqual(tempPathFor(f), tempPathFor(f), 'a temporary path is unique per call');
  });

  it('keeps the old file and removes its temporary file when a write fails', () => {
    const f = path.join(dir, 'keep.txt');
    writeFileAtomic(f, 'kept');
    const bad = { length: 1, [Symbol.iterator]: function* () { yield Uint8Array.of(1); throw new Error('disk gone'); } };
    assert.throws(() => writeFileAtomic(f, bad as unknown as Uint8Array[]), /disk gone/);
    assert.equal(fs.readFileSync(f, 'utf8'), 'kept');
    assert.deepEqual(fs.readdirSync(dir), ['keep.txt']);
  });

  it('names the file of a JSON parse error, also where a run folder holds it', () => {
    const f = path.join(dir, 'x.json');
    fs.writeFileSync(f, '{"a": 1,');
    assert.throws(() => readJsonFile(f), (e: Error) => e.message.startsWith(`${f} is not valid JSON`));
    const ck = path.join(dir, 'last');
    fs.mkdirSync(ck);
    fs.writeFileSync(path.join(ck, 'state.json'), '{oops');
    assert.throws(() => loadCheckpoint(ck), new RegExp(`${path.join(ck, 'state.json').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not valid JSON`));
  });
});
