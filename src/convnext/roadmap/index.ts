export * from './residual-block';
export * from './modern-resnet';
export * from './steps';
export * from './flops';
export * from './summary';
