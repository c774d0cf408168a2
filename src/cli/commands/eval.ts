/**
 * `convnext eval`: scores weights on an image folder and prints / saves top-1, top-5, loss, images/s,
 * per-class precision / recall / F1 and the confusion matrix.
 *   convnext eval --run runs/cifar10-quick [--checkpoint best|last] [--ema] [--data DIR] [--split test]
 *   convnext eval --weights FILE --model convnext_tiny --data DIR [--split val] [--input-size 224]
 * With --weights on a folder of ImageNet-1K wnid folders (all 1000 or some), labels follow ImageNet's class
 * index order (src/data/imagenet-wnids.ts), so released 1000-class weights score against the right logits:
 *   convnext eval --model convnext_tiny --weights convnext_tiny.safetensors --data /data/imagenet --split val
 *   convnext eval --model convnext_base --weights convnext_base_384.safetensors --data /data/imagenet \
 *     --input-size 384 --crop-pct 1 --crop-mode squash
 */
import { type Command, InvalidArgumentError } from 'commander';
import * as fs from 'fs';
import * as path from 'path';

import { action, fraction, positiveInt } from '../errors';
import { readJsonFile } from '../../util/fs';
import type { LabelledDataset } from '../../data/dataset';
import type { TrainConfig } from '../../train/config';
import type { EvalResult } from '../../train/engine';

/** The library, required when the command runs: `convnext --help` and `convnext eval --help` load no TensorFlow. */
function lib() {
  const { augmentConfig } = require('../../augment/config') as typeof import('../../augment/config');
  const { ImageFolder } = require('../../data/image-folder') as typeof import('../../data/image-folder');
  const { takePerClass } = require('../../data/split') as typeof import('../../data/split');
  const { DataLoader } = require('../../data/loader') as typeof import('../../data/loader');
  const { evalFilePath } = require('../../experiments/cached-run') as typeof import('../../experiments/cached-run');
  const { loadWeights, WeightsError } = require('../../convnext/weights') as typeof import('../../convnext/weights');
  const { findCheckpoint, loadCheckpointWeights } = require('../../train/checkpoint') as typeof import('../../train/checkpoint');
  const { checkConfig } = require('../../train/config') as typeof import('../../train/config');
  const { buildModel, evalRecord, loadData, transforms } = require('../../train/run-config') as typeof import('../../train/run-config');
  const { buildEvalTransform } = require('../../augment/transforms') as typeof import('../../augment/transforms');
  const { ImagenetIndexed, isImagenetLayout } = require('../../data/imagenet-wnids') as typeof import('../../data/imagenet-wnids');
  const { writeFileAtomic } = require('../../util/fs') as typeof import('../../util/fs');
  const { evaluate } = require('../../train/engine') as typeof import('../../train/engine');
  const { jsonReplacer } = require('../../train/run-dir') as typeof import('../../train/run-dir');
  return {
    augmentConfig, ImageFolder, takePerClass, DataLoader, evalFilePath, loadWeights, WeightsError, findCheckpoint,
    loadCheckpointWeights, checkConfig, buildModel, evalRecord, loadData, transforms, writeFileAtomic, evaluate, jsonReplacer,
    buildEvalTransform, ImagenetIndexed, isImagenetLayout,
  };
}

interface EvalFlags {
  run?: string;
  checkpoint: string;
  ema?: boolean;
  flipTta?: boolean;
  weights?: string;
  model?: string;
  data?: string;
  split: string;
  dataset?: 'cifar10' | 'flowers5';
  batchSize: number;
  inputSize?: number;
  cropPct?: number;
  cropMode?: 'center' | 'squash';
  imagenetLabels: boolean;
  perClass?: number;
  out?: string;
  progress: boolean;
}

/** `--data DIR`: DIR/<split> when it exists, else DIR itself as the image folder. */
function folderDataset(dir: string, split: string): LabelledDataset {
  if (!fs.existsSync(dir)) throw new Error(`data folder not found: ${dir}`);
  const sub = path.join(dir, split);
  const { ImageFolder } = lib();
  return new ImageFolder(fs.existsSync(sub) && fs.statSync(sub).isDirectory() ? sub : dir);
}

