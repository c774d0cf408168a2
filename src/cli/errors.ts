/**
 * Errors the CLI reports as one line on stderr with a non-zero exit, without a stack trace (set DEBUG=1
 * to see it). Any error thrown inside a command's action is reported this way.
 */
import { InvalidArgumentError } from 'commander';

/** Wraps a command action: errors become `convnext: error: <message>` and exit code 1. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      if (process.env.DEBUG) console.error(err);
      const message = describeError(err);
      process.stderr.write(`convnext: error: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
      process.exitCode = 1;
    }
  };
}

/**
 * The message a user sees for an error: Node's file-system errors (raw `EISDIR: illegal operation on a
 * directory, read`) become sentences that name the path where Node gives one; other errors keep theirs.
 */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as NodeJS.ErrnoException;
  const p = e.path ?? (e as { dest?: string }).dest;
  const known: Record<string, (p: string) => string> = {
    EEXIST: (f) => (e.syscall === 'mkdir' ? `${f} already exists and is not a folder` : `${f} already exists`),
    EISDIR: (f) => `${f} is a folder, expected a file`,
    ENOTDIR: (f) => `${f}: a part of this path is a file, not a folder`,
    ENOENT: (f) => `no such file or folder: ${f}`,
    EACCES: (f) => `permission denied: ${f}`,
    EPERM: (f) => `operation not permitted on ${f}`,
    ENOSPC: (f) => `no space left on the device while writing ${f}`,
    EROFS: (f) => `${f} is on a read-only file system`,
    EMFILE: () => 'too many open files',
  };
  if (typeof e.code === 'string' && e.code in known && typeof e.syscall === 'string') {
    if (p) return `${known[e.code](p)} (${e.code} in ${e.syscall})`;
    if (e.code === 'EISDIR') return `a folder was given where a file is expected (${e.code} in ${e.syscall})`;
    if (e.code === 'ENOSPC') return `no space left on the device (${e.code} in ${e.syscall})`;
  }
  return e.message;
}

/** Option parser for positive integers (commander calls it with the raw string). */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  }
  return n;
}

/** Option parser for a fraction in (0, 1]. */
export function fraction(value: string): number {
  const x = Number(value);
  if (!(x > 0 && x <= 1)) throw new InvalidArgumentError(`expected a number in (0, 1], got "${value}"`);
  return x;
}

/**
 * Loads a command's implementation for a command that computes nothing with tensors (`info`, which builds
 * shape-only models, and `export-recipe`): on TensorFlow.js's pure-JavaScript backend unless CONVNEXT_BACKEND
 * names one, so the native library (and its C++ start-up log lines) is never loaded — about half the time.
 * Where the backend is loaded already (tests, notebooks) this only requires the module.
 */
export function loadWithoutNativeBackend<T>(load: () => T): T {
  if (process.env.CONVNEXT_BACKEND) return load();
  process.env.CONVNEXT_BACKEND = 'cpu';
  try {
    const loaded = load();
    // The pure-JS backend's "install our node backend to speed things up" banner: nothing here computes.
    if (require.cache[require.resolve('../backend')]) {
      const { tf } = require('../backend') as typeof import('../backend');
      if (tf.getBackend() === 'cpu') tf.env().set('PROD', true);
    }
    return loaded;
  } finally {
    delete process.env.CONVNEXT_BACKEND;
  }
}
