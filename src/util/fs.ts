/**
 * The one way this project writes a file that others may read at any moment (weights, checkpoints, caches,
 * reports): into a temporary file unique to this process and call, flushed to disk, then renamed over the
 * target, so a reader sees the old file or the new one, never half of one.
 */
import * as fs from 'fs';
import * as path from 'path';

let counter = 0;

/** A temporary path beside `file`, unique to this process and call. */
export function tempPathFor(file: string): string {
  return `${file}.${process.pid}-${counter++}.tmp`;
}

/** Writes `data` (text, bytes, or byte chunks written in order) to `file` atomically. */
export function writeFileAtomic(file: string, data: string | Uint8Array | readonly Uint8Array[]): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = tempPathFor(file);
  const chunks = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
  const fd = fs.openSync(tmp, 'w');
  try {
    for (const bytes of chunks) {
      // writeSync may write less than asked for very large buffers; loop until done.
      for (let done = 0; done < bytes.length;) done += fs.writeSync(fd, bytes, done, bytes.length - done);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, file);
  } catch (err) {
    try { fs.closeSync(fd); } catch { /* already closed */ }
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** Reads and parses a JSON file; a parse error names the file. */
export function readJsonFile<T = unknown>(file: string): T {
  const text = fs.readFileSync(file, 'utf8');
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}
