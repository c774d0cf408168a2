/**
 * Helpers every notebook uses: the run mode, tables beside the paper's figures, inline charts, prose
 * generated from a run's numbers, and each notebook's display helpers (its tables, charts and the
 * measurements the first notebooks show). Notebooks 03 and 04 import their helpers from
 * './src/notebook/recipe' and './src/notebook/study' directly: those pull in the trainer and the data
 * pipeline, which the other notebooks do not need to load. `headline.ts` (the records notebooks write for the
 * report's front page) and `timings.ts` (how long each notebook takes) are exported here; the report's own
 * modules (`runner`, `progress`, `benchmarks`) are imported by scripts/report.ts directly.
 */
export * from './mode';
export * from './table';
export * from './plot';
export { show, showMarkdown } from './display';
export * from './markdown';
export * from './environment';
export * from './inference';
export * from './paper';
export * from './smoke';
export * from './family';
export * from './roadmap';
export * from './bench';
export * from './headline';
export * from './timings';
