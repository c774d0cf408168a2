/**
 * Arranges an ImageNet-1K (ILSVRC2012) copy into <root>/{train,val}/<wnid>/*.JPEG. ImageNet cannot be
 * downloaded without an account, so this starts from the official archives, extracted as:
 *   <root>/train/<wnid>/*.JPEG   (ILSVRC2012_img_train.tar holds one tar per wnid; extract each into its folder)
 *   <root>/val/*.JPEG            (ILSVRC2012_img_val.tar, 50,000 files, flat)
 * and moves the validation images into wnid folders using a label file.
 *   npx tsx data-scripts/prepare-imagenet.ts --root /path/to/imagenet --val-labels LOC_val_solution.csv [--dry-run]
 */
import { Command } from 'commander';

import { prepareImagenet } from '../src/data/prepare';

const cli = new Command('prepare-imagenet')
  .requiredOption('--root <dir>', 'ImageNet folder holding train/ and val/')
  .requiredOption('--val-labels <file>', "validation labels: 'file wnid' lines, LOC_val_solution.csv, or wnids in file order")
  .option('--dry-run', 'print the moves without making them')
  .parse();
const o = cli.opts<{ root: string; valLabels: string; dryRun?: boolean }>();

try {
  prepareImagenet(o);
} catch (err) {
  console.error(`prepare-imagenet: ${(err as Error).message}`);
  process.exit(1);
}