export function printEvaluation(e: EvalResult, classes: string[], title: string): void {
  const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;
  console.log(`${title}: top-1 ${pct(e.top1)}  top-5 ${pct(e.top5)}  loss ${e.loss.toFixed(4)}  ` +
    `${e.count} images  ${e.imagesPerSec.toFixed(0)} images/s`);
  const w = Math.max(8, ...classes.map((c) => c.length));
  console.log(`${'class'.padEnd(w)}  precision  recall     f1  support`);
  // Many classes (ImageNet): only those with images in the data.
  classes.forEach((c, i) => {
    const r = e.report;
    if (classes.length > 20 && r.support[i] === 0) return;
    console.log(`${c.padEnd(w)}  ${r.precision[i].toFixed(4).padStart(9)}  ${r.recall[i].toFixed(4).padStart(6)}  ` +
      `${r.f1[i].toFixed(4).padStart(6)}  ${String(r.support[i]).padStart(7)}`);
  });
  console.log(`${'macro'.padEnd(w)}  ${e.report.macro.precision.toFixed(4).padStart(9)}  ` +
    `${e.report.macro.recall.toFixed(4).padStart(6)}  ${e.report.macro.f1.toFixed(4).padStart(6)}`);
  if (classes.length <= 20) {
    console.log('confusion matrix (rows: true, columns: predicted)');
    const k = classes.length;
    const cw = Math.max(5, ...Array.from(e.confusion, (v) => String(v).length)) + 1;
    console.log(`${''.padEnd(w)}${classes.map((_, j) => String(j).padStart(cw)).join('')}`);
    for (let i = 0; i < k; i++) {
      console.log(`${`${i} ${classes[i]}`.slice(0, w).padEnd(w)}${Array.from(e.confusion.subarray(i * k, (i + 1) * k), (v) => String(v).padStart(cw)).join('')}`);
    }
  }
}

function cropModeArg(v: string): 'center' | 'squash' {
  if (v !== 'center' && v !== 'squash') throw new InvalidArgumentError(`expected center or squash, got "${v}"`);
  return v;
}

