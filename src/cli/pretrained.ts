/** A registry model with a weights file, as `predict` and `export` load it. */
import {
  Classifier, StateDict, WeightsError, checkInputSize, getModelEntry, loadStateDict, readStateDict, stripPrefixes,
} from '../convnext';
import { withoutInit } from '../nn';

/** The classifier's output count in a state dict (official, timm or torchvision names), if it has one. */
export function headClasses(sd: StateDict): number | undefined {
  const { stateDict } = stripPrefixes(sd);
  for (const key of ['head.weight', 'head.fc.weight', 'fc.weight']) {
    const t = stateDict.get(key);
    if (t && t.shape.length === 2) return t.shape[0];
  }
  return undefined;
}

export interface Pretrained {
  model: Classifier;
  /** Input size: `--size`, else the model's default. */
  size: number;
  /** Classes: `--classes`, else the weights' head, else 1000. */
  classes: number;
}

/** Builds `name` for `weights` (strictly loaded, eval mode); a wrong class count says which flag fixes it. */
export function loadPretrained(name: string, weights: string, opts: { size?: number; classes?: number } = {}): Pretrained {
  const entry = getModelEntry(name);
  const size = opts.size ?? entry.defaultSize;
  const { stateDict } = readStateDict(weights);
  const classes = opts.classes ?? headClasses(stateDict) ?? 1000;
  // Weights overwrite every parameter (strict load), so skip the random initialisation.
  const model = withoutInit(() => entry.create({ numClasses: classes }));
  try {
    checkInputSize(model, size);
    loadStateDict(model, stateDict, { source: weights });
  } catch (err) {
    model.dispose();
    if (!(err instanceof WeightsError && err.classCount)) throw err;
    throw new Error(`${err.message} (here: --classes ${err.classCount.file}, or leave --classes out to read it from the weights)`);
  }
  model.eval();
  return { model, size, classes };
}
