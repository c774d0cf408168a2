import { strict as assert } from 'assert';
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { saveCheckpoint } from '../../src/train/checkpoint';
import { lockRunFolder } from '../../src/train/run-dir';
import { fit } from '../../src/train/trainer';
import { AdamW } from '../../src/train/adamw';
import { buildParamGroups } from '../../src/train/param-groups';
import { tinyLoaders, tinyModel, TINY_RECIPE } from '../fixtures/train/tiny';
import { tmp } from './helpers';

const quiet = { progress: false, log: () => undefined };

/** A live process that is not this one (its pid stands for another training's). */
function otherProcess(): ChildProcess {
  return spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const p = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((r) => p.on('exit', r));
  return p.pid!;
}

const owner = (pid: number) => JSON.stringify({ pid, hostname: os.hostname(), startedAt: '2026-01-01T00:00:00.000Z', argv: [] });

describe('a run folder has one owner; checkpoint temporaries are per process', function () {
  this.timeout(120_000);

  it('a second trainer into a folder another live process owns is refused, naming its pid', async () => {
    const dir = tmp('lock');
    const other = otherProcess();
    try {
      fs.writeFileSync(path.join(dir, 'run.lock'), owner(other.pid!));
      const { train, val } = tinyLoaders();
      const model = tinyModel(0);
      await assert.rejects(fit({ model, train, val, recipe: { ...TINY_RECIPE, epochs: 1 }, runDir: dir, ...quiet }),
        new RegExp(`run folder .* is in use by process ${other.pid} `));
      assert.ok(!fs.existsSync(path.join(dir, 'log.txt')), 'nothing written by the refused trainer');
      model.dispose();
    } finally {
      other.kill();
    }
  });

  it('across processes: a second owner is refused while the first holds the folder, and takes it once released', async () => {
    const dir = tmp('lock2');
    const release = lockRunFolder(dir);
    const tryLock = async (): Promise<{ code: number | null; err: string }> => {
      const child = spawn(process.execPath, ['-r', 'tsx/cjs', '-e',
        `require(${JSON.stringify(path.join(__dirname, '..', '..', 'src', 'train', 'run-dir.ts'))}).lockRunFolder(${JSON.stringify(dir)})`],
      { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d) => (err += d));
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      return { code, err };
    };
    const held = await tryLock();
    assert.notEqual(held.code, 0);
    assert.match(held.err, new RegExp(`in use by process ${process.pid} `));
    // In-process the lock is re-entrant: runFromConfig holds it around fit.
    const inner = lockRunFolder(dir);
    inner();
    assert.ok(fs.existsSync(path.join(dir, 'run.lock')));
    release();
    assert.ok(!fs.existsSync(path.join(dir, 'run.lock')));
    const free = await tryLock();
    assert.equal(free.code, 0, free.err);
  });

  it('a lock left by a killed run (dead pid) is taken over', async () => {
    const dir = tmp('stale-lock');
    fs.writeFileSync(path.join(dir, 'run.lock'), owner(await deadPid()));
    const { train } = tinyLoaders();
    const model = tinyModel(0);
    const res = await fit({ model, train, recipe: { ...TINY_RECIPE, epochs: 1, modelEma: false, evalEma: false }, runDir: dir, ...quiet });
    assert.equal(res.history.length, 1);
    assert.ok(!fs.existsSync(path.join(dir, 'run.lock')));
    model.dispose();
  });

  it('checkpoint temp folders are unique per process; a killed run\'s are removed, a live one\'s kept', async () => {
    const root = path.join(tmp('ck-tmp'), 'checkpoints');
    const other = otherProcess();
    try {
      const dead = await deadPid();
      const stale = [`last.tmp`, `last.${dead}-0.tmp`];
      const live = `last.${other.pid}-3.tmp`;
      for (const d of [...stale, live]) {
        fs.mkdirSync(path.join(root, d), { recursive: true });
        fs.writeFileSync(path.join(root, d, 'junk'), 'x');
      }
      const model = tinyModel(0);
      const optimizer = new AdamW(buildParamGroups(model, { weightDecay: 0.05 }), {});
      saveCheckpoint(root, 'last', { model, optimizer, position: { epoch: 1, batchInEpoch: 0, step: 3, microStep: 6 }, seed: 0, extra: {} });
      const left = fs.readdirSync(root).sort();
      assert.deepEqual(left, ['last', live].sort());
      optimizer.dispose();
      model.dispose();
    } finally {
      other.kill();
    }
  });
});