export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description('evaluate weights on an image folder: top-1/top-5, loss, per-class P/R/F1, confusion matrix')
    .option('--run <dir>', 'a run folder from `convnext train` (its config rebuilds the model)')
    .option('--checkpoint <name>', 'checkpoint of --run: best | last', 'best')
    .option('--ema', 'evaluate the checkpoint\'s EMA weights')
    .option('--flip-tta', 'test-time augmentation: average the logits of each image and its mirror image')
    .option('--weights <file>', 'a weights file instead of --run: a convnext-ts checkpoint or official / timm weights (.safetensors)')
    .option('--model <name>', 'registry model name (with --weights)')
    .option('--data <dir>', 'image folder root: <dir>/<split>/<class>/*, or <dir>/<class>/* (a regression run: a path,target CSV)')
    .option('--split <name>', 'split folder under --data (a regression run: val | test of its dataset)', 'val')
    .option('--dataset <name>', 'a project dataset instead of --data: cifar10 (split test) | flowers5 (split val)')
    .option('--batch-size <n>', 'images per batch', positiveInt, 100)
    .option('--input-size <n>', 'eval resolution (default: the run\'s, else 224)', positiveInt)
    .option('--crop-pct <x>', 'resize to size / crop-pct, then centre crop (default: the run\'s, else 0.875)', fraction)
    .option('--crop-mode <mode>', 'center: resize the shorter side, centre crop (default); squash: resize both sides (the official 384 evaluation, with --crop-pct 1)', cropModeArg)
    .option('--no-imagenet-labels', 'with --weights on ImageNet wnid folders: number the folders found 0..k-1 instead of by ImageNet-1K class index')
    .option('--per-class <n>', 'first n images per class only', positiveInt)
    .option('--out <file>', 'write the results JSON here (default with --run: <run>/eval-<split or dataset>[-ema][-flip-tta].json)')
    .option('--no-progress', 'no progress bars')
    .action(action(async (f: EvalFlags) => {
      if (!f.run === !f.weights) throw new Error('give exactly one of --run DIR or --weights FILE');
      if (f.run && (require('../../train/regression-run') as typeof import('../../train/regression-run')).isRegressionRun(f.run)) {
        await evalRegressionRun(f);
        return;
      }
      const {
        augmentConfig, ImageFolder, takePerClass, DataLoader, evalFilePath, loadWeights, WeightsError, findCheckpoint,
        loadCheckpointWeights, checkConfig, buildModel, evalRecord, loadData, transforms, writeFileAtomic, evaluate, jsonReplacer,
        buildEvalTransform, ImagenetIndexed, isImagenetLayout,
      } = lib();
      let config: TrainConfig | undefined;
      let runClasses: string[] | undefined;
      if (f.run) {
        const file = path.join(f.run, 'config.json');
        if (!fs.existsSync(file)) throw new Error(`${f.run} is not a run folder (no config.json)`);
        config = checkConfig(readJsonFile(file), file);
        const classesFile = path.join(f.run, 'classes.json');
        if (fs.existsSync(classesFile)) {
          const names = readJsonFile(classesFile);
          if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) {
            throw new Error(`${classesFile} should hold a JSON array of class names`);
          }
          runClasses = names;
        }
      } else if (!f.model) {
        throw new Error('--weights needs --model NAME');
      }
      let ds: LabelledDataset;
      if (f.data) ds = folderDataset(f.data, f.split);
      else if (f.dataset || config?.data.name) {
        const name = f.dataset ?? config!.data.name!;
        const data = await loadData({ name }, { progress: f.progress });
        if (!data.val) throw new Error(`${name} has no evaluation split`);
        ds = data.val;
      } else if (config?.data.val) ds = new ImageFolder(config.data.val);
      else throw new Error('no evaluation data: give --data DIR or --dataset NAME');
      if (f.perClass !== undefined) ds = takePerClass(ds, f.perClass);
      // Released ImageNet weights on wnid folders: labels by ImageNet-1K class index, 1000 classes.
      const imagenet = !!f.weights && !!f.data && f.imagenetLabels !== false && isImagenetLayout(ds.classes);
      if (imagenet) {
        const found = ds.classes.length;
        ds = new ImagenetIndexed(ds);
        console.log(`ImageNet-1K layout: ${found} of 1000 wnid folders, ${ds.length} images, labels in ImageNet class-index order`);
      }
      const classes = ds.classes;
      if (runClasses && runClasses.join() !== classes.join()) {
        throw new Error(`the data's classes (${classes.join(', ')}) differ from the run's (${runClasses.join(', ')})`);
      }
      const { cropPadding: _pad, ...runAugment } = config?.augment ?? {};
      const aug = augmentConfig({
        ...runAugment,
        ...(f.inputSize !== undefined ? { inputSize: f.inputSize } : {}),
        ...(f.cropPct !== undefined ? { cropPct: f.cropPct } : {}),
      });
      const evalTransform = f.cropMode === 'squash'
        ? buildEvalTransform({ inputSize: aug.inputSize, cropPct: aug.cropPct, cropMode: 'squash' })
        : config?.augment?.cropPadding && f.cropPct === undefined
          ? transforms(config.augment, classes.length).eval
          : transforms({ ...aug, cropPadding: undefined }, classes.length).eval;
      const modelConfig: TrainConfig = config ?? { name: 'eval', model: { name: f.model! }, data: { train: '' } };
      const model = buildModel({ ...modelConfig, model: { ...modelConfig.model, weights: undefined } }, classes.length);
      let source: string;
      if (f.run) {
        const dir = findCheckpoint(path.join(f.run, 'checkpoints'), f.checkpoint);
        if (!dir) throw new Error(`${f.run} has no ${f.checkpoint} checkpoint`);
        const meta = loadCheckpointWeights(model, dir, { ema: f.ema });
        source = `${dir}${f.ema ? ' (EMA)' : ''}, epoch ${meta.position.epoch}`;
      } else {
        try {
          loadWeights(model, f.weights!);
        } catch (err) {
          model.dispose();
          // The library's hint names numClasses; eval takes its class count from the data.
          if (err instanceof WeightsError && err.classCount) {
            throw new Error(`${f.weights} has a ${err.classCount.file}-class head but the evaluation data ` +
              `(${f.data ?? f.dataset ?? 'the run\'s'}) has ${classes.length} classes: evaluate on data with the ` +
              `weights' ${err.classCount.file} classes`);
          }
          throw err;
        }
        source = f.weights!;
      }
      const loader = new DataLoader({ dataset: ds, batchSize: f.batchSize, transform: evalTransform, normalize: aug.normalize });
      const e = await evaluate(model, loader, { progress: f.progress, label: 'eval', flipTta: f.flipTta });
      model.dispose();
      printEvaluation(e, classes, `${source} on ${ds.length} images (${aug.inputSize}px, crop ${aug.cropPct} ${f.cropMode ?? 'center'})`);
      const which = f.data ? f.split : f.dataset ?? config?.data.name ?? 'val';
      const out = f.out ?? (f.run ? evalFilePath(f.run, which, { ema: f.ema, flipTta: f.flipTta }) : undefined);
      if (out) {
        writeFileAtomic(out, `${JSON.stringify({ source, ...evalRecord(e, classes) }, jsonReplacer, 1)}\n`);
        console.log(`wrote ${out}`);
      }
    }));
}

