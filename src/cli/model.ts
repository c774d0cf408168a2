/** Building registry models for CLI commands, with the checks every command needs. */
import { Classifier, ModelEntry, createModel, getModelEntry, listModels } from '../convnext';
import { withoutInit } from "../nn";

/** The input size must be a multiple of the model's total stride (32 for every ImageNet ConvNeXt). */
export function checkInputSize(model: Classifier, size: number): void {
  const stride = (model as Partial<{ totalStride: number }>).totalStride ?? 32;
  if (size % stride !== 0) {
    throw new Error(`--size ${size} is not divisible by ${stride}, the model's total stride (try ${Math.max(stride, Math.round(size / stride) * stride)})`);
  }
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** The registry entry of `name`, or an error suggesting the closest known names. */
export function modelEntry(name: string): ModelEntry {
  const known = listModels();
  if (!known.includes(name)) {
    const close = known.map((k) => [k, editDistance(name, k)] as const).sort((a, b) => a[1] - b[1])
      .filter(([, d]) => d <= Math.max(3, name.length / 3)).slice(0, 3).map(([k]) => k);
    throw new Error(`unknown model "${name}"${close.length ? ` (did you mean ${close.join(', ')}?)` : ''}; ` +
      `convnext info --list shows all ${known.length}`);
  }
  return getModelEntry(name);
}

/**
 * A registry model. `shapesOnly` skips random initialisation (counting params and MACs, or before
 * loading weights).
 */
export function buildModel(name: string, opts: { numClasses?: number; shapesOnly?: boolean } = {}): Classifier {
  modelEntry(name);
  const build = () => createModel(name, { numClasses: opts.numClasses });
  return opts.shapesOnly ? withoutInit(build) : build();
}
