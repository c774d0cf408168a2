/**
 * `convnext export --format onnx`: a registered model with a .safetensors weights file written as an ONNX
 * file (src/convnext/onnx): float32 NCHW input `input` [batch, 3, size, size], normalised as for predict,
 * logits `logits` [batch, classes]; the batch is dynamic, the size fixed. `convnext predict --onnx FILE`
 * runs it in ONNX Runtime.
 */
import type { Command } from 'commander';
import { DEFAULT_OPSET, MAX_OPSET, MIN_OPSET, exportOnnx } from '../../convnext/onnx/export';
import { writeFileAtomic } from '../../util/fs';
import { action, positiveInt } from '../errors';
import { loadPretrained } from '../pretrained';

interface ExportOptions {
  model: string;
  weights: string;
  format: string;
  out: string;
  size?: number;
  opset: number;
  classes?: number;
}

function runExport(opts: ExportOptions): void {
  if (opts.format !== 'onnx') throw new Error(`--format ${opts.format} is not supported (onnx)`);
  if (!(opts.opset >= MIN_OPSET && opts.opset <= MAX_OPSET)) {
    throw new Error(`--opset ${opts.opset} is not supported: choose ${MIN_OPSET} to ${MAX_OPSET}`);
  }
  const { model, size, classes } = loadPretrained(opts.model, opts.weights, opts);
  try {
    const bytes = exportOnnx(model, { size, opset: opts.opset, modelName: opts.model });
    writeFileAtomic(opts.out, bytes);
    const mb = (bytes.length / 2 ** 20).toFixed(1);
    console.log(`wrote ${opts.out} (${mb} MiB, ONNX opset ${opts.opset}): input "input" float32 NCHW ` +
      `[batch, 3, ${size}, ${size}] (ImageNet mean/std normalised), output "logits" [batch, ${classes}]`);
  } finally {
    model.dispose();
  }
}

export function register(program: Command): void {
  program
    .command('export')
    .description('write a model with its weights as an ONNX file (run it with convnext predict --onnx FILE)')
    .requiredOption('-m, --model <name>', 'model name (see convnext info --list)')
    .requiredOption('-w, --weights <file>', '.safetensors weights (official or timm keys)')
    .requiredOption('-o, --out <file>', 'the file to write, e.g. model.onnx')
    .option('-f, --format <format>', 'output format: onnx', 'onnx')
    .option('-s, --size <pixels>', 'input resolution fixed in the file (default: the model\'s, e.g. 224)', positiveInt)
    .option('--opset <n>', `ONNX opset, ${MIN_OPSET} to ${MAX_OPSET} (GELU as one Gelu op from 20)`, positiveInt, DEFAULT_OPSET)
    .option('-c, --classes <n>', 'classes of the head (default: read from the weights)', positiveInt)
    .action(action((opts: ExportOptions) => runExport(opts)));
}
