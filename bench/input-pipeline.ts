/**
 * Images/s of the input pipeline alone on CIFAR-10 and flowers5, reading the JPEG files (so decoding is
 * included) and from the decoded in-memory cache, in training mode (RandomResizedCrop, flip,
 * RandAugment rand-m9-mstd0.5-inc1, Random Erasing 0.25, Mixup 0.8 / CutMix 1.0, smoothing 0.1).
 *   flock /tmp/convnext-cpu.lock npx tsx bench/input-pipeline.ts [--batches 10] [--batch-size 64]
 */
import * as path from 'path';
import { Command } from 'commander';

import { augmentConfig } from '../src/augment/config';
import { cifar10, DEFAULT_DATA_DIR, flowers5, ImageFolder, prepareCifar10, prepareFlowers5 } from '../src/data';
import type { Dataset } from '../src/data';
import { measureInputPipeline } from "../src/experiments";

const cli = new Command('input-pipeline')
  .option('--batches <n>', 'timed batches per case', '10')
  .option('--batch-size <n>', 'batch size', '64')
  .parse();
const o = cli.opts<{ batches: string; batchSize: string }>();

async function main(): Promise<void> {
  const cifarRoot = await prepareCifar10({ verbose: false });
  const flowersRoot = await prepareFlowers5({ verbose: false });
  const cases: [string, () => Promise<Dataset>, number][] = [
    ['cifar10 train, JPEG files', async () => new ImageFolder(path.join(cifarRoot, 'train')), 32],
    ['cifar10 train, in-memory cache', () => cifar10('train', { progress: false }), 32],
    ['cifar10 train, JPEG files', async () => new ImageFolder(path.join(cifarRoot, 'train')), 224],
    ['flowers5, JPEG files', async () => new ImageFolder(flowersRoot), 128],
    ['flowers5 train split, in-memory cache', async () => (await flowers5({ progress: false })).train, 128],
    ['flowers5, JPEG files', async () => new ImageFolder(flowersRoot), 224],
  ];
  console.log(`data dir ${DEFAULT_DATA_DIR}; batch ${o.batchSize}, ${o.batches} timed batches after 1 warm-up`);
  console.log('| dataset / source | input | images/s |');
  console.log('|---|---|---|');
  for (const [name, make, size] of cases) {
    const r = await measureInputPipeline({
      dataset: await make(),
      augment: augmentConfig({ inputSize: size }),
      batchSize: Number(o.batchSize),
      batches: Number(o.batches),
    });
    console.log(`| ${name} | ${size}x${size} | ${r.imagesPerSecond.toFixed(0)} |`);
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
