/**
 * Compiles a Node-API addon from one C++ source on first use and caches the build in `.cache/native/`,
 * keyed by the source, compiler flags, link inputs, Node version and CPU (builds use -march=native).
 */
import * as cp from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { threadId } from 'worker_threads';

const CACHE_DIR = path.resolve(__dirname, '..', '..', '.cache', 'native');
const FLAGS = ['-O3', '-march=native', '-mprefer-vector-width=512', '-fopenmp-simd', '-std=c++17', '-shared', '-fPIC', '-pthread'];

export interface AddonSource {
  /** File name prefix of the cached builds; older builds under it are removed. */
  name: string;
  source: string;
  /** Compiler flags beyond the common ones. */
  flags?: string[];
  /** Linker arguments; `keyFiles` are files whose identity (path and size) the build depends on. */
  link?: string[];
  keyFiles?: string[];
}

function nodeIncludeDir(): string {
  const candidates = [
    path.resolve(process.execPath, '..', '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ];
  const dir = candidates.find((d) => fs.existsSync(path.join(d, 'node_api.h')));
  if (!dir) throw new Error(`node_api.h not found (looked in ${candidates.join(', ')})`);
  return dir;
}

/** Compiles the addon unless a build for this source, toolchain and machine is cached; returns its path. */
export function buildAddon({ name, source, flags = [], link = [], keyFiles = [] }: AddonSource): string {
  const cxx = process.env.CXX ?? 'g++';
  const all = [...FLAGS, ...flags];
  const include = nodeIncludeDir();
  const hash = crypto.createHash('sha256')
    .update(fs.readFileSync(source)).update(all.join(' ')).update(link.join(' ')).update(cxx).update(process.version)
    .update(os.cpus()[0]?.model ?? '');
  for (const f of keyFiles) hash.update(f).update(String(fs.statSync(f).size));
  const out = path.join(CACHE_DIR, `${name}-${hash.digest('hex').slice(0, 16)}.node`);
  if (fs.existsSync(out)) return out;
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  // Loader worker threads share the pid and may build at once.
  const tmp = `${out}.${process.pid}-${threadId}.tmp`;
  const r = cp.spawnSync(cxx, [...all, `-I${include}`, source, ...link, '-o', tmp], { encoding: 'utf8' });
  if (r.error) throw new Error(`${cxx} could not run: ${r.error.message}`);
  if (r.status !== 0) {
    fs.rmSync(tmp, { force: true });
    throw new Error(`${cxx} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(0, 5).join(' | ')}`);
  }
  fs.renameSync(tmp, out); // atomic: concurrent builders all end with a complete file
  // Builds of older sources are never loaded again (a process that has one open keeps its mapping).
  const stale = new RegExp(`^${name}-[0-9a-f]+\\.node$`);
  for (const f of fs.readdirSync(CACHE_DIR)) {
    if (stale.test(f) && path.join(CACHE_DIR, f) !== out) fs.rmSync(path.join(CACHE_DIR, f), { force: true });
  }
  return out;
}
