/**
 * `npm run lab`: JupyterLab on notebooks/ with the convnext-ts kernel as the default for new
 * notebooks. Extra arguments go to JupyterLab: `npm run lab -- --port 8890 --no-browser`.
 * CONVNEXT_MODE in the environment reaches the kernels (default quick).
 *
 * Notebooks are saved without outputs (scripts/jupyter_server_config.py), Lab's news pop-up is off, and
 * however this process is stopped (Ctrl-C, SIGTERM or SIGHUP, or its parent going away) JupyterLab and its
 * kernels stop with it.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parseMode } from '../src/notebook/mode';
import { KERNEL_NAME, venvPython } from '../src/notebook/runner';

const root = path.resolve(__dirname, '..');
const mode = parseMode(process.env.CONVNEXT_MODE);
const venv = path.dirname(path.dirname(venvPython()));
const jupyter = path.join(venv, 'bin', 'jupyter');

// Lab reads overrides.json from <prefix>/share/jupyter/lab/settings: no news, no update checks.
const settings = path.join(venv, 'share', 'jupyter', 'lab', 'settings');
fs.mkdirSync(settings, { recursive: true });
fs.writeFileSync(path.join(settings, 'overrides.json'), JSON.stringify({
  '@jupyterlab/apputils-extension:notification': { fetchNews: 'false', checkForUpdates: false },
}, null, 2));

const args = [
  'lab',
  `--config=${path.join(root, 'scripts', 'jupyter_server_config.py')}`,
  `--ServerApp.root_dir=${path.join(root, 'notebooks')}`,
  `--MappingKernelManager.default_kernel_name=${KERNEL_NAME}`,
  // Containers and CI machines often run as root, which JupyterLab refuses without this.
  ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
  ...process.argv.slice(2),
];
console.log(`JupyterLab on notebooks/ (kernel ${KERNEL_NAME}, CONVNEXT_MODE=${mode}); Ctrl-C stops it`);
// Its own process group, so that stopping it reaches everything it started.
const child = spawn(jupyter, args, {
  cwd: path.join(root, 'notebooks'),
  env: { ...process.env, CONVNEXT_MODE: mode },
  stdio: 'inherit',
  detached: true,
});

let stopping = false;
function stop(): void {
  if (stopping || child.exitCode !== null) return;
  stopping = true;
  // SIGTERM lets Jupyter shut its kernels down; whatever is left after 10 s is killed.
  try { process.kill(-child.pid!, 'SIGTERM'); } catch { /* already gone */ }
  setTimeout(() => {
    try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
  }, 10_000).unref();
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);
/** This process's ancestors below init (Linux's /proc; elsewhere the parent only). */
function ancestors(): number[] {
  const chain: number[] = [];
  for (let pid = process.ppid; pid > 1 && chain.length < 8;) {
    chain.push(pid);
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after its ')'.
      pid = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
    } catch {
      break;
    }
  }
  return chain;
}

// npm (and tsx's launcher) may be killed without passing a signal on: if what started Lab goes, Lab goes too.
const starters = ancestors();
setInterval(() => {
  for (const pid of starters) {
    try { process.kill(pid, 0); } catch { stop(); }
  }
}, 1000).unref();
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
