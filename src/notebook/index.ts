/**
 * Helpers every notebook uses: the run mode, tables beside the paper's figures, inline charts, and
 * the measurements the first notebooks show (environment, inference timing).
 */
export * from './mode';
export * from './table';
export * from './plot';
export { show } from './display';
export * from './environment';
export * from './inference';
export * from './paper';
