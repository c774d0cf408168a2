export * from './pool';
export * from './squeeze-excite';
export * from './cbam';
export * from './se-cbam';
export * from './dynamic-conv';
export * from './scaled-conv';
export * from './feature-fusion';
