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
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`convnext: error: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
      process.exitCode = 1;
    }
  };
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
