/**
 * Notebook 01's path to the accuracy column of Table 1: the official released ConvNeXt weights scored on ImageNet-1K
 * validation with `convnext eval --model … --weights … --data …` (the official evaluation: centre crop 0.875 at 224,
 * squash at 384), when the user points the notebook at the weights and the data:
 *   CONVNEXT_IMAGENET_VAL   the validation images in wnid folders (…/val, or the ImageNet root holding val/)
 *   CONVNEXT_WEIGHTS_DIR    a folder holding the converted weights, named as OFFICIAL_WEIGHTS' `file`
 * and otherwise says exactly how to get both. The evaluation runs the `convnext` command itself (bin/convnext.js).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { studyTable1Row } from '../experiments/study-figures';
import { fmt } from './markdown';
import type { Mode } from './mode';
import { paperRow } from './paper';
import { type Row, vsPaper } from './table';

export const IMAGENET_VAL_ENV = 'CONVNEXT_IMAGENET_VAL';
export const WEIGHTS_DIR_ENV = 'CONVNEXT_WEIGHTS_DIR';

export interface OfficialWeights {
  model: string;
  size: number;
  /** The official ImageNet-1K checkpoint (facebookresearch/ConvNeXt README). */
  url: string;
  /** The converted file the notebook looks for in CONVNEXT_WEIGHTS_DIR. */
  file: string;
  cropPct: number;
  cropMode: 'center' | 'squash';
}

const OFFICIAL = 'https://dl.fbaipublicfiles.com/convnext/';

const weights = (model: string, size: number, name: string): OfficialWeights => ({
  model, size, url: `${OFFICIAL}${name}.pth`, file: `${name}.safetensors`,
  // The official evaluation: crop_pct 0.875 at 224; at 384 the image is resized to 384×384 (no crop).
  cropPct: size === 224 ? 0.875 : 1, cropMode: size === 224 ? 'center' : 'squash',
});

/** The ImageNet-1K-trained ConvNeXt weights of the paper's Table 1 (IN-1K rows), as released. */
export const OFFICIAL_WEIGHTS: readonly OfficialWeights[] = [
  weights('convnext_tiny', 224, 'convnext_tiny_1k_224_ema'),
  weights('convnext_small', 224, 'convnext_small_1k_224_ema'),
  weights('convnext_base', 224, 'convnext_base_1k_224_ema'),
  weights('convnext_large', 224, 'convnext_large_1k_224_ema'),
  weights('convnext_base', 384, 'convnext_base_1k_384'),
  weights('convnext_large', 384, 'convnext_large_1k_384'),
];

/** How much of the validation set each mode scores, and which weights (when found). */
export const IMAGENET_EVAL_BUDGET: Record<Mode, { perClass?: number; models: string[] }> = {
  smoke: { perClass: 1, models: ['convnext_tiny@224'] },
  // 10 images a class (10,000): ConvNeXt-T at ~17 images/s (notebook 05's batch-16 figure) is about 10 minutes on 2 cores.
  quick: { perClass: 10, models: ['convnext_tiny@224'] },
  full: { models: OFFICIAL_WEIGHTS.map((w) => `${w.model}@${w.size}`) },
};

export interface ImagenetSetup {
  /** The folder of wnid folders (…/val), when CONVNEXT_IMAGENET_VAL names one. */
  valDir?: string;
  weightsDir?: string;
  /** Why a set variable cannot be used. */
  problems: string[];
  /** The weights found in weightsDir. */
  found: OfficialWeights[];
}

/** Reads the two environment variables and what they point at (no evaluation). */
export function imagenetSetup(env: NodeJS.ProcessEnv = process.env): ImagenetSetup {
  const problems: string[] = [];
  let valDir: string | undefined;
  const val = env[IMAGENET_VAL_ENV];
  if (val) {
    const dir = fs.existsSync(path.join(val, 'val')) ? path.join(val, 'val') : val;
    const wnids = fs.existsSync(dir) ? fs.readdirSync(dir).filter((d) => /^n\d{8}$/.test(d)) : [];
    if (!fs.existsSync(dir)) problems.push(`${IMAGENET_VAL_ENV}=${val} does not exist`);
    else if (wnids.length === 0) problems.push(`${IMAGENET_VAL_ENV}=${val} holds no wnid folders (n01440764 …): run data-scripts/prepare-imagenet.ts on it`);
    else valDir = dir;
  }
  const weightsDir = env[WEIGHTS_DIR_ENV];
  let found: OfficialWeights[] = [];
  if (weightsDir) {
    if (!fs.existsSync(weightsDir)) problems.push(`${WEIGHTS_DIR_ENV}=${weightsDir} does not exist`);
    else {
      found = OFFICIAL_WEIGHTS.filter((w) => fs.existsSync(path.join(weightsDir, w.file)));
      if (found.length === 0) problems.push(`${WEIGHTS_DIR_ENV}=${weightsDir} holds none of ${OFFICIAL_WEIGHTS.map((w) => w.file).join(', ')}`);
    }
  }
  return { valDir, weightsDir: weightsDir && fs.existsSync(weightsDir) ? weightsDir : undefined, problems, found };
}

/** The `convnext eval` arguments that score one released checkpoint the official way. */
export function imagenetEvalArgs(w: OfficialWeights, valDir: string, weightsDir: string, o: { perClass?: number; out?: string } = {}): string[] {
  return [
    'eval', '--model', w.model, '--weights', path.join(weightsDir, w.file), '--data', valDir,
    '--input-size', String(w.size), '--crop-pct', String(w.cropPct), '--crop-mode', w.cropMode, '--batch-size', '25', '--no-progress',
    ...(o.perClass ? ['--per-class', String(o.perClass)] : []), ...(o.out ? ['--out', o.out] : []),
  ];
}

