#!/usr/bin/env node
// The `convnext-ts` Jupyter kernel (kernelspec written by `node scripts/setup.js --jupyter`).
//
// 1. Jupyter starts kernels in the notebook's folder, but tslab compiles each cell as the file
//    `<cwd>/__tslab__.ts` and only imports TypeScript from below its cwd. Starting it at the repository
//    root makes notebooks import the library as `./src/...` wherever they live, in JupyterLab and
//    under nbconvert alike.
// 2. tslab runs its own transpiled copies of imported .ts files, but resolves only file paths
//    (`./src/notebook` fails: no directory index) and keeps them apart from Node's module cache. Here
//    tslab only type-checks and runs the cells, and Node loads the library through tsx's require hook,
//    exactly as in tests and scripts: one module graph, directory imports work.
'use strict';
const path = require('path');

const root = path.resolve(__dirname, '..');
const connectionFile = process.argv[2];
if (!connectionFile) {
  console.error('usage: node scripts/tslab-kernel.js <connection_file> (Jupyter passes it)');
  process.exit(2);
}
const configPath = path.resolve(connectionFile); // before chdir: Jupyter may pass a relative path
process.chdir(root);

// 3. tslab's TypeScript watch program reacts to changes of real files (someone editing src/, git
//    checking files out) by scheduling a rebuild on a timer tslab never fires; the next cell then dies
//    with "Unexpected pending rebuildTimer". Real files are not watched: after editing src/, restart the
//    kernel (Node's module cache would keep the old code anyway).
require('tsx/cjs');
const tslabDir = path.join(root, 'node_modules', 'tslab');
const ts = require(require.resolve('@tslab/typescript-for-tslab', { paths: [path.join(tslabDir, 'dist')] }));
const unwatched = () => ({ close() {} });
ts.sys.watchFile = unwatched;
ts.sys.watchDirectory = unwatched;
const converter = require(path.join(tslabDir, 'dist', 'converter.js'));
const createConverter = converter.createConverter;
converter.createConverter = (...args) => {
  const conv = createConverter(...args);
  const convert = conv.convert.bind(conv);
  conv.convert = (...a) => ({ ...convert(...a), sideOutputs: undefined });
  return conv;
};

// 4. Like ipykernel, exit when the process that started the kernel is gone (a killed `npm run report`
//    or JupyterLab), instead of lingering with the model in memory.
const parentPid = Number(process.env.JPY_PARENT_PID);
if (parentPid > 1) {
  setInterval(() => {
    try {
      process.kill(parentPid, 0);
    } catch {
      process.exit(0);
    }
  }, 3000).unref();
}

require(path.join(tslabDir, 'dist', 'main.js')).startKernel({
  configPath,
  enableFindLocal: false,
  globalVersion: require(path.join(tslabDir, 'package.json')).version,
});
