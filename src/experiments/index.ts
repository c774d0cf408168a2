export * from './cached-run';
export * from './pipeline-throughput';
export * from './recipe-report';
export * from './roadmap-replay';
export * from './study-ablation';
export * from './pet-age';
