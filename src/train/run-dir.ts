/**
 * A run folder records itself: the resolved config, the environment and backend, per-epoch metrics as
 * CSV and JSON, a log, TensorBoard scalars (when tfjs-node's summary writer is available) and the
 * checkpoints (checkpoint.ts). Every file is written atomically (temporary file + rename).
 */
import { execSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { backendInfo, tfNode } from '../backend';
import { writeFileAtomic } from '../util/fs';

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
    return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, 'utf8')) as T) : undefined;
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
