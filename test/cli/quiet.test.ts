/** Commands that load the native TensorFlow library print none of its start-up lines unless --verbose. */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..');
const run = (args: string[]) => spawnSync(process.execPath, [path.join(root, 'bin', 'convnext.js'), ...args], {
  cwd: root, encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '' },
});

describe('convnext on the native backend: TensorFlow\'s start-up lines', function () {
  this.timeout(120_000);

  it('are silenced by default, leaving only the command\'s own message', () => {
    const r = run(['predict', '-m', 'convnext_atto', '-w', '/nonexistent.safetensors', '/nonexistent.png']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'convnext: error: image not found: /nonexistent.png\n');
  });

  it('are kept with --verbose', () => {
    const r = run(['--verbose', 'predict', '-m', 'convnext_atto', '-w', '/nonexistent.safetensors', '/nonexistent.png']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /oneDNN|absl|cpu_feature_guard/);
    assert.match(r.stderr, /convnext: error: image not found/);
  });
});
