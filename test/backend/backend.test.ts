import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..');

function backendIn(env: Record<string, string>): { status: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e',
    "const b = require('./src/backend.ts'); b.initBackend().then(() => console.log(JSON.stringify(b.backendInfo())))"],
  { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

describe('backend selection', () => {
  it('picks the native tfjs-node backend by default on this CPU machine', () => {
    const r = backendIn({ CONVNEXT_BACKEND: '' });
    assert.equal(r.status, 0, r.err);
    const info = JSON.parse(r.out);
    assert.equal(info.name, 'node');
    assert.equal(info.tfjsBackend, 'tensorflow');
    assert.equal(info.versions['tfjs-node'], '4.22.0');
  });

  for (const [name, tfjsBackend] of [['wasm', 'wasm'], ['cpu', 'cpu']]) {
    it(`CONVNEXT_BACKEND=${name} forces the ${tfjsBackend} backend`, () => {
      const r = backendIn({ CONVNEXT_BACKEND: name });
      assert.equal(r.status, 0, r.err);
      assert.equal(JSON.parse(r.out).tfjsBackend, tfjsBackend);
    });
  }

  it('rejects an unknown backend name with a clear message', () => {
    const r = backendIn({ CONVNEXT_BACKEND: 'tpu' });
    assert.notEqual(r.status, 0);
    assert.match(r.err, /CONVNEXT_BACKEND=tpu is not one of node-gpu, node, wasm, cpu/);
  });
});
