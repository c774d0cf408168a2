import { FeatureShape, MacCounter, Module } from '../nn/module';

export interface Complexity {
  params: number;
  /** Multiply-accumulates of conv and linear layers for one image (the paper's "FLOPs"). */
  macs: number;
  /** MACs grouped by the first two levels of the module path, e.g. `stages.2`. */
  macsByScope: Map<string, number>;
  outputShape: FeatureShape;
}

/** Params and MACs for one `size`x`size` image, counted from shapes alone (nothing is computed). */
export function complexity(model: Module, size: number, inChans = 3): Complexity {
  const counter = new MacCounter();
  const outputShape = model.profile([size, size, inChans], counter);
  const macsByScope = new Map<string, number>();
  for (const [scope, macs] of counter.byScope) {
    const key = scope.split('.').slice(0, 2).join('.');
    macsByScope.set(key, (macsByScope.get(key) ?? 0) + macs);
  }
  return { params: model.numParams(), macs: counter.total, macsByScope, outputShape };
}
