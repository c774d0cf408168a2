/** Runs `convnext` through bin/convnext.js, as a user does, and checks its failures. */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as path from 'path';

export const BIN = path.join(__dirname, '..', '..', 'bin', 'convnext.js');

export function runBin(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf-8', env: { ...process.env, DEBUG: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Asserts a failed run whose last stderr line is one `convnext: error:` line matching `re`, without a stack. */
export function assertFails(args: string[], re: RegExp): { status: number | null; stdout: string; stderr: string } {
  const r = runBin(args);
  assert.notEqual(r.status, 0, `exit status for ${args.join(' ')}`);
  const lines = r.stderr.trim().split('\n');
  assert.match(lines[lines.length - 1], /^convnext: error: /, r.stderr);
  assert.match(lines[lines.length - 1], re, r.stderr);
  assert.ok(!/\n\s+at /.test(r.stderr), `no stack trace:\n${r.stderr}`);
  return r;
}
