/**
 * Runs the notebooks headless with the `convnext-ts` kernel and writes the report: for each notebook
 * `<out>/<name>.html` and the executed `<out>/<name>.ipynb`, then `<out>/index.html` and
 * `<out>/summary.json`. `npm run report` and the notebook tests both go through `runReport`.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { escapeHtml } from '../util/html';
import { Mode, mode as currentMode } from './mode';
import { writeFileAtomic } from '../util/fs';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const KERNEL_NAME = 'convnext-ts';

export interface ReportOptions {
  notebooksDir?: string;
  outDir?: string;
  mode?: Mode;
  /** Runs the notebooks whose names start with one of these (`['01']`, `['00-environment']`). */
  only?: string[];
  /** Seconds for each whole notebook (default by mode: smoke 10 min, quick 2 h, full 48 h). */
  timeoutS?: number;
  /**
   * Notebooks executed at once (default 1). Each runs in its own kernel, so results do not change, but
   * timings measured inside notebooks do: keep 1 for reports whose speeds matter.
   */
  jobs?: number;
  onEvent?: (event: RunEvent) => void;
}

export type RunEvent =
  | { type: 'notebook-start'; name: string; index: number; total: number }
  | { type: 'kernel-ready'; name: string; cells: number }
  | { type: 'cell-done'; name: string; cell: number; cells: number; seconds: number }
  | { type: 'notebook-done'; result: NotebookResult };

export interface NotebookResult {
  name: string;
  title: string;
  status: 'ok' | 'error';
  /** For errors: "error", "timeout" or "dead kernel". */
  kind?: string;
  /** 1-based index of the failing code cell. */
  cell?: number;
  source?: string;
  message?: string;
  stderr?: string;
  mode: Mode;
  seconds: number;
  finishedAt: string;
  html: string;
  ipynb: string;
}

export interface ReportSummary {
  mode: Mode;
  startedAt: string;
  seconds: number;
  host: { cpus: number; cpuModel: string; memoryGiB: number; node: string };
  notebooks: NotebookResult[];
}

const DEFAULT_TIMEOUT_S: Record<Mode, number> = { smoke: 600, quick: 7200, full: 172800 };

/** The project's Python (from `node scripts/setup.js --jupyter`), checked with a clear error. */
export function venvPython(): string {
  const python = path.join(REPO_ROOT, '.venv', 'bin', 'python');
  const spec = path.join(REPO_ROOT, '.venv', 'share', 'jupyter', 'kernels', KERNEL_NAME, 'kernel.json');
  if (!fs.existsSync(python) || !fs.existsSync(spec)) {
    throw new Error(`Jupyter is not set up (${path.relative(REPO_ROOT, fs.existsSync(python) ? spec : python)} ` +
      'is missing): run `node scripts/setup.js --jupyter`');
  }
  return python;
}

/** Notebooks in name order, optionally only those whose names start with one of `only`. */
export function listNotebooks(dir: string, only?: string[]): string[] {
  if (!fs.existsSync(dir)) throw new Error(`notebook folder ${dir} does not exist`);
  const all = fs.readdirSync(dir).filter((f) => f.endsWith('.ipynb')).sort();
  if (!only || only.length === 0) return all.map((f) => path.join(dir, f));
  const picked = all.filter((f) => only.some((o) => f.startsWith(o)));
  const unmatched = only.filter((o) => !all.some((f) => f.startsWith(o)));
  if (unmatched.length > 0) {
    throw new Error(`no notebook in ${dir} matches ${unmatched.join(', ')}; notebooks: ${all.join(', ')}`);
  }
  return picked.map((f) => path.join(dir, f));
}

/** The first markdown heading of a notebook, else its file name. */
export function notebookTitle(file: string): string {
  const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: { cell_type: string; source: string | string[] }[] };
  for (const cell of nb.cells) {
    if (cell.cell_type !== 'markdown') continue;
    const src = Array.isArray(cell.source) ? cell.source.join('') : cell.source;
    const heading = src.split('\n').find((l) => /^#+\s/.test(l));
    if (heading) return heading.replace(/^#+\s*/, '').trim();
  }
  return path.basename(file, '.ipynb');
}

/** Executes one notebook in a fresh kernel and exports it; never throws for a failing cell. */
export function executeNotebook(
  file: string, outDir: string, m: Mode, timeoutS: number, onEvent?: (e: RunEvent) => void,
): Promise<NotebookResult> {
  const name = path.basename(file, '.ipynb');
  const html = path.join(outDir, `${name}.html`);
  const ipynb = path.join(outDir, `${name}.ipynb`);
  const script = path.join(__dirname, 'execute_notebook.py');
  const args = [script, file, ipynb, html, '--kernel', KERNEL_NAME, '--timeout', String(timeoutS)];
  const env = { ...process.env, CONVNEXT_MODE: m, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2' };
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(venvPython(), args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let done: Record<string, unknown> | undefined;
    let cells = 0;
    let buffered = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const ev = JSON.parse(line) as Record<string, unknown>;
        if (ev.event === 'start') {
          cells = ev.cells as number;
          onEvent?.({ type: 'kernel-ready', name, cells });
        } else if (ev.event === 'cell') {
          onEvent?.({ type: 'cell-done', name, cell: ev.index as number, cells, seconds: ev.seconds as number });
        } else if (ev.event === 'done') {
          done = ev;
        }
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-20_000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (!done) {
        reject(new Error(`executing ${name} failed (exit ${code}) before it finished:\n${stderr.trim()}`));
        return;
      }
      const result: NotebookResult = {
        name,
        title: notebookTitle(file),
        status: done.status === 'ok' ? 'ok' : 'error',
        kind: done.kind as string | undefined,
        cell: done.cell as number | undefined,
        source: done.source as string | undefined,
        message: done.message as string | undefined,
        stderr: done.stderr as string | undefined,
        mode: m,
        seconds: (Date.now() - started) / 1000,
        finishedAt: new Date().toISOString(),
        html,
        ipynb,
      };
      onEvent?.({ type: 'notebook-done', result });
      resolve(result);
    });
  });
}

