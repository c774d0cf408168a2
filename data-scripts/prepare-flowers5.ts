/**
 * Prepares data/flowers5/<class>/ (128x128 JPEGs) from ../shared/datasets/flowers5-jpg.tar.gz, or
 * downloads TensorFlow's flower_photos.tgz and resizes it.
 *   npx tsx data-scripts/prepare-flowers5.ts [--data-dir data] [--shared-dir ../shared/datasets] [--url URL] [--force]
 */
import { Command } from 'commander';

import { prepareFlowers5 } from '../src/data/prepare';

const cli = new Command('prepare-flowers5')
  .option('--data-dir <dir>', 'where dataset folders go (default: <repo>/data)')
  .option('--shared-dir <dir>', 'folder with flowers5-jpg.tar.gz (default: <repo>/../shared/datasets)')
  .option('--url <url>', 'download URL of flower_photos.tgz (or env FLOWERS_URL)')
  .option('--force', 'rebuild even if the folder exists')
  .parse();
const o = cli.opts<{ dataDir?: string; sharedDir?: string; url?: string; force?: boolean }>();

prepareFlowers5(o).then(
  (dir) => console.log(`flowers5 ready in ${dir}`),
  (err: Error) => {
    console.error(`prepare-flowers5: ${err.message}`);
    process.exit(1);
  },
);
