import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..');

/** Loads a named dataset in a child process whose data locations we control. */
function load(standIn: boolean, dataDir: string, expr: string): { status: number | null; out: string; err: string } {
  const script = `
    const d = require('./src/data/datasets.ts');
    const opts = { dataDir: ${JSON.stringify(dataDir)}, sharedDir: ${JSON.stringify(path.join(dataDir, 'no-shared'))}, progress: false, standIn: ${standIn} };
    (async () => { const r = await ${expr}; console.log(JSON.stringify(r)); })().catch((e) => { console.error('ERR ' + e.message); process.exit(3); });`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: root, encoding: 'utf8',
    // Port 9 (discard) on loopback refuses connections: the official download fails at once.
    env: { ...process.env, CIFAR10_URL: 'http://127.0.0.1:9/none.tar.gz', FLOWERS_URL: 'http://127.0.0.1:9/none.tgz' },
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

describe('datasets without the real data', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnx-synth-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('standIn falls back to a labelled synthetic CIFAR-10 stand-in, and says so', () => {
    const r = load(true, dir, `d.cifar10('train', opts).then(async (ds) => {
      const s = await ds.get(ds.length - 1);
      return { n: ds.length, classes: ds.classes, h: s.height, w: s.width, label: s.label };
    })`);
    assert.equal(r.status, 0, r.err);
    const got = JSON.parse(r.out.trim().split('\n').pop()!);
    assert.equal(got.n, 80);
    assert.deepEqual(got.classes, ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);
    assert.deepEqual([got.h, got.w, got.label], [32, 32, 9]);
    assert.match(r.err, /CIFAR-10 is not available here .*synthetic stand-in/);
  });

  it('standIn gives flowers5 a stratified split of 128x128 stand-ins', () => {
    const r = load(true, dir, `d.flowers5(opts).then((s) => ({ train: s.train.length, val: s.val.length, classes: s.train.classes }))`);
    assert.equal(r.status, 0, r.err);
    const got = JSON.parse(r.out.trim().split('\n').pop()!);
    assert.equal(got.train + got.val, 40);
    assert.deepEqual(got.classes, ['daisy', 'dandelion', 'rose', 'sunflower', 'tulip']);
  });

  it('without standIn, never substitutes synthetic data: the download error surfaces', () => {
    const r = load(false, dir, `d.cifar10('train', opts)`);
    assert.equal(r.status, 3);
    assert.match(r.err, /ERR download of http:\/\/127\.0\.0\.1:9\/none\.tar\.gz failed/);
  });
});
