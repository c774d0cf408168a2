/**
 * `convnext predict`: classify image files with a model and a safetensors weights file, preprocessing
 * as the official evaluation (resize the shorter side to size / crop_pct, bicubic; centre crop; ImageNet
 * mean / std). Results are written as each batch is classified; a file that cannot be read is reported on
 * stderr (and under "errors" with --json) without losing the others, and makes the exit status non-zero.
 */
import * as fs from 'fs';
import type { Command } from 'commander';
import { tf } from '../../backend';
import { CropMode, loadEvalImage } from '../../augment/eval-transform';
import { IMAGENET_CLASSES } from '../../data/imagenet-classes';
import { action, describeError, fraction, positiveInt } from '../errors';
import { ImageClassifier, openOnnxClassifier } from '../onnx-backend';
import { loadPretrained } from '../pretrained';

interface PredictOptions {
  model?: string;
  weights?: string;
  /** An exported model (convnext export --format onnx) run in ONNX Runtime instead of --model/--weights. */
  onnx?: string;
  classes?: number;
  labels?: string;
  size?: number;
  cropPct: number;
  cropMode: CropMode;
  topk: number;
  batchSize: number;
  json?: boolean;
  /** A regression run folder (`task: regression`): print each image's predicted target (an age in months). */
  run?: string;
  checkpoint?: string;
}

export interface Prediction {
  image: string;
  logits: number[];
  topk: Array<{ index: number; label: string; prob: number; logit: number }>;
}

