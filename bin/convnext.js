#!/usr/bin/env node
// The `convnext` command: runs the TypeScript CLI through tsx, so no build step is needed.
require('tsx/cjs');
require('../src/cli/main.ts').main(process.argv);
