export { tf, initBackend, backendInfo } from './backend';
export * from './convnext';
export * as data from './data';
export * as augment from './augment';
export * as metrics from './metrics';
export * as train from './train';
