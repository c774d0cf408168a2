export * from './module';
export * from './layers';
export * from './block';
export * from './convnext';
export * from './registry';
export * from './count';
export { truncNormal, withoutInit } from './init';
export * from './batch-norm';
