/**
 * Dataset preparation: from a local offline archive, and "downloading" tiny fake CIFAR-10 / tf_flowers
 * archives in the official formats from an HTTP server on 127.0.0.1 (never the internet), plus the
 * ImageNet validation reorganisation.
 */
import { strict as assert } from 'assert';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import sharp from 'sharp';

import { ImageFolder, prepareCifar10, prepareFlowers5, prepareImagenet, readValLabels } from '../../src/data';
import { makeImageFolder, tempDir, writeImage } from '../fixtures/data/make';

function tarGz(srcDir: string, entry: string, out: string): void {
  const r = spawnSync('tar', ['czf', out, '-C', srcDir, entry]);
  assert.equal(r.status, 0, String(r.stderr));
}

/** CIFAR-10 binary record: label byte + planar R, G, B planes; pixel (y, x) of channel c = 10 * label + c. */
function cifarRecord(label: number): Buffer {
  const rec = Buffer.alloc(3073);
  rec[0] = label;
  for (let c = 0; c < 3; c++) rec.fill(10 * label + c, 1 + c * 1024, 1 + (c + 1) * 1024);
  return rec;
}

describe('data: prepare', function () {
  let server: http.Server;
  let base: string;
  let served: Record<string, string>;
  let hits: string[];

  before(async () => {
    served = {};
    hits = [];
    server = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      const file = served[req.url ?? ''];
      if (!file) {
        res.writeHead(404).end();
        return;
      }
      const body = fs.readFileSync(file);
      res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('CIFAR-10: downloads the binary archive and converts it to class folders of PNGs', async () => {
    const work = tempDir();
    const src = path.join(work, 'src', 'cifar-10-batches-bin');
    fs.mkdirSync(src, { recursive: true });
    const classes = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
    fs.writeFileSync(path.join(src, 'batches.meta.txt'), classes.join('\n') + '\n\n');
    // Each of the 5 train batches holds labels 0..9 then 3 again: cat (3) gets 2 images a batch, numbered
    // on across batches; the test batch holds 0..9 once.
    const labels = [...classes.keys(), 3];
    for (let b = 1; b <= 5; b++) fs.writeFileSync(path.join(src, `data_batch_${b}.bin`), Buffer.concat(labels.map(cifarRecord)));
    fs.writeFileSync(path.join(src, 'test_batch.bin'), Buffer.concat([...classes.keys()].map(cifarRecord)));
    const archive = path.join(work, 'cifar-10-binary.tar.gz');
    tarGz(path.join(work, 'src'), 'cifar-10-batches-bin', archive);
    served['/kriz/cifar-10-binary.tar.gz'] = archive;

    const dataDir = path.join(work, 'data');
    const out = await prepareCifar10({ dataDir, sharedDir: path.join(work, 'none'), url: `${base}/kriz/cifar-10-binary.tar.gz`, verbose: false });
    assert.ok(hits.includes('/kriz/cifar-10-binary.tar.gz'));
    const train = new ImageFolder(path.join(out, 'train'));
    assert.deepEqual(train.classes, classes);
    assert.equal(train.length, 55);
    assert.deepEqual(fs.readdirSync(path.join(out, 'train', 'cat')), Array.from({ length: 10 }, (_, i) => `000${i}.png`));
    assert.equal(fs.readdirSync(path.join(out, 'train', 'dog')).length, 5);
    // cat/0000.png is batch 1's record 3 (label 3): R = 30, G = 31, B = 32 everywhere.
    const px = await sharp(path.join(out, 'train', 'cat', '0000.png')).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([px.info.width, px.info.height], [32, 32]);
    assert.deepEqual(Array.from(px.data.subarray(0, 3)), [30, 31, 32]);
    assert.deepEqual(Array.from(px.data.subarray(px.data.length - 3)), [30, 31, 32]);
    assert.equal(new ImageFolder(path.join(out, 'test')).length, 10);
    // A second call finds the folder ready and does not download again.
    const before = hits.length;
    await prepareCifar10({ dataDir, sharedDir: path.join(work, 'none'), url: `${base}/kriz/cifar-10-binary.tar.gz`, verbose: false });
    assert.equal(hits.length, before);
  });

  it('flowers: downloads flower_photos.tgz, renames classes, resizes to 128x128', async () => {
    const work = tempDir();
    const src = path.join(work, 'src', 'flower_photos');
    for (const [i, c] of ['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips'].entries()) {
      fs.mkdirSync(path.join(src, c), { recursive: true });
      await sharp({ create: { width: 40 + i, height: 30, channels: 3, background: { r: 20 * i, g: 0, b: 0 } } })
        .jpeg()
        .toFile(path.join(src, c, `${c}1.jpg`));
    }
    fs.writeFileSync(path.join(src, 'LICENSE.txt'), 'CC-BY');
    const archive = path.join(work, 'flower_photos.tgz');
    tarGz(path.join(work, 'src'), 'flower_photos', archive);
    served['/example_images/flower_photos.tgz'] = archive;

    const out = await prepareFlowers5({
      dataDir: path.join(work, 'data'),
      sharedDir: path.join(work, 'none'),
      url: `${base}/example_images/flower_photos.tgz`,
      verbose: false,
    });
    const ds = new ImageFolder(out);
    assert.deepEqual(ds.classes, ['daisy', 'dandelion', 'rose', 'sunflower', 'tulip']);
    const s = await ds.get(2);
    assert.deepEqual([s.height, s.width], [128, 128]);
    assert.ok(Math.abs(s.image[0] - 40) <= 3); // roses: red 40 (JPEG twice, allow a little)
  });

  it('prefers the offline archive in the shared folder (no download)', async () => {
    const work = tempDir();
    await makeImageFolder(path.join(work, 'pkg', 'flowers5'), { daisy: 1, dandelion: 1, rose: 1, sunflower: 1, tulip: 1 });
    const shared = path.join(work, 'shared');
    fs.mkdirSync(shared);
    tarGz(path.join(work, 'pkg'), 'flowers5', path.join(shared, 'flowers5-jpg.tar.gz'));
    const before = hits.length;
    const out = await prepareFlowers5({ dataDir: path.join(work, 'data'), sharedDir: shared, url: `${base}/nothing`, verbose: false });
    assert.equal(hits.length, before);
    assert.equal(new ImageFolder(out).length, 5);
  });

  it('processes preparing the same dataset at once take turns: one extracts, all read the whole folder', async function () {
    this.timeout(60_000);
    const work = tempDir();
    const counts = { daisy: 20, dandelion: 20, rose: 20, sunflower: 20, tulip: 20 };
    await makeImageFolder(path.join(work, 'pkg', 'flowers5'), counts);
    const shared = path.join(work, 'shared');
    fs.mkdirSync(shared);
    tarGz(path.join(work, 'pkg'), 'flowers5', path.join(shared, 'flowers5-jpg.tar.gz'));
    const dataDir = path.join(work, 'data');
    const children = Array.from({ length: 3 }, () => spawn(process.execPath,
      ['-r', 'tsx/cjs', path.join(__dirname, '..', 'fixtures/data/prepare-child.ts'), dataDir, shared],
      { cwd: path.join(__dirname, '..', '..'), stdio: ['pipe', 'pipe', 'inherit'] }));
    const outputs = children.map((c) => {
      let text = '';
      c.stdout.on('data', (d: Buffer) => (text += d.toString()));
      const ready = new Promise<void>((resolve) => c.stdout.on('data', () => text.includes('READY') && resolve()));
      const exit = new Promise<string>((resolve, reject) =>
        c.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`child exited ${code}: ${text}`)))));
      return { ready, exit };
    });
    // Start all three together, after their start-up, so their preparations overlap.
    await Promise.all(outputs.map((o) => o.ready));
    for (const c of children) c.stdin.write('go\n');
    const texts = await Promise.all(outputs.map((o) => o.exit));
    const extractions = texts.join('').split('\n').filter((l) => l.startsWith('extracting '));
    assert.equal(extractions.length, 1, `expected one extraction, got:\n${texts.join('\n')}`);
    for (const t of texts) assert.ok(t.includes(`CLASSES ${JSON.stringify(Object.keys(counts))}`), t);
    assert.equal(new ImageFolder(path.join(dataDir, 'flowers5')).length, 100);
    assert.ok(!fs.existsSync(path.join(dataDir, 'flowers5.lock')), 'the lock is released');
  });

  it('reports a failed download clearly and leaves no partial folder', async () => {
    const work = tempDir();
    await assert.rejects(
      prepareCifar10({ dataDir: work, sharedDir: path.join(work, 'none'), url: `${base}/missing.tar.gz`, verbose: false }),
      /download of .*missing\.tar\.gz failed: HTTP 404/,
    );
    assert.ok(!fs.existsSync(path.join(work, 'cifar10')));
  });

  it('offline, says which archive to fetch, from where, where to put it and which variable points at a copy', async () => {
    const work = tempDir();
    const dataDir = path.join(work, 'data');
    // Port 9 (discard) on loopback refuses connections, as an offline machine does.
    const err = await prepareCifar10({ dataDir, sharedDir: path.join(work, 'none'), url: 'http://127.0.0.1:9/cifar-10-binary.tar.gz', verbose: false })
      .then(() => undefined, (e: Error) => e);
    assert.ok(err, 'the download should fail');
    assert.match(err.message, /download of http:\/\/127\.0\.0\.1:9\/cifar-10-binary\.tar\.gz failed/);
    assert.ok(err.message.includes('cifar-10-binary.tar.gz (162 MB) from https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz'), err.message);
    assert.ok(err.message.includes(`put it at ${path.join(dataDir, 'downloads', 'cifar-10-binary.tar.gz')}`), err.message);
    assert.match(err.message, /set CIFAR10_URL to its path/);
  });

  it('takes the archive from a local path or file:// URL (what CIFAR10_URL / FLOWERS_URL may hold offline)', async () => {
    const work = tempDir();
    const src = path.join(work, 'src', 'flower_photos');
    for (const c of ['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips']) {
      fs.mkdirSync(path.join(src, c), { recursive: true });
      await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 9, g: 9, b: 9 } } }).jpeg().toFile(path.join(src, c, 'a.jpg'));
    }
    const archive = path.join(work, 'flower_photos.tgz');
    tarGz(path.join(work, 'src'), 'flower_photos', archive);
    for (const url of [archive, `file://${archive}`]) {
      const dataDir = path.join(work, `data-${url.length}`);
      const out = await prepareFlowers5({ dataDir, sharedDir: path.join(work, 'none'), url, verbose: false });
      assert.equal(new ImageFolder(out).length, 5, url);
    }
  });

  it('ImageNet: moves flat val images into wnid folders from each label file format', async () => {
    const formats: Record<string, string> = {
      'pairs.txt': 'ILSVRC2012_val_00000001.JPEG n01443537\nILSVRC2012_val_00000002.JPEG n01440764\n',
      'LOC_val_solution.csv': 'ImageId,PredictionString\nILSVRC2012_val_00000001,n01443537 1 2 3 4\nILSVRC2012_val_00000002,n01440764 5 6 7 8\n',
      'wnids.txt': 'n01443537\nn01440764\n',
    };
    for (const [name, text] of Object.entries(formats)) {
      const root = tempDir();
      await makeImageFolder(path.join(root, 'train'), { n01440764: 1, n01443537: 1 });
      await writeImage(path.join(root, 'val', 'ILSVRC2012_val_00000001.JPEG'), 1, 4, 'jpeg');
      await writeImage(path.join(root, 'val', 'ILSVRC2012_val_00000002.JPEG'), 2, 4, 'jpeg');
      fs.writeFileSync(path.join(root, name), text);
      const r = prepareImagenet({ root, valLabels: path.join(root, name), verbose: false });
      assert.deepEqual(r, { moved: 2, classes: 2 }, name);
      assert.ok(fs.existsSync(path.join(root, 'val', 'n01443537', 'ILSVRC2012_val_00000001.JPEG')), name);
      assert.ok(fs.existsSync(path.join(root, 'val', 'n01440764', 'ILSVRC2012_val_00000002.JPEG')), name);
    }
    assert.throws(() => readValLabels('/nonexistent/labels.txt', []), /does not exist/);
  });
});
