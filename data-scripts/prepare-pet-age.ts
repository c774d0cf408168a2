/**
 * Checks a pet-age dataset in the competition layout and prints a summary (counts per split, ages, problems):
 *   <root>/trainset/, valset/, testset/       the photos
 *   <root>/annotations/train.txt, val.txt     "file name<TAB>age in months" lines (or path,age CSV); test.txt if you have it
 *   npx tsx data-scripts/prepare-pet-age.ts --root DIR [--decode none|header|full] [--json]
 * Exits 1 when anything would stop training (bad annotation lines, ages outside [0, 192), names given twice,
 * missing or unreadable files); warnings (unannotated images, the same image under two names or in two
 * splits) are printed but do not fail. Nothing is copied or changed: train with data.name: pet-age, data.root: DIR.
 */
import { Command } from 'commander';

import { describePetAgeReport, validatePetAge } from '../src/data/pet-age';

const cli = new Command('prepare-pet-age')
  .requiredOption('--root <dir>', 'the dataset folder (trainset/, valset/, testset/, annotations/)')
  .option('--decode <mode>', 'how far to check each image: none | header (default: read its header) | full (decode every pixel)', 'header')
  .option('--json', 'print the report as JSON')
  .parse();
const o = cli.opts<{ root: string; decode: string; json?: boolean }>();

async function main(): Promise<number> {
  if (!['none', 'header', 'full'].includes(o.decode)) throw new Error(`--decode must be none, header or full, got ${o.decode}`);
  const report = await validatePetAge(o.root, { decode: o.decode as 'none' | 'header' | 'full' });
  if (o.json) console.log(JSON.stringify(report, null, 1));
  else for (const line of describePetAgeReport(report)) console.log(line);
  return report.errors.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`prepare-pet-age: ${err.message}`);
    process.exit(1);
  },
);