/** How to get the weights and the validation set, as Markdown: the exact commands. */
export function howToGetImagenetText(setup: ImagenetSetup): string {
  const lines = [
    `**To fill the accuracy column on your machine**, point the notebook at released weights and ImageNet-1K validation, then re-run it:`,
    '',
    '1. **Weights** (the official ImageNet-1K checkpoints; PyTorch is needed once, to convert them):',
    '   ```bash',
    '   mkdir -p weights && cd weights',
    ...OFFICIAL_WEIGHTS.map((w) => `   curl -LO ${w.url}    # ${w.model} at ${w.size}`),
    '   pip install torch safetensors',
    ...OFFICIAL_WEIGHTS.map((w) => `   python ../data-scripts/convert_pth.py ${path.basename(w.url)} ${w.file}`),
    '   ```',
    '2. **ImageNet-1K validation** (50,000 images; needs an account at image-net.org, so it is not downloaded for you): download',
    '   `ILSVRC2012_img_val.tar` and the labels (`LOC_val_solution.csv` from the Kaggle ImageNet localisation challenge, or the',
    '   devkit\'s ground truth as "file wnid" lines), extract the images to `/data/imagenet/val/`, then sort them into wnid folders:',
    '   ```bash',
    '   npx tsx data-scripts/prepare-imagenet.ts --root /data/imagenet --val-labels LOC_val_solution.csv',
    '   ```',
    `3. **Run:** \`${IMAGENET_VAL_ENV}=/data/imagenet/val ${WEIGHTS_DIR_ENV}=$PWD/weights npm run report -- --only 01\` (or set both before`,
    '   `npm run lab`). Each checkpoint is scored with the command the section prints, for example',
    `   \`npx convnext eval ${imagenetEvalArgs(OFFICIAL_WEIGHTS[0], '/data/imagenet/val', 'weights').slice(1).join(' ')}\`.`,
  ];
  if (setup.problems.length) lines.push('', `**Not usable as set:** ${setup.problems.join('; ')}.`);
  return lines.join('\n');
}

export interface ImagenetEvalResult {
  weights: OfficialWeights;
  command: string;
  images: number;
  top1: number;
  top5: number;
  seconds: number;
}

/** Scores one checkpoint by running `convnext eval` (bin/convnext.js) as a user would; throws with its stderr on failure. */
export function runImagenetEval(w: OfficialWeights, valDir: string, weightsDir: string, perClass?: number): ImagenetEvalResult {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'convnext-in1k-')), 'eval.json');
  const args = imagenetEvalArgs(w, valDir, weightsDir, { perClass, out });
  const bin = path.join(__dirname, '..', '..', 'bin', 'convnext.js');
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf-8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`convnext ${args.join(' ')} failed:\n${r.stderr.trim().split('\n').slice(-5).join('\n')}`);
  const e = JSON.parse(fs.readFileSync(out, 'utf-8')) as { model: { count: number; top1: number; top5: number } };
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  return { weights: w, command: `npx convnext ${args.filter((a) => a !== '--out' && a !== out).join(' ')}`, images: e.model.count, top1: e.model.top1, top5: e.model.top5, seconds: (Date.now() - t0) / 1000 };
}

/** The checkpoints a mode scores among those found. */
export function imagenetEvalSelection(setup: ImagenetSetup, m: Mode): OfficialWeights[] {
  const wanted = IMAGENET_EVAL_BUDGET[m].models;
  return setup.found.filter((w) => wanted.includes(`${w.model}@${w.size}`));
}

/** The accuracy table: the paper's and the study's figures (quoted) beside ours from the evaluation. */
export function imagenetAccuracyRows(results: ImagenetEvalResult[]): Row[] {
  return OFFICIAL_WEIGHTS.map((w) => {
    const r = results.find((x) => x.weights === w);
    const study = studyTable1Row(w.model, w.size);
    return {
      model: w.model, resolution: `${w.size}²`, evaluation: `${w.cropMode === 'center' ? 'centre crop' : 'squash'} ${w.cropPct}`,
      'top-1 % (study, its "Ours")': study?.studyOurs ?? null,
      ...vsPaper('top-1 %', paperRow(w.model, w.size)?.top1, r ? 100 * r.top1 : 'not evaluated'),
      'Δ ours − paper': r ? 100 * r.top1 - (paperRow(w.model, w.size)?.top1 ?? NaN) : null,
      images: r?.images ?? null,
      'minutes': r ? r.seconds / 60 : null,
    };
  });
}

/** One sentence per evaluated checkpoint, from the results. */
export function imagenetFindings(results: ImagenetEvalResult[], perClass?: number): string {
  if (results.length === 0) return 'No checkpoint was evaluated in this run (see above for how to provide them).';
  return results.map((r) => {
    const paper = paperRow(r.weights.model, r.weights.size)?.top1;
    return `* **${r.weights.model} at ${r.weights.size}²:** top-1 ${fmt(100 * r.top1, 2)}% (top-5 ${fmt(100 * r.top5, 2)}%) on ${fmt(r.images, 0)} validation images` +
      `${perClass ? ` (${perClass} per class, so ±${fmt(200 * Math.sqrt(r.top1 * (1 - r.top1) / r.images), 1)} points at 2σ)` : ''}; the paper prints ${fmt(paper, 1)}% (quoted). ` +
      `Command: \`${r.command}\`.`;
  }).join('\n');
}
