/**
 * A run folder records itself: the resolved config, the environment and backend, per-epoch metrics as
 * CSV and JSON, a log, TensorBoard scalars (when tfjs-node's summary writer is available) and the
 * checkpoints (checkpoint.ts), and configChanges.json when a resume was allowed to change the config.
 * Every file is written atomically (temporary file + rename). While a process trains into the folder it
 * owns it through `run.lock` (its pid): a second trainer is refused.
 */
import { execSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { backendInfo, tfNode } from '../backend';
import { readJsonFile, writeFileAtomic } from '../util/fs';

type SummaryWriter = ReturnType<NonNullable<typeof tfNode>['node']['summaryFileWriter']>;

export interface EnvironmentInfo {
  backend: ReturnType<typeof backendInfo>;
  node: string;
  platform: string;
  cpus: { model: string; count: number };
  memoryGiB: number;
  hostname: string;
  gitCommit?: string;
  gitDirty?: boolean;
  argv: string[];
  startedAt: string;
}

export function environmentInfo(): EnvironmentInfo {
  const cpus = os.cpus();
  let gitCommit: string | undefined;
  let gitDirty: boolean | undefined;
  try {
    gitCommit = execSync('git rev-parse HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    gitDirty = execSync('git status --porcelain --untracked-files=no', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString().trim().length > 0;
  } catch {
    // Not a git checkout (an installed package): leave the commit out.
  }
  return {
    backend: backendInfo(),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: { model: cpus[0]?.model ?? 'unknown', count: cpus.length },
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    hostname: os.hostname(),
    gitCommit,
    gitDirty,
    argv: process.argv,
    startedAt: new Date().toISOString(),
  };
}

/** Values of one epoch row; the CSV's columns are the union of keys in first-seen order. */
export type MetricRow = Record<string, number | string | null | undefined>;

export class RunDir {
  readonly dir: string;
  private writer?: SummaryWriter | null;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
    fs.mkdirSync(this.dir, { recursive: true });
  }

  get checkpoints(): string {
    return path.join(this.dir, 'checkpoints');
  }

  file(name: string): string {
    return path.join(this.dir, name);
  }

  writeJson(name: string, value: unknown): void {
    writeFileAtomic(this.file(name), `${JSON.stringify(value, jsonReplacer, 1)}\n`);
  }

  readJson<T>(name: string): T | undefined {
    const f = this.file(name);
    return fs.existsSync(f) ? readJsonFile<T>(f) : undefined;
  }

  /** metrics.json and metrics.csv from the whole history (rewritten, so a resumed run has no duplicates). */
  writeMetrics(rows: MetricRow[]): void {
    this.writeJson('metrics.json', rows);
    const cols: string[] = [];
    for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
    const cell = (v: MetricRow[string]): string => (v === undefined || v === null ? '' : String(v));
    const lines = [cols.join(','), ...rows.map((r) => cols.map((c) => cell(r[c])).join(','))];
    writeFileAtomic(this.file('metrics.csv'), `${lines.join('\n')}\n`);
  }

  /**
   * Appends to configChanges.json a change of config accepted on resume (`--allow-config-change`): when,
   * from which position, and each key path's old and new value; config.json then holds the new config.
   */
  recordConfigChanges(entry: { resumedAt: unknown; changes: ReadonlyArray<{ path: string; old: unknown; new: unknown }> }): void {
    const all = this.readJson<unknown[]>('configChanges.json') ?? [];
    this.writeJson('configChanges.json', [...all, { at: new Date().toISOString(), ...entry }]);
  }

  log(line: string): void {
    fs.appendFileSync(this.file('log.txt'), `${new Date().toISOString()} ${line}\n`);
  }

  /** TensorBoard scalar under events/ (no-op where tfjs-node's summary writer is unavailable). */
  scalar(name: string, value: number, step: number): void {
    if (this.writer === undefined) {
      this.writer = tfNode ? tfNode.node.summaryFileWriter(this.file('events')) : null;
    }
    if (this.writer && Number.isFinite(value)) this.writer.scalar(name, value, step);
  }

  flush(): void {
    this.writer?.flush();
  }
}

/** Typed arrays as plain arrays in JSON. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  return value;
}

// ---------------------------------------------------------------------------------------------------
// Ownership: one process trains into a run folder at a time.

/** Who holds a run folder's lock (`<run>/run.lock`). */
export interface LockOwner {
  pid: number;
  hostname: string;
  startedAt: string;
  argv: string[];
}

/** Thrown when another live process owns the run folder. */
export class RunFolderLockedError extends Error {
  override name = 'RunFolderLockedError';
  constructor(readonly dir: string, readonly owner: LockOwner) {
    super(`run folder ${dir} is in use by process ${owner.pid} on ${owner.hostname} (since ${owner.startedAt}): ` +
      `wait for it to finish or stop it, or train into another folder with --out` +
      (owner.hostname === os.hostname() ? '' : ` (if that process is gone, delete ${path.join(dir, RUN_LOCK)})`));
  }
}

export const RUN_LOCK = 'run.lock';

/** Whether process `pid` of this machine is alive (EPERM: alive, someone else's). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Locks held by this process: folder → how many holders (fit inside runFromConfig holds it twice). */
const held = new Map<string, number>();
let exitHook = false;

/**
 * Takes the run folder's lock for this process, or throws RunFolderLockedError naming the live owner. The
 * lock is a file created exclusively with the owner's pid; one left by a dead process of this machine (a
 * killed run) is taken over. Returns the release function; the lock also goes when the process exits.
 */
export function lockRunFolder(dir: string): () => void {
  const abs = path.resolve(dir);
  fs.mkdirSync(abs, { recursive: true });
  const file = path.join(abs, RUN_LOCK);
  const count = held.get(abs) ?? 0;
  if (count === 0) {
    const me: LockOwner = { pid: process.pid, hostname: os.hostname(), startedAt: new Date().toISOString(), argv: process.argv };
    for (let attempt = 0; ; attempt++) {
      try {
        fs.writeFileSync(file, `${JSON.stringify(me)}\n`, { flag: 'wx' });
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        if (attempt >= 3) throw new Error(`run folder ${abs} is locked (${file}) by a process that is starting up; try again`);
      }
      let owner: LockOwner | undefined;
      try {
        owner = JSON.parse(fs.readFileSync(file, 'utf8')) as LockOwner;
      } catch {
        // Unreadable: being written this instant, or a truncated file of a crashed run; decided below.
      }
      const stale = owner
        ? owner.hostname === os.hostname() && owner.pid !== process.pid && !processAlive(owner.pid)
        : Date.now() - safeMtime(file) > 10_000;
      if (owner && owner.hostname === os.hostname() && owner.pid === process.pid) break; // ours, from an earlier holder
      if (!stale) {
        if (owner) throw new RunFolderLockedError(abs, owner);
        continue;
      }
      fs.rmSync(file, { force: true });
    }
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const d of held.keys()) releaseFile(path.join(d, RUN_LOCK));
      });
    }
  }
  held.set(abs, count + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const n = (held.get(abs) ?? 1) - 1;
    if (n > 0) {
      held.set(abs, n);
      return;
    }
    held.delete(abs);
    releaseFile(file);
  };
}

function safeMtime(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** Removes the lock file if it is still this process's. */
function releaseFile(file: string): void {
  try {
    const owner = JSON.parse(fs.readFileSync(file, 'utf8')) as LockOwner;
    if (owner.pid === process.pid && owner.hostname === os.hostname()) fs.rmSync(file, { force: true });
  } catch {
    // Already gone.
  }
}
