/**
 * The one place TensorFlow.js is imported from. It picks the fastest backend that works here:
 * tfjs-node-gpu (installed and a GPU visible) → tfjs-node → wasm → cpu. `CONVNEXT_BACKEND`
 * (node-gpu | node | wasm | cpu) forces one.
 */
import * as fs from 'fs';

// TensorFlow's C++ info logs (oneDNN, CPU features) drown notebook and CLI output.
process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';

import * as tf from '@tensorflow/tfjs';

export type BackendName = 'node-gpu' | 'node' | 'wasm' | 'cpu';
type TfNode = typeof import('@tensorflow/tfjs-node');

const ORDER: BackendName[] = ['node-gpu', 'node', 'wasm', 'cpu'];

const TFJS_BACKEND: Record<BackendName, string> = {
  'node-gpu': 'tensorflow',
  node: 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

function gpuVisible(): boolean {
  return fs.existsSync('/dev/nvidia0');
}

/** Registers a backend package; returns the tfjs-node module for the native backends. */
function tryLoad(name: BackendName): { ok: boolean; node?: TfNode } {
  try {
    switch (name) {
      case 'node-gpu':
        return gpuVisible() ? { ok: true, node: require('@tensorflow/tfjs-node-gpu') } : { ok: false };
      case 'node':
        return { ok: true, node: require('@tensorflow/tfjs-node') };
      case 'wasm':
        require('@tensorflow/tfjs-backend-wasm');
        return { ok: true };
      case 'cpu':
        return { ok: true };
    }
  } catch {
    return { ok: false };
  }
}

function parseForced(): BackendName | undefined {
  const forced = process.env.CONVNEXT_BACKEND;
  if (forced === undefined || forced === '') return undefined;
  if (!(ORDER as string[]).includes(forced)) {
    throw new Error(`CONVNEXT_BACKEND=${forced} is not one of ${ORDER.join(', ')}`);
  }
  return forced as BackendName;
}

function load(): { name: BackendName; node?: TfNode } {
  const forced = parseForced();
  for (const name of forced ? [forced] : ORDER) {
    const r = tryLoad(name);
    if (r.ok) return { name, node: r.node };
  }
  throw new Error(`backend ${forced} could not be loaded; run \`npm run setup\` (see environment.md)`);
}

const loaded = load();

/**
 * Every backend package shares the one tfjs-core engine, so the plain `@tensorflow/tfjs` namespace runs
 * on whichever backend was registered; it doubles as the type namespace (`tf.Tensor4D`).
 */
export { tf };

/** tfjs-node's extras (`node.decodeImage`, summary writers), when a native backend is active. */
export const tfNode: TfNode | undefined = loaded.node;

let ready: Promise<void> | undefined;

/** Activates the chosen backend; wasm initialises asynchronously, so await this once before work. */
export function initBackend(): Promise<void> {
  ready ??= (async () => {
    const ok = await tf.setBackend(TFJS_BACKEND[loaded.name]);
    if (!ok) throw new Error(`TensorFlow.js backend ${loaded.name} failed to initialise`);
    await tf.ready();
  })();
  return ready;
}

if (loaded.name !== 'wasm') {
  // The native and cpu backends initialise synchronously, so plain imports work without awaiting.
  void tf.setBackend(TFJS_BACKEND[loaded.name]);
}

export interface BackendInfo {
  name: BackendName;
  tfjsBackend: string;
  versions: Record<string, string>;
}

export function backendInfo(): BackendInfo {
  const versions: Record<string, string> = { ...tf.version };
  if (loaded.node) versions['tfjs-node'] = loaded.node.version['tfjs-node'];
  return { name: loaded.name, tfjsBackend: tf.getBackend(), versions };
}
