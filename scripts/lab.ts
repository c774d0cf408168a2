/**
 * `npm run lab`: JupyterLab on notebooks/ with the convnext-ts kernel as the default for new
 * notebooks. Extra arguments go to JupyterLab: `npm run lab -- --port 8890 --no-browser`.
 * CONVNEXT_MODE in the environment reaches the kernels (default quick).
 */
import { spawn } from 'child_process';
import * as path from 'path';
import { parseMode } from '../src/notebook/mode';
import { KERNEL_NAME, venvPython } from '../src/notebook/runner';

const root = path.resolve(__dirname, '..');
const mode = parseMode(process.env.CONVNEXT_MODE);
const jupyter = path.join(path.dirname(venvPython()), 'jupyter');
const args = [
  'lab',
  `--ServerApp.root_dir=${path.join(root, 'notebooks')}`,
  `--MappingKernelManager.default_kernel_name=${KERNEL_NAME}`,
  // Containers and CI machines often run as root, which JupyterLab refuses without this.
  ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
  ...process.argv.slice(2),
];
console.log(`JupyterLab on notebooks/ (kernel ${KERNEL_NAME}, CONVNEXT_MODE=${mode}); Ctrl-C stops it`);
const child = spawn(jupyter, args, {
  cwd: path.join(root, 'notebooks'),
  env: { ...process.env, CONVNEXT_MODE: mode },
  stdio: 'inherit',
});
// Ctrl-C reaches JupyterLab through the terminal; it asks before stopping, so only forward SIGTERM.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
