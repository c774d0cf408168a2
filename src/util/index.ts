export * from './rng';
export * from './folder-lock';
export * from './timing';
export * from './mode';
export * from './html';
export * from './fs';
export * from './suggest';
