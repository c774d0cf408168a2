/** What a notebook runs on: the TensorFlow.js backend, library versions and the host's hardware. */
import * as os from 'os';
import { backendInfo, tf } from '../backend';

export interface EnvironmentInfo {
  backend: string;
  tfjsBackend: string;
  versions: Record<string, string>;
  cpuModel: string;
  cpus: number;
  memoryGiB: number;
  platform: string;
}

/** The TensorFlow C library version behind tfjs-node (only the native backends have one). */
function tensorflowVersion(): string | undefined {
  const binding = (tf.backend() as unknown as { binding?: { TF_Version?: string } }).binding;
  return binding?.TF_Version;
}

export function environmentInfo(): EnvironmentInfo {
  const b = backendInfo();
  const tensorflow = tensorflowVersion();
  const cpus = os.cpus();
  return {
    backend: b.name,
    tfjsBackend: b.tfjsBackend,
    versions: {
      node: process.versions.node,
      'tfjs-core': b.versions['tfjs-core'],
      ...(b.versions['tfjs-node'] ? { 'tfjs-node': b.versions['tfjs-node'] } : {}),
      ...(tensorflow ? { TensorFlow: tensorflow } : {}),
    },
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.type()} ${os.release()} (${os.arch()})`,
  };
}
