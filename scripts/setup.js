#!/usr/bin/env node
// Idempotent project setup, run by `npm test`, `npm run report` and `npm run lab`.
//
// 1. Makes @tensorflow/tfjs-node (and tfjs-node-gpu when installed) loadable. Its own install script
//    downloads libtensorflow from Google's storage; where that fails (offline machines), the native
//    binding is built against libtensorflow_cc.so.2 from the tensorflow_cpu wheel that pip can find.
// 2. With --jupyter: a Python virtualenv in .venv with JupyterLab and nbconvert, and the project's
//    tslab kernelspec (which starts tslab at the repository root so notebooks can import src/).
'use strict';
const fs = require('fs');
const path = require('path');
const cp = require('child_process');

const root = path.resolve(__dirname, '..');
const TF_WHEEL_VERSION = process.env.CONVNEXT_TF_WHEEL_VERSION || '2.21.0';
const JUPYTER_PACKAGES = ['jupyterlab', 'notebook', 'nbconvert', 'nbclient', 'ipykernel'];

function log(msg) {
  console.error(`[setup] ${msg}`);
}

function run(cmd, args, opts = {}) {
  const r = cp.spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}`);
}

function loads(pkg) {
  const r = cp.spawnSync(process.execPath, ['-e', `require(${JSON.stringify(pkg)})`], {
    cwd: root, stdio: 'pipe', encoding: 'utf8',
  });
  return r.status === 0;
}

function pkgDir(pkg) {
  try {
    return path.dirname(require.resolve(`${pkg}/package.json`, { paths: [root] }));
  } catch {
    return null;
  }
}

/** The official path: the package's own install script (downloads libtensorflow + a prebuilt addon). */
function tryOfficialInstall(dir) {
  log(`running ${path.basename(dir)}'s own install script`);
  const r = cp.spawnSync(process.execPath, ['scripts/install.js'], {
    cwd: dir, stdio: 'inherit', timeout: 600_000,
  });
  return r.status === 0;
}

/** Locates (or fetches with pip, which may use a local wheelhouse) the tensorflow_cpu wheel. */
function findTensorflowWheel() {
  if (process.env.CONVNEXT_TF_WHEEL) return process.env.CONVNEXT_TF_WHEEL;
  const dest = path.join(root, '.cache', 'wheels');
  const existing = () => fs.existsSync(dest)
    ? fs.readdirSync(dest).find((f) => f.startsWith(`tensorflow_cpu-${TF_WHEEL_VERSION}-`) && f.endsWith('.whl'))
    : undefined;
  if (!existing()) {
    log(`fetching tensorflow_cpu==${TF_WHEEL_VERSION} with pip (only its shared libraries are used)`);
    run('python3', ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '-d', dest,
      `tensorflow_cpu==${TF_WHEEL_VERSION}`]);
  }
  const whl = existing();
  if (!whl) throw new Error(`pip did not produce a tensorflow_cpu wheel in ${dest}`);
  return path.join(dest, whl);
}

/** Extracts libtensorflow and the C API headers from the wheel into <tfjs-node>/deps. */
function stageLibtensorflowFromWheel(dir, wheel) {
  const deps = path.join(dir, 'deps');
  fs.rmSync(deps, { recursive: true, force: true });
  fs.mkdirSync(path.join(deps, 'lib'), { recursive: true });
  log(`extracting libtensorflow from ${path.basename(wheel)}`);
  const script = `
import sys, zipfile, os, shutil
whl, deps = sys.argv[1], sys.argv[2]
libs = {'tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'}
headers = ('tensorflow/include/tensorflow/c/', 'tensorflow/include/tensorflow/core/platform/',
           'tensorflow/include/tsl/', 'tensorflow/include/xla/tsl/c/', 'tensorflow/include/xla/tsl/platform/')
with zipfile.ZipFile(whl) as z:
    for info in z.infolist():
        name = info.filename
        if name in libs:
            dst = os.path.join(deps, 'lib', os.path.basename(name))
        elif name.startswith(headers) and not name.endswith('/'):
            dst = os.path.join(deps, 'include', name[len('tensorflow/include/'):])
        else:
            continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with z.open(info) as src, open(dst, 'wb') as out:
            shutil.copyfileobj(src, out, 1 << 22)
`;
  run('python3', ['-c', script, wheel, deps]);
  const lib = path.join(deps, 'lib');
  // tfjs-node links -ltensorflow; the wheel's libtensorflow_cc exports the whole C API.
  fs.symlinkSync('libtensorflow_cc.so.2', path.join(lib, 'libtensorflow.so.2'));
  fs.symlinkSync('libtensorflow.so.2', path.join(lib, 'libtensorflow.so'));
  fs.symlinkSync('libtensorflow_framework.so.2', path.join(lib, 'libtensorflow_framework.so'));
}

