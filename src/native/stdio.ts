/** Runs code with this process's stderr silenced at the file-descriptor level (C++ output included). */
import * as path from 'path';
import { buildAddon } from './build';

interface StdioOps {
  silence(): number;
  restore(saved: number): void;
}

/**
 * Runs `fn` with fd 2 pointed at /dev/null, then restores it, also when `fn` throws (the error is reported
 * afterwards as usual). Without a compiler it just runs `fn`.
 */
export function withStderrSilenced<T>(fn: () => T): T {
  let ops: StdioOps;
  try {
    ops = require(buildAddon({ name: 'stdio_ops', source: path.join(__dirname, 'stdio_ops.cc'), flags: ['-O1'] })) as StdioOps;
  } catch {
    return fn();
  }
  const saved = ops.silence();
  try {
    return fn();
  } finally {
    ops.restore(saved);
  }
}
