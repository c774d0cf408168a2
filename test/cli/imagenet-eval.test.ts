/**
 * The ImageNet-1K evaluation path of notebook 01, end to end on a tiny ImageNet-layout fixture: released-style
 * weights (a 1000-class convnext_atto saved with saveWeights) and a folder of three wnid folders, scored with
 * `convnext eval --model … --weights … --data …` as a user runs it. The labels must follow ImageNet's class
 * index order (src/data/imagenet-wnids.ts, the order of src/data/imagenet-classes.ts), not the order of the
 * folders found: the head's bias makes every image predict class 999 ("toilet tissue", n15075141), the third
 * folder of the fixture, so top-1 is that folder's share only when its label is 999.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { tf } from '../../src/backend';
import { type ConvNeXt, createModel, saveWeights } from '../../src/convnext';
import { ImageFolder } from '../../src/data/image-folder';
import { IMAGENET_CLASSES } from '../../src/data/imagenet-classes';
import { IMAGENET_WNIDS, ImagenetIndexed, imagenetIndex, isImagenetLayout } from '../../src/data/imagenet-wnids';
import { buildEvalTransform } from '../../src/augment/transforms';
import { runBin } from './bin';

/** wnid → images in the fixture: 1 goldfish, 2 great white sharks, 3 toilet tissues. */
const FIXTURE: Array<[string, number]> = [['n01443537', 1], ['n01484850', 2], ['n15075141', 3]];

describe('ImageNet-1K evaluation on a wnid-folder fixture', function () {
  this.timeout(300_000);
  let dir: string;
  const data = () => path.join(dir, 'imagenet');
  const weights = () => path.join(dir, 'atto-in1k.safetensors');

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convnext-imagenet-'));
    for (const [wnid, n] of FIXTURE) {
      const d = path.join(data(), 'val', wnid);
      fs.mkdirSync(d, { recursive: true });
      for (let i = 0; i < n; i++) {
        const raw = new Uint8Array(48 * 72 * 3).map((_, k) => (k * (31 + i) + wnid.length * 17) % 256);
        await sharp(Buffer.from(raw), { raw: { width: 72, height: 48, channels: 3 } }).jpeg({ quality: 90 })
          .toFile(path.join(d, `ILSVRC2012_val_0000000${i}.JPEG`));
      }
    }
    // A 1000-class model whose head predicts class 999 for every image.
    const m = createModel('convnext_atto') as ConvNeXt;
    m.head.weight.assign(tf.zerosLike(m.head.weight));
    m.head.bias.assign(tf.oneHot([999], 1000).reshape([1000]).mul(10).toFloat());
    saveWeights(m, weights());
    m.dispose();
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the wnid list is ImageNet\'s class-index order: 1000 sorted ids, aligned with imagenet-classes.ts', () => {
    assert.equal(IMAGENET_WNIDS.length, 1000);
    assert.equal(new Set(IMAGENET_WNIDS).size, 1000);
    assert.deepEqual([...IMAGENET_WNIDS].sort(), [...IMAGENET_WNIDS]);
    assert.equal(IMAGENET_CLASSES.length, 1000);
    // Spot checks: first, goldfish, great white shark, last.
    assert.equal(imagenetIndex('n01440764'), 0);
    assert.equal(IMAGENET_CLASSES[0], 'tench');
    assert.equal(IMAGENET_CLASSES[imagenetIndex('n01443537')!], 'goldfish');
    assert.equal(IMAGENET_CLASSES[imagenetIndex('n01484850')!], 'great white shark');
    assert.equal(imagenetIndex('n15075141'), 999);
    assert.equal(IMAGENET_CLASSES[999], 'toilet tissue');
    assert.equal(imagenetIndex('daisy'), undefined);
  });

  it('ImagenetIndexed relabels a subset of wnid folders to ImageNet indices, 1000 classes', async () => {
    const folder = new ImageFolder(path.join(data(), 'val'));
    assert.deepEqual(folder.classes, FIXTURE.map(([w]) => w));
    assert.ok(isImagenetLayout(folder.classes));
    assert.ok(!isImagenetLayout(['n01443537', 'daisy']));
    const ds = new ImagenetIndexed(folder);
    assert.equal(ds.classes.length, 1000);
    assert.deepEqual(Array.from(ds.targets), [1, 2, 2, 999, 999, 999]);
    assert.equal((await ds.get(5)).label, 999);
    assert.throws(() => new ImagenetIndexed({ ...folder, classes: ['daisy'], targets: [0], length: 1, get: folder.get.bind(folder) }),
      /not ImageNet-1K wnid folders: daisy/);
  });

  it('convnext eval --model --weights --data: top-1 against ImageNet-index labels (centre crop 0.875 at 224)', () => {
    const out = path.join(dir, 'eval.json');
    const r = runBin(['eval', '--model', 'convnext_atto', '--weights', weights(), '--data', data(), '--no-progress', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /ImageNet-1K layout: 3 of 1000 wnid folders, 6 images/);
    assert.match(r.stdout, /224px, crop 0\.875 center/);
    assert.match(r.stdout, /^toilet tissue\s/m);
    const e = JSON.parse(fs.readFileSync(out, 'utf-8')) as { classes: string[]; model: { top1: number; count: number; perClass: Array<{ class: string; support: number; recall: number }> } };
    assert.equal(e.classes.length, 1000);
    assert.equal(e.model.count, 6);
    assert.equal(e.model.top1, 3 / 6);
    assert.equal(e.model.perClass[999].support, 3);
    assert.equal(e.model.perClass[999].recall, 1);
    assert.equal(e.model.perClass[1].support, 1);
  });

  it('--no-imagenet-labels numbers the folders 0..2, which a 1000-class head refuses', () => {
    const r = runBin(['eval', '--model', 'convnext_atto', '--weights', weights(), '--data', data(), '--no-progress', '--no-imagenet-labels']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /1000-class head but the evaluation data .* has 3 classes/);
  });

  it('--crop-mode squash --crop-pct 1 at 64 px (the official 384 evaluation\'s transform) runs and says so', () => {
    const out = path.join(dir, 'eval-squash.json');
    const r = runBin(['eval', '--model', 'convnext_atto', '--weights', weights(), '--data', data(), '--no-progress',
      '--input-size', '64', '--crop-pct', '1', '--crop-mode', 'squash', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /64px, crop 1 squash/);
    assert.equal((JSON.parse(fs.readFileSync(out, 'utf-8')) as { model: { top1: number } }).model.top1, 0.5);
    assert.match(runBin(['eval', '--model', 'convnext_atto', '--weights', weights(), '--data', data(), '--crop-mode', 'stretch']).stderr,
      /expected center or squash, got "stretch"/);
  });

  it('the squash transform resizes both sides: a 72×48 image keeps its left edge, the centre crop cuts it', async () => {
    const image = new Uint8Array(48 * 72 * 3).map((_, k) => 3 * Math.floor(k / 3) % 72 * 3);
    const img = { image, height: 48, width: 72, channels: 3 as const, label: 0 };
    const squash = await buildEvalTransform({ inputSize: 32, cropPct: 1, cropMode: 'squash' })(img, undefined as never);
    const center = await buildEvalTransform({ inputSize: 32, cropPct: 1 })(img, undefined as never);
    assert.deepEqual([squash.height, squash.width, center.height, center.width], [32, 32, 32, 32]);
    assert.ok(squash.image[0] < center.image[0], `left column: squash ${squash.image[0]}, centre crop ${center.image[0]}`);
  });
});
