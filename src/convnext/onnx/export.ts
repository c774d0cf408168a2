/**
 * ONNX export of any model the registry builds: `exportOnnx(model, { size, opset })` → the bytes of a
 * .onnx file. The graph is what the model computes in eval mode, for float32 NCHW input
 * [batch, inChans, size, size] named `input` (PyTorch's layout, as torch.onnx.export gives; normalised
 * like the model's training data) and logits [batch, classes] named `logits`. The batch is dynamic; the
 * spatial size is fixed at export. Parameters are initializers under their PyTorch names.
 */
import type { Module } from '../../nn/module';
import { checkInputSize, type Classifier } from '../model';
import { OnnxContext, Value } from './context';
import { emitterFor } from './emit';
import { GraphBuilder } from './graph';

export { MAX_OPSET, MIN_OPSET } from './graph';
export { exportableClasses } from './emit';

export interface OnnxExportOptions {
  /** Input height and width (must suit the model's stride). */
  size: number;
  /** ONNX opset, 17 (default: LayerNormalization; GELU in its erf form) to 21 (Gelu from 20). */
  opset?: number;
  /** Stored in the model's metadata. */
  modelName?: string;
}

export const DEFAULT_OPSET = 17;

/** The input's channel count (3 unless the model's config says otherwise). */
function inputChannels(model: Classifier): number {
  return (model as unknown as { config?: { inChans?: number } }).config?.inChans ?? 3;
}

export function exportOnnx(model: Classifier, opts: OnnxExportOptions): Uint8Array {
  const { size } = opts;
  if (!(Number.isInteger(size) && size > 0)) throw new Error(`size must be a positive whole number, got ${size}`);
  checkInputSize(model, size);
  const g = new GraphBuilder(opts.opset ?? DEFAULT_OPSET);
  const inChans = inputChannels(model);
  const input = g.addInput({ name: 'input', dims: ['batch', inChans, size, size] });
  const ctx = new OnnxContext(g, model, emitterFor);
  const x: Value = { name: input, layout: 'nchw', shape: [inChans, size, size] };
  const y = ctx.emit(model, x, '');
  if (y.layout !== 'flat') throw new Error(`ONNX export: the model's output is a ${y.layout} value, expected logits [N, classes]`);
  g.addOutput(y.name, { name: 'logits', dims: ['batch', y.shape[0]] });
  return g.encode({
    producerName: 'convnext-ts',
    producerVersion: '0.1.0',
    graphName: opts.modelName ?? model.constructor.name,
    docString: `${opts.modelName ?? model.constructor.name}: float32 NCHW input [batch, ${inChans}, ${size}, ${size}] ` +
      '(ImageNet mean/std normalised), logits [batch, classes]',
  });
}

/**
 * One module (a layer, a block, feature fusion) as an ONNX graph, for checking layers on their own: inputs
 * `input0`, `input1`, ... NCHW maps of the given [C, H, W] shapes (several for FeatureFusion), output
 * `output` (an NCHW map, or [N, C]). The batch is dynamic.
 */
export function exportModuleOnnx(module: Module, inputShapes: Array<[number, number, number]>, opts: { opset?: number } = {}): Uint8Array {
  const g = new GraphBuilder(opts.opset ?? DEFAULT_OPSET);
  const ctx = new OnnxContext(g, module, emitterFor);
  const xs: Value[] = inputShapes.map((shape, i) => ({
    name: g.addInput({ name: `input${i}`, dims: ['batch', ...shape] }), layout: 'nchw', shape,
  }));
  let y = ctx.emit(module, xs.length === 1 ? xs[0] : xs, '');
  if (y.layout === 'nhwc') y = ctx.toLayout(y, 'nchw');
  if (y.layout === 'tokens') throw new Error('exportModuleOnnx: token outputs are not supported');
  g.addOutput(y.name, { name: 'output', dims: ['batch', ...y.shape] });
  return g.encode({ producerName: 'convnext-ts', producerVersion: '0.1.0', graphName: module.constructor.name });
}
