/**
 * A lock across processes for building a dataset folder. The report runs two notebook kernels at once,
 * and both may prepare CIFAR-10 on a fresh machine: without the lock the second one's replace-into-place
 * deletes the folder while the first is already reading it.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as lockfile from 'proper-lockfile';

/** Runs `build` while holding `<dir>.lock`; waits for another process that holds it. */
export async function withFolderLock<T>(dir: string, build: () => Promise<T>): Promise<T> {
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  // The holder refreshes the lock every 10 s; one not refreshed for 60 s belongs to a dead process.
  const release = await lockfile.lock(dir, {
    realpath: false,
    lockfilePath: `${dir}.lock`,
    stale: 60_000,
    update: 10_000,
    retries: { forever: true, minTimeout: 100, maxTimeout: 1000 },
  });
  try {
    return await build();
  } finally {
    await release();
  }
}
