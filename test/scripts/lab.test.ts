/**
 * `npm run lab` (scripts/lab.ts): saving in Lab leaves notebooks free of outputs, the news pop-up is off, and
 * when whatever started it goes away, JupyterLab and its kernels stop too.
 */
import { strict as assert } from 'assert';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..');
const jupyter = path.join(root, '.venv', 'bin', 'jupyter');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, seconds = 60): Promise<T> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const v = await Promise.resolve(fn()).catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

describe('npm run lab', function () {
  this.timeout(120_000);
  before(() => {
    // The Jupyter virtualenv, as `npm run lab` makes it (quick when it exists).
    const setup = spawnSync(process.execPath, [path.join(root, 'scripts', 'setup.js'), '--jupyter'], { cwd: root, stdio: 'inherit' });
    assert.equal(setup.status, 0, 'node scripts/setup.js --jupyter failed');
    assert.ok(fs.existsSync(jupyter));
  });

  it('saves notebooks without outputs, turns news off, and stops with its kernels when npm is stopped', async () => {
    const port = await freePort();
    const api = (p: string) => `http://127.0.0.1:${port}${p}${p.includes('?') ? '&' : '?'}token=t`;
    const npm = spawn('npm', ['run', '--silent', 'lab', '--', '--no-browser', `--port=${port}`, '--ServerApp.token=t'], {
      cwd: root, stdio: 'ignore',
    });
    const name = `lab-test-${process.pid}.ipynb`;
    try {
      await until('JupyterLab', async () => ((await fetch(api('/api/status'))).ok ? true : undefined));
      const kernel = await (await fetch(api('/api/kernels'), { method: 'POST', body: JSON.stringify({ name: 'convnext-ts' }) })).json() as { id: string };
      const notebook = {
        nbformat: 4, nbformat_minor: 4, metadata: {},
        cells: [{ cell_type: 'code', source: '1 + 1', metadata: {}, execution_count: 3, outputs: [{ output_type: 'execute_result', data: { 'text/plain': '2' }, metadata: {}, execution_count: 3 }] }],
      };
      const put = await fetch(api(`/api/contents/${name}`), { method: 'PUT', body: JSON.stringify({ type: 'notebook', format: 'json', content: notebook }) });
      assert.ok(put.ok, `save failed: ${put.status}`);
      const saved = JSON.parse(fs.readFileSync(path.join(root, 'notebooks', name), 'utf8'));
      assert.deepEqual(saved.cells[0].outputs, []);
      assert.equal(saved.cells[0].execution_count, null);
      assert.equal([saved.cells[0].source].flat().join(''), '1 + 1');

      const overrides = JSON.parse(fs.readFileSync(path.join(root, '.venv', 'share', 'jupyter', 'lab', 'settings', 'overrides.json'), 'utf8'));
      assert.equal(overrides['@jupyterlab/apputils-extension:notification'].fetchNews, 'false');

      const pids = (pattern: string) => spawnSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
      const kernelPids = await until('the kernel process', () => { const p = pids(`kernel-${kernel.id}`); return p.length ? p : undefined; });
      const labPids = pids(`jupyter-lab.*--port=${port}`);
      assert.ok(labPids.length > 0, 'JupyterLab process');
      npm.kill('SIGKILL'); // npm goes without passing a signal on: what it started must notice and stop
      await until('JupyterLab and its kernel to stop', () => ([...kernelPids, ...labPids].some(alive) ? undefined : true), 30);
    } finally {
      npm.kill('SIGKILL');
      fs.rmSync(path.join(root, 'notebooks', name), { force: true });
    }
  });
});
