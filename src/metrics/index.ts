export * from './classification';
export * from './loss';
export * from './regression';
export * from './segmentation';
