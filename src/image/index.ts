export * from './decode';
export * from './normalize';
export * from './sample';
export * from './batch';
