export { tf, initBackend, backendInfo } from './backend';
export * from './convnext';