function softmax(logits: number[]): number[] {
  const max = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

function readLabels(file: string, classes: number): string[] {
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new Error(`--labels ${file} is a folder, expected a file of class names`);
  const labels = fs.readFileSync(file, 'utf-8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  if (labels.length !== classes) throw new Error(`--labels ${file} has ${labels.length} names, the model has ${classes} classes`);
  return labels;
}

/** A registry model with its weights on TensorFlow.js: predict's default backend. */
function openTfClassifier(opts: PredictOptions): ImageClassifier {
  if (!opts.model || !opts.weights) throw new Error('predict needs --model and --weights (or --onnx FILE for an exported model)');
  const { model, size, classes } = loadPretrained(opts.model, opts.weights, opts);
  return {
    size, channels: 3, classes,
    logits: async (data, n) => tf.tidy(() => model.forward(tf.tensor4d(data, [n, size, size, 3]))).arraySync() as number[][],
    dispose: async () => model.dispose(),
  };
}

async function runPredict(images: string[], opts: PredictOptions): Promise<void> {
  if (opts.onnx && (opts.model || opts.weights)) throw new Error('--onnx runs the exported file alone: leave out --model and --weights');
  for (const img of images) if (!fs.existsSync(img)) throw new Error(`image not found: ${img}`);
  const model = opts.onnx ? await openOnnxClassifier(opts.onnx, opts.size, opts.classes) : openTfClassifier(opts);
  const { size, classes } = model;
  try {
    const labels = opts.labels ? readLabels(opts.labels, classes)
      : classes === IMAGENET_CLASSES.length ? IMAGENET_CLASSES : undefined;
    const out = new PredictionWriter(opts.json ? {
      ...(opts.onnx ? { onnx: opts.onnx } : { model: opts.model, weights: opts.weights }),
      size, cropPct: opts.cropPct, cropMode: opts.cropMode, classes,
    } : undefined);
    const failures: Array<{ image: string; error: string }> = [];
    try {
      for (let i = 0; i < images.length; i += opts.batchSize) {
        const files = images.slice(i, i + opts.batchSize);
        const loaded = await Promise.allSettled(
          files.map((f) => loadEvalImage(f, { size, cropPct: opts.cropPct, cropMode: opts.cropMode })));
        const good: Array<{ image: string; pixels: Float32Array }> = [];
        loaded.forEach((r, b) => {
          if (r.status === 'fulfilled') {
            good.push({ image: files[b], pixels: r.value });
            return;
          }
          const error = describeError(r.reason).replace(/\s*\n\s*/g, ' ');
          failures.push({ image: files[b], error });
          process.stderr.write(`convnext: error: ${error}\n`);
        });
        if (good.length === 0) continue;
        const n = size * size * 3;
        const data = new Float32Array(good.length * n);
        good.forEach((g, b) => data.set(g.pixels, b * n));
        const logits = await model.logits(data, good.length);
        good.forEach(({ image }, b) => {
          const probs = softmax(logits[b]);
          const order = probs.map((p, k) => k).sort((a, c) => probs[c] - probs[a]).slice(0, opts.topk);
          out.write({
            image,
            logits: logits[b],
            topk: order.map((k) => ({ index: k, label: labels?.[k] ?? String(k), prob: probs[k], logit: logits[b][k] })),
          });
        });
      }
    } finally {
      out.close(failures);
    }
    if (failures.length > 0) {
      throw new Error(`${failures.length} of ${images.length} images could not be classified (first: ${failures[0].error})`);
    }
  } finally {
    await model.dispose();
  }
}

/**
 * Writes predictions as they come: text blocks, or (with a header) one JSON object whose "predictions"
 * array is opened first, grows one element per line and is closed, with the "errors", by close() — also
 * when classification stops half-way — so stdout always holds valid JSON.
 */
class PredictionWriter {
  private count = 0;

  constructor(private readonly header?: Record<string, unknown>) {
    if (header) process.stdout.write(`${JSON.stringify(header).slice(0, -1)},"predictions":[`);
  }

  write(p: Prediction): void {
    if (this.header) {
      process.stdout.write(`${this.count > 0 ? ',' : ''}\n${JSON.stringify(p)}`);
    } else {
      const lines = [p.image, ...p.topk.map((t, r) => `  ${r + 1}. ${(100 * t.prob).toFixed(2).padStart(6)}%  ${t.label} (${t.index})`)];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    this.count++;
  }

  close(errors: Array<{ image: string; error: string }>): void {
    if (this.header) process.stdout.write(`${this.count > 0 ? '\n' : ''}],"errors":${JSON.stringify(errors)}}\n`);
  }
}

/** `predict --run DIR`: a regression run's prediction per image (its own preprocessing), as text or JSON. */
async function predictRegression(images: string[], opts: PredictOptions): Promise<void> {
  if (opts.model || opts.weights || opts.onnx) throw new Error('--run predicts with the run\'s own model: leave out --model, --weights and --onnx');
  const { predictRegressionRun } = require('../../train/regression-run') as typeof import('../../train/regression-run');
  const preds = await predictRegressionRun(opts.run!, images, { checkpoint: opts.checkpoint, batchSize: opts.batchSize });
  if (opts.json) process.stdout.write(`${JSON.stringify({ run: opts.run, predictions: preds })}\n`);
  else for (const p of preds) process.stdout.write(`${p.image}\n  predicted: ${p.prediction.toFixed(1)} months (${(p.prediction / 12).toFixed(1)} years)\n`);
}

export function register(program: Command): void {
  program
    .command('predict')
    .description('classify images with a model and a .safetensors weights file (official or timm keys)')
    .argument('<images...>', 'image files (JPEG, PNG, WebP, ...)')
    .option('-m, --model <name>', 'model name (see convnext info --list)')
    .option('-w, --weights <file>', '.safetensors weights (convert .pth with data-scripts/convert_pth.py)')
    .option('--onnx <file>', 'run an exported .onnx model (convnext export) in ONNX Runtime instead of --model/--weights')
    .option('-c, --classes <n>', 'classes of the head (default: read from the weights)', positiveInt)
    .option('--labels <file>', 'class names, one per line (default: ImageNet-1k names for 1000 classes)')
    .option('-s, --size <pixels>', 'input resolution, a multiple of 32 (default: the model\'s, 224)', positiveInt)
    .option('--crop-pct <f>', 'centre crop fraction: resize the shorter side to size / crop-pct', fraction, 0.875)
    .option('--crop-mode <mode>', 'center (keep aspect) or squash (resize both sides; official 384 eval)', 'center')
    .option('-k, --topk <n>', 'classes to show per image', positiveInt, 5)
    .option('--batch-size <n>', 'images per forward pass', positiveInt, 8)
    .option('--json', 'print JSON with the raw logits and the top-k')
    .option('--run <dir>', 'a regression run folder (task: regression): print the predicted target, e.g. an age in months')
    .option('--checkpoint <name>', 'checkpoint of --run: best | last', 'best')
    .action(action(async (images: string[], opts: PredictOptions) => {
      if (opts.run) {
        await predictRegression(images, opts);
        return;
      }
      if (opts.cropMode !== 'center' && opts.cropMode !== 'squash') {
        throw new Error(`--crop-mode must be center or squash, got "${opts.cropMode}"`);
      }
      await runPredict(images, opts);
    }));
}
