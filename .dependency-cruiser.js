/**
 * The library's layering: each folder of src/ imports only the layers before it (and itself).
 * `npm run lint:layers` checks it; CI runs it before the tests.
 */
const LAYERS = [
  'backend',
  'util',
  'native',
  'nn',
  'convnext',
  'image',
  'augment',
  'data',
  'metrics',
  'train',
  'experiments',
  'notebook',
  'cli',
  'index',
];

const layerPath = (name) => (name === 'backend' || name === 'index' ? `^src/${name}\\.ts$` : `^src/${name}/`);

module.exports = {
  forbidden: [
    ...LAYERS.map((layer, i) => ({
      name: `layer-${layer}`,
      comment: `src/${layer} may import only ${LAYERS.slice(0, i).join(', ') || 'nothing from src'}`,
      severity: 'error',
      from: { path: layerPath(layer) },
      to: { path: LAYERS.slice(i + 1).map(layerPath) },
    })).filter((rule) => rule.to.path.length > 0),
    {
      name: 'no-circular',
      comment: 'no import cycles between modules',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'src-stays-in-src',
      comment: 'the library imports no tests, benchmarks, scripts or notebooks',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts|data-scripts|notebooks)/' },
    },
    {
      name: 'no-unknown-layer',
      comment: 'every file of src/ belongs to a layer listed in .dependency-cruiser.js',
      severity: 'error',
      from: { path: '^src/', pathNot: LAYERS.map(layerPath) },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '\\.(cc|py|json)$' },
  },
};
