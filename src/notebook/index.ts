/** Helpers every notebook uses: the run mode, tables beside the paper's figures, and inline charts. */
export * from './mode';
export * from './table';
export * from './plot';
export { show } from './display';
