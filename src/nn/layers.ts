/**
 * Deprecated: the leaf layers now live one per file (linear, conv, norm, fast-norm, activation,
 * drop-path); import them from there or from the `nn` barrel. Kept only for importers not yet moved
 * (src/convnext/roadmap/residual-block.ts, modern-resnet.ts); remove once they import the new files.
 */
export { Linear } from './linear';
export { Conv2d, ConvLayer } from './conv';
export type { Conv2dOptions } from './conv';
export { LayerNorm } from './norm';
export { fusedLayerNorm } from './fast-norm';
export { GELU, gelu } from './activation';
export { dropPath } from './drop-path';