function buildBinding(dir) {
  log('building the tfjs-node native binding (node-gyp)');
  const args = [require.resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp', { paths: [dir] }),
    'install', '--build-from-source'];
  // Use the local Node headers when this Node ships them, so node-gyp needs no download.
  const nodedir = path.resolve(process.execPath, '..', '..');
  if (fs.existsSync(path.join(nodedir, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${nodedir}`);
  run(process.execPath, args, { cwd: dir });
}

function ensureTfjsNode(pkg) {
  const dir = pkgDir(pkg);
  if (!dir) return false;
  if (loads(pkg)) return true;
  const offline = process.env.CONVNEXT_OFFLINE === '1';
  if (!offline && tryOfficialInstall(dir) && loads(pkg)) return true;
  if (pkg.endsWith('-gpu')) {
    log(`${pkg} could not be installed (it needs its CUDA libtensorflow download); see environment.md`);
    return false;
  }
  log('falling back to the tensorflow_cpu wheel');
  stageLibtensorflowFromWheel(dir, findTensorflowWheel());
  buildBinding(dir);
  if (!loads(pkg)) throw new Error(`${pkg} still fails to load after building; see environment.md`);
  return true;
}

function venvPython() {
  return path.join(root, '.venv', 'bin', 'python');
}

function ensureJupyter() {
  const marker = path.join(root, '.venv', '.convnext-jupyter-ok');
  if (!fs.existsSync(marker)) {
    if (!fs.existsSync(venvPython())) {
      log('creating .venv');
      run('python3', ['-m', 'venv', path.join(root, '.venv')]);
    }
    log(`installing ${JUPYTER_PACKAGES.join(', ')} into .venv`);
    // Offline machines list an unreachable index first; pip's default 5 retries with backoff cost
    // seconds for each of JupyterLab's ~90 dependencies before it falls back to the local wheels.
    run(venvPython(), ['-m', 'pip', 'install', '--quiet', ...JUPYTER_PACKAGES], {
      env: { ...process.env, PIP_RETRIES: process.env.PIP_RETRIES ?? '0' },
    });
    fs.writeFileSync(marker, JUPYTER_PACKAGES.join('\n'));
  }
  installKernelspec();
}

/** The project kernel: tslab started at the repository root (tslab only imports files below its cwd). */
function installKernelspec() {
  const dir = path.join(root, '.venv', 'share', 'jupyter', 'kernels', 'convnext-ts');
  fs.mkdirSync(dir, { recursive: true });
  const spec = {
    argv: [process.execPath, path.join(root, 'scripts', 'tslab-kernel.js'), '{connection_file}'],
    display_name: 'TypeScript (convnext-ts)',
    language: 'typescript',
  };
  fs.writeFileSync(path.join(dir, 'kernel.json'), JSON.stringify(spec, null, 2));
}

function main() {
  const wantJupyter = process.argv.includes('--jupyter');
  if (!ensureTfjsNode('@tensorflow/tfjs-node')) {
    log('@tensorflow/tfjs-node is not installed; the library will fall back to wasm or cpu');
  }
  if (pkgDir('@tensorflow/tfjs-node-gpu')) ensureTfjsNode('@tensorflow/tfjs-node-gpu');
  if (wantJupyter) ensureJupyter();
}

try {
  main();
} catch (err) {
  console.error(`[setup] failed: ${err.message}`);
  process.exit(1);
}