/**
 * `convnext eval --run DIR` for a regression run (`task: regression`): MAE / RMSE / R², loss and the MAE per
 * target bucket on the run's validation split, its test split (`--split test`, pet-age and its stand-in) or
 * `--data FILE.csv` (path,target rows); written to <run>/eval-<split>.json.
 */
async function evalRegressionRun(f: EvalFlags): Promise<void> {
  const { evaluateRegressionRun, describeRegressionEval } = require('../../train/regression-run') as typeof import('../../train/regression-run');
  const { CsvRegressionDataset } = require('../../data/csv') as typeof import('../../data/csv');
  const { evalFilePath } = require('../../experiments/cached-run') as typeof import('../../experiments/cached-run');
  const { writeFileAtomic } = require('../../util/fs') as typeof import('../../util/fs');
  if (f.dataset || f.perClass !== undefined || f.inputSize !== undefined || f.cropPct !== undefined || f.cropMode !== undefined) {
    throw new Error('a regression run is evaluated with its own data and transform: use --split val|test or --data FILE.csv');
  }
  if (f.split !== 'val' && f.split !== 'test') throw new Error(`--split must be val or test for a regression run, got ${f.split}`);
  const dataset = f.data ? new CsvRegressionDataset(f.data) : undefined;
  const e = await evaluateRegressionRun(f.run!, {
    checkpoint: f.checkpoint, ema: f.ema, split: f.split as 'val' | 'test', dataset, batchSize: f.batchSize, flipTta: f.flipTta, progress: f.progress,
  });
  for (const line of describeRegressionEval(e)) console.log(line);
  const out = f.out ?? evalFilePath(f.run!, f.data ? path.basename(f.data, path.extname(f.data)) : f.split, { ema: f.ema, flipTta: f.flipTta });
  const r = e.result;
  writeFileAtomic(out, `${JSON.stringify({
    source: e.source, task: 'regression', split: e.split, count: r.count, mae: r.mae, rmse: r.rmse, r2: r.r2, loss: r.loss,
    imagesPerSec: r.imagesPerSec, buckets: e.buckets,
  }, null, 1)}\n`);
  console.log(`wrote ${out}`);
}

/** The `convnext` CLI's registration hook (src/cli/commands/index.ts). */
export const register = registerEvalCommand;
