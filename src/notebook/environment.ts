/** What a notebook runs on: the TensorFlow.js backend, library versions and the host's hardware. */
import * as os from 'os';
import { backendInfo, tf } from '../backend';
import { type Row, vsPaper } from './table';

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

/** The "Software" table's rows: our framework and versions beside the paper's PyTorch + timm. */
export function softwareRows(env: EnvironmentInfo): Row[] {
  return [
    { item: 'framework', ...vsPaper('setting', 'PyTorch + timm', `TensorFlow.js, backend ${env.backend} ("${env.tfjsBackend}")`) },
    ...Object.entries(env.versions).map(([name, version]) => ({ item: name, ...vsPaper('setting', null, version) })),
  ];
}

/** The "Hardware" table's rows: this machine beside the paper's V100 (Table 1's throughput). */
export function hardwareRows(env: EnvironmentInfo): Row[] {
  return [
    { item: 'processor', ...vsPaper('setting', 'NVIDIA V100 GPU (Table 1 throughput)', env.cpuModel) },
    { item: 'logical cores', ...vsPaper('setting', null, env.cpus) },
    { item: 'memory (GiB)', ...vsPaper('setting', null, env.memoryGiB) },
    { item: 'operating system', ...vsPaper('setting', null, env.platform) },
  ];
}
