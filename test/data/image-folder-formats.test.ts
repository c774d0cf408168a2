/**
 * ImageFolder takes every file format the decoder (sharp) reads, walks class folders recursively as
 * torchvision's ImageFolder (os.walk) does, and reports the files it leaves out instead of dropping them
 * without a word.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';

import { ImageFolder, scanImageFolder } from '../../src/data/image-folder';

describe('data: ImageFolder formats', function () {
  this.timeout(60_000);
  let root: string;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'image-folder-formats-'));
    const raw = Buffer.alloc(8 * 6 * 3, 120);
    const img = () => sharp(raw, { raw: { width: 8, height: 6, channels: 3 } });
    fs.mkdirSync(path.join(root, 'a', 'nested', 'deeper'), { recursive: true });
    fs.mkdirSync(path.join(root, 'b'));
    await img().webp().toFile(path.join(root, 'a', 'x.webp'));
    await img().gif().toFile(path.join(root, 'a', 'x.gif'));
    await img().tiff().toFile(path.join(root, 'a', 'x.TIF'));
    await img().png().toFile(path.join(root, 'a', 'nested', 'y.png'));
    await img().jpeg().toFile(path.join(root, 'a', 'nested', 'deeper', 'z.jpg'));
    await img().png().toFile(path.join(root, 'b', 'p.png'));
    fs.writeFileSync(path.join(root, 'b', 'readme.txt'), 'not an image');
    fs.writeFileSync(path.join(root, 'b', 'old.bmp'), Buffer.from('BM not decodable by sharp'));
    fs.writeFileSync(path.join(root, 'b', '.DS_Store'), '');
  });

  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('includes .webp, .gif, .tif and images in sub-folders, in torchvision order', async () => {
    const messages: string[] = [];
    const ds = new ImageFolder(root, { onSkip: (m) => messages.push(m) });
    assert.deepEqual(ds.classes, ['a', 'b']);
    assert.deepEqual(ds.paths.map((p) => path.relative(root, p)), [
      path.join('a', 'x.TIF'), path.join('a', 'x.gif'), path.join('a', 'x.webp'),
      path.join('a', 'nested', 'y.png'), path.join('a', 'nested', 'deeper', 'z.jpg'),
      path.join('b', 'p.png'),
    ]);
    for (let i = 0; i < ds.length; i++) {
      const s = await ds.get(i);
      assert.deepEqual([s.height, s.width], [6, 8], ds.paths[i]);
    }
  });

  it('reports the files it leaves out (not a format the decoder reads), hidden files excepted', () => {
    const scan = scanImageFolder(root);
    assert.deepEqual(scan.skipped.map((p) => path.relative(root, p)).sort(), [path.join('b', 'old.bmp'), path.join('b', 'readme.txt')]);
    const messages: string[] = [];
    new ImageFolder(root, { onSkip: (m) => messages.push(m) });
    assert.equal(messages.length, 1);
    assert.match(messages[0], /skipped 2 files? .*not .*formats? .*\.bmp.*\.txt|skipped 2 files? .*\.txt.*\.bmp/);
  });
});
