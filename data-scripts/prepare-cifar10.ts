/**
 * Prepares data/cifar10/{train,test}/<class>/ from ../shared/datasets/cifar10-jpg.tar.gz, or downloads
 * the official binary version and converts it to PNG files.
 *   npx tsx data-scripts/prepare-cifar10.ts [--data-dir data] [--shared-dir ../shared/datasets] [--url URL] [--force]
 */
import { Command } from 'commander';

import { prepareCifar10 } from '../src/data/prepare';

const cli = new Command('prepare-cifar10')
  .option('--data-dir <dir>', 'where dataset folders go (default: <repo>/data)')
  .option('--shared-dir <dir>', 'folder with cifar10-jpg.tar.gz (default: <repo>/../shared/datasets)')
  .option('--url <url>', 'download URL of cifar-10-binary.tar.gz (or env CIFAR10_URL)')
  .option('--force', 'rebuild even if the folder exists')
  .parse();
const o = cli.opts<{ dataDir?: string; sharedDir?: string; url?: string; force?: boolean }>();

prepareCifar10(o).then(
  (dir) => console.log(`CIFAR-10 ready in ${dir}`),
  (err: Error) => {
    console.error(`prepare-cifar10: ${err.message}`);
    process.exit(1);
  },
);