function hostInfo(): ReportSummary['host'] {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
  };
}

/** The report's front page: every notebook with its status, mode and duration. */
export function indexHtml(summary: ReportSummary): string {
  const rows = summary.notebooks.map((r) => {
    const status = r.status === 'ok'
      ? '<span style="color:#1a7f37">ok</span>'
      : `<span style="color:#cf222e">${escapeHtml(r.kind ?? 'error')} in code cell ${r.cell ?? '?'}</span>` +
        (r.message ? `<br><small>${escapeHtml(r.message)}</small>` : '');
    const html = path.basename(r.html);
    const ipynb = path.basename(r.ipynb);
    return `<tr><td><a href="${escapeHtml(html)}">${escapeHtml(r.name)}</a></td><td>${escapeHtml(r.title)}</td>` +
      `<td>${status}</td><td>${r.mode}</td><td style="text-align:right">${r.seconds.toFixed(1)} s</td>` +
      `<td><a href="${escapeHtml(ipynb)}">.ipynb</a></td></tr>`;
  }).join('\n');
  const failed = summary.notebooks.filter((r) => r.status !== 'ok').length;
  const h = summary.host;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>convnext-ts report (mode: ${summary.mode})</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}td,th{padding:4px 12px;border-bottom:1px solid #ddd;text-align:left}</style>
</head><body>
<h1>convnext-ts notebooks (mode: ${summary.mode})</h1>
<p>${summary.notebooks.length} notebooks, ${failed === 0 ? 'all ran without errors' : `<b>${failed} failed</b>`};
started ${escapeHtml(summary.startedAt)}, ${summary.seconds.toFixed(1)} s in all.
Machine: ${h.cpus} × ${escapeHtml(h.cpuModel)}, ${h.memoryGiB} GiB, Node ${escapeHtml(h.node)}.</p>
<table style="border-collapse:collapse">
<thead><tr><th>notebook</th><th>title</th><th>status</th><th>mode</th><th>duration</th><th>executed</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}

function previousResults(outDir: string): NotebookResult[] {
  const file = path.join(outDir, 'summary.json');
  if (!fs.existsSync(file)) return [];
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as ReportSummary).notebooks
      .filter((r) => fs.existsSync(r.html));
  } catch {
    return []; // an unreadable summary only costs the old rows
  }
}

/** Executes the notebooks (in name order, `jobs` at a time) and writes the report; resolves even when cells fail. */
export async function runReport(opts: ReportOptions = {}): Promise<ReportSummary> {
  const m = opts.mode ?? currentMode;
  const notebooksDir = opts.notebooksDir ?? path.join(REPO_ROOT, 'notebooks');
  const outDir = opts.outDir ?? path.join(REPO_ROOT, 'reports');
  const files = listNotebooks(notebooksDir, opts.only);
  venvPython();
  fs.mkdirSync(outDir, { recursive: true });
  const summary: ReportSummary = {
    mode: m, startedAt: new Date().toISOString(), seconds: 0, host: hostInfo(), notebooks: [],
  };
  // A partial run (--only) keeps the earlier results of the other notebooks on the front page.
  const names = new Set(files.map((f) => path.basename(f, '.ipynb')));
  const kept = opts.only ? previousResults(outDir).filter((r) => !names.has(r.name)) : [];
  const t0 = Date.now();
  const results: NotebookResult[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      opts.onEvent?.({ type: 'notebook-start', name: path.basename(files[i], '.ipynb'), index: i, total: files.length });
      results.push(await executeNotebook(files[i], outDir, m, opts.timeoutS ?? DEFAULT_TIMEOUT_S[m], opts.onEvent));
      summary.seconds = (Date.now() - t0) / 1000;
      summary.notebooks = [...kept, ...results].sort((a, b) => a.name.localeCompare(b.name));
      // Rewritten after every notebook, so an interrupted run still links what finished.
      writeFileAtomic(path.join(outDir, 'index.html'), indexHtml(summary));
      writeFileAtomic(path.join(outDir, 'summary.json'), JSON.stringify(summary, null, 2));
    }
  };
  const jobs = Math.max(1, Math.min(opts.jobs ?? 1, files.length));
  await Promise.all(Array.from({ length: jobs }, worker));
  return { ...summary, notebooks: [...results].sort((a, b) => a.name.localeCompare(b.name)) };
}
