/**
 * The public API, curated as tfjs curates its own: the names most users need at the top level, and each
 * layer of the library as a namespace (`nn`, `augment`, `data`, `metrics`, `train`, `util`). Experiments and
 * notebook helpers are imported from their folders; they are not part of the library's API.
 */
export { backendInfo, initBackend, tf } from './backend';

// Models: the registry, the ConvNeXt family, counting and PyTorch-format weights.
export { createModel, getModelEntry, listModels } from './convnext/registry';
export { checkInputSize, type Classifier, type ModelEntry, type ModelOptions } from './convnext/model';
export { ConvNeXt, dropPathRates, type ConvNeXtConfig } from './convnext/convnext';
export { CONVNEXT_VARIANTS } from './convnext/models/convnext';
export { complexity, type Complexity } from './convnext/count';
export {
  loadStateDict, loadWeights, readStateDict, saveWeights, stateDict, writeStateDict, WeightsError,
  type LoadOptions, type LoadResult, type StateDict,
} from './convnext/weights';
export { readSafetensors, writeSafetensors, SafetensorsError } from './convnext/safetensors';

export * as nn from './nn';
export * as convnext from './convnext';
export * as image from './image';
export * as augment from './augment';
export * as data from './data';
export * as metrics from './metrics';
export * as train from './train';
export * as util from './util';
