export * from './dataset';
export * from './rng';
export * from './decode';
export * from './image-folder';
export * from './loader';
