import { strict as assert } from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { cli, shellWords, tinySetup, tmp } from './helpers';

const BIN = path.join(__dirname, '..', '..', 'bin', 'convnext.js');

/** Spawns `convnext train ...args`, sends `signal` once the first epoch's checkpoint exists; resolves on exit. */
async function trainUntilSignal(args: string[], runDir: string, signal: NodeJS.Signals) {
  const child = spawn(process.execPath, [BIN, 'train', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBUG: '' } });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, sig) => r({ code, signal: sig })));
  const started = Date.now();
  const timer = setInterval(() => {
    if (fs.existsSync(path.join(runDir, 'checkpoints', 'last', 'state.json'))) {
      clearInterval(timer);
      child.kill(signal);
    } else if (Date.now() - started > 90_000) {
      clearInterval(timer);
      child.kill('SIGKILL');
    }
  }, 50);
  const res = await exited;
  clearInterval(timer);
  return { ...res, out, err };
}

describe('convnext train under SIGTERM / Ctrl-C (spawned)', function () {
  this.timeout(180_000);
  const root = tmp('signals');
  let config = '';

  before(async () => {
    config = await tinySetup(root, '{ epochs: 3, batchSize: 12, lr: 0.01, warmupEpochs: 0, modelEma: false, evalEma: false }');
  });

  it('SIGTERM saves the last checkpoint and prints a continue command that resumes the same run', async () => {
    const run = path.join(root, 'run term');
    const r = await trainUntilSignal(['--config', config, '--out', run, '--epochs', '60', '--set', 'recipe.minLr=0.0001',
      '--set', 'augment.hflip=0.25', '--no-progress'], run, 'SIGTERM');
    assert.equal(r.signal, null, `killed by ${r.signal}; stderr: ${r.err}`);
    assert.equal(r.code, 143, r.err);
    assert.match(r.err, /terminated: saving the last checkpoint/);
    assert.match(fs.readFileSync(path.join(run, 'log.txt'), 'utf8'), /interrupted at epoch \d+, batch \d+; saved the last checkpoint/);
    assert.ok(!fs.existsSync(path.join(run, 'run.lock')), 'the lock goes with the process');
    const line = r.out.split('\n').find((l) => l.startsWith('interrupted; continue with: '));
    assert.ok(line, r.out);
    const words = shellWords(line.slice('interrupted; continue with: '.length));
    assert.deepEqual(words.slice(0, 2), ['convnext', 'train']);
    for (const w of ['--epochs', '60', 'recipe.minLr=0.0001', 'augment.hflip=0.25', '--resume', '--no-progress', run]) assert.ok(words.includes(w), `${w} in ${line}`);
    // A changed config is refused on resume; the printed command, run as printed, resumes and finishes the run.
    const shorter = words.slice(2).map((w, i, a) => (a[i - 1] === '--epochs' ? '3' : w));
    const refused = await cli(['train', ...shorter]);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /recipe\.epochs 60 → 3/);
    const resumed = await cli(words.slice(1));
    assert.equal(resumed.code, 0, resumed.err);
    assert.match(fs.readFileSync(path.join(run, 'log.txt'), 'utf8'), /resumed from .*checkpoints/);
    assert.equal(JSON.parse(fs.readFileSync(path.join(run, 'summary.json'), 'utf8')).epochsDone, 60);
  });

  it('Ctrl-C (SIGINT) still saves and exits 130', async () => {
    const run = path.join(root, 'run-int');
    const r = await trainUntilSignal(['--config', config, '--out', run, '--epochs', '60', '--no-progress'], run, 'SIGINT');
    assert.equal(r.code, 130, r.err);
    assert.match(r.out, /interrupted; continue with: convnext train --config \S+ --out \S+ --resume --epochs 60 --no-progress/);
  });
});
