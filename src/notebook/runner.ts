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
import { HEADLINE_DIR_ENV, type Headline, type HeadlineTable, PAPER_SOURCE, STUDY_SOURCE, quotedImagenetTable, readHeadline } from './headline';
import { Mode, mode as currentMode } from './mode';
import { expectedSeconds, formatDuration } from './timings';
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
  | { type: 'notebook-start'; name: string; index: number; total: number; mode: Mode; /** Measured seconds (timings.ts); undefined: never measured. */ expectedS?: number }
  | { type: 'kernel-ready'; name: string; cells: number; /** Seconds since the notebook started. */ elapsedS: number }
  | { type: 'cell-done'; name: string; cell: number; cells: number; seconds: number; /** Seconds since the notebook started. */ elapsedS: number }
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
  /** The measured time of this notebook in its mode (timings.ts), when there is one. */
  expectedSeconds?: number;
  finishedAt: string;
  html: string;
  ipynb: string;
  /** The headline record the notebook emitted (headline.ts), when it emitted one. */
  headline?: Headline;
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
  // The notebook writes its headline record (emitHeadline) into <out>/headlines/; an old one must not outlive this run.
  const headlineDir = path.join(outDir, 'headlines');
  fs.rmSync(path.join(headlineDir, `${name}.json`), { force: true });
  const env = {
    ...process.env, CONVNEXT_MODE: m, [HEADLINE_DIR_ENV]: headlineDir, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2',
  };
  const started = Date.now();
  const elapsedS = () => (Date.now() - started) / 1000;
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
          onEvent?.({ type: 'kernel-ready', name, cells, elapsedS: elapsedS() });
        } else if (ev.event === 'cell') {
          onEvent?.({ type: 'cell-done', name, cell: ev.index as number, cells, seconds: ev.seconds as number, elapsedS: elapsedS() });
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
        seconds: elapsedS(),
        expectedSeconds: expectedSeconds(name, m),
        finishedAt: new Date().toISOString(),
        html,
        ipynb,
      };
      const headline = readHeadline(headlineDir, name);
      if (headline) result.headline = headline;
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

/** A headline table as HTML; numbers keep the digits the notebook gave them, missing values show "—". */
export function headlineTableHtml(t: HeadlineTable, source?: { name: string; mode: Mode }): string {
  // Numbers of a column share its largest number of decimals (at most 2), so 84 prints as 84.0 beside 83.8.
  const decimals = (v: number) => Math.min(2, (String(v).split('.')[1] ?? '').length);
  const digits = t.columns.map((_, i) => Math.max(0, ...t.rows.map((r) => (typeof r[i] === 'number' ? decimals(r[i] as number) : 0))));
  const text = (v: unknown, i: number) => (typeof v === 'number' ? v.toFixed(digits[i]) : String(v));
  const cell = (v: unknown, i = -1) => (v === null || v === undefined || v === '' ? '—' : escapeHtml(text(v, i)));
  const num = (v: unknown) => (typeof v === 'number' ? ' class="num"' : '');
  const from = source ? ` <small>(from <a href="${escapeHtml(source.name)}.html">${escapeHtml(source.name)}</a>, mode: ${source.mode})</small>` : '';
  return `<table class="headline"><caption>${escapeHtml(t.caption)}${from}</caption>\n` +
    `<thead><tr>${t.columns.map((c) => `<th>${cell(c)}</th>`).join('')}</tr></thead>\n<tbody>\n` +
    t.rows.map((r) => `<tr>${r.map((v, i) => (i === 0 ? `<th scope="row">${cell(v, i)}</th>` : `<td${num(v)}>${cell(v, i)}</td>`)).join('')}</tr>`).join('\n') +
    `\n</tbody></table>${t.note ? `\n<p class="note">${escapeHtml(t.note)}</p>` : ''}`;
}

/** "quick (4 pages), smoke (2 pages)": the modes of the pages on the front page, most used first. */
export function modesText(notebooks: Array<{ mode: Mode }>): string {
  const counts = new Map<Mode, number>();
  for (const r of notebooks) counts.set(r.mode, (counts.get(r.mode) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([m, n]) => `${m} (${n} page${n === 1 ? '' : 's'})`).join(', ');
}

const INDEX_CSS = `body{font-family:system-ui,sans-serif;margin:2em auto;max-width:72em;padding:0 1em;line-height:1.45;color:#1f2328}
td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
table{border-collapse:collapse;margin:0.4em 0}
td.num{text-align:right;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:4px 0}
.headlines{display:grid;grid-template-columns:repeat(auto-fit,minmax(30em,1fr));gap:0.5em 2em}
.note{font-size:0.85em;color:#57606a;margin:0 0 1em}
.banner{border-left:4px solid #bf8700;background:#fff8c5;padding:0.6em 1em;margin:1em 0}
.mode-smoke{color:#9a6700}.mode-quick{color:#0969da}.mode-full{color:#1a7f37}
code{background:#f6f8fa;padding:1px 4px;border-radius:3px}`;

/**
 * The report's front page: what was reproduced and at what scale, the headline results the notebooks
 * emitted beside the paper's and the study's (quoted) figures, and every notebook with its status, mode
 * (per page: a partial run keeps earlier pages of other modes) and duration.
 */
export function indexHtml(summary: ReportSummary): string {
  const rows = summary.notebooks.map((r) => {
    const status = r.status === 'ok'
      ? '<span style="color:#1a7f37">ok</span>'
      : `<span style="color:#cf222e">${escapeHtml(r.kind ?? 'error')} in code cell ${r.cell ?? '?'}</span>` +
        (r.message ? `<br><small>${escapeHtml(r.message)}</small>` : '');
    const html = path.basename(r.html);
    const ipynb = path.basename(r.ipynb);
    const expected = r.expectedSeconds === undefined ? 'not measured' : `~${formatDuration(r.expectedSeconds)}`;
    return `<tr><td><a href="${escapeHtml(html)}">${escapeHtml(r.name)}</a></td><td>${escapeHtml(r.title)}</td>` +
      `<td>${status}</td><td>${r.mode}</td><td style="text-align:right">${r.seconds.toFixed(1)} s</td>` +
      `<td style="text-align:right">${expected}</td><td>${escapeHtml(r.finishedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))}</td>` +
      `<td><a href="${escapeHtml(ipynb)}">.ipynb</a></td></tr>`;
  }).join('\n');
  const failed = summary.notebooks.filter((r) => r.status !== 'ok').length;
  const h = summary.host;
  const modes = new Set(summary.notebooks.map((r) => r.mode));
  const mixed = modes.size > 1
    ? `<div class="banner"><b>These pages come from different modes:</b> ${modesText(summary.notebooks)}. ` +
      'Each page and each headline table says which; re-run <code>npm run report</code> to make them all one mode.</div>'
    : '';
  const nonQuick = modes.size === 1 && !modes.has('quick')
    ? `<div class="banner">Every page was run in <b>${[...modes][0]}</b> mode${modes.has('smoke') ? ' (tiny data, a pipeline check: its numbers say nothing about the model)' : ''}.</div>`
    : '';
  const standIns = summary.notebooks.filter((r) => r.headline?.standIn)
    .map((r) => `<div class="banner"><b>⚠ Stand-in:</b> ${escapeHtml(r.headline!.standIn!)} ` +
      `To show the benchmark run instead: <code>npm run report -- --with-benchmarks</code> (trains it first, about 30 minutes; see README).</div>`).join('\n');
  const headlines = summary.notebooks.flatMap((r) => (r.headline?.tables ?? [])
    .map((t) => `<div>${headlineTableHtml(t, { name: r.name, mode: r.headline!.mode })}</div>`));
  const byName = (prefix: string) => summary.notebooks.find((r) => r.name.startsWith(prefix));
  const link = (prefix: string, text: string) => {
    const r = byName(prefix);
    return r ? `<a href="${escapeHtml(path.basename(r.html))}">${text}</a>` : text;
  };
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>convnext-ts: a reproduction of “${PAPER_SOURCE.title}”</title>
<style>${INDEX_CSS}</style>
</head><body>
<h1>convnext-ts: reproducing “${PAPER_SOURCE.title}” in TypeScript</h1>
<p>This report reproduces <a href="${PAPER_SOURCE.url}">“${PAPER_SOURCE.title}”</a> (${PAPER_SOURCE.authors}; arXiv:2201.03545) on TensorFlow.js,
and the reproduction study <i lang="zh">${escapeHtml(STUDY_SOURCE.title)}</i> (${escapeHtml(STUDY_SOURCE.english)}, in Chinese), which trained the
paper's models on rented GPUs and extended ConvNeXt with add-on modules (dynamic convolution, SE, CBAM, feature fusion).
Each page below is an executed notebook; figures marked <i>quoted</i> are copied from the paper or the study, all others come
from the runs these pages show.</p>
<h2>What was reproduced, and at what scale</h2>
<ul>
<li><b>The architecture, exactly:</b> every ConvNeXt variant (${link('01', 'notebook 01')}) and every step of the paper's
modernization roadmap from ResNet-50 to ConvNeXt-T (${link('02', 'notebook 02')}), with parameters and FLOPs counted exactly and set
beside the paper's; official and timm PyTorch weights load into these models.</li>
<li><b>Training, at small scale:</b> nothing here is trained on ImageNet (the paper's 300 epochs take GPU-weeks). The roadmap is
replayed on CIFAR-10 images (${link('02', '02')}), the training recipe is measured on a CIFAR-10 benchmark trained in 30 minutes on
2 CPU cores and ablated part by part (${link('03', '03')}), and the study's modules are trained on 5 flower classes (${link('04', '04')}).</li>
<li><b>Speed:</b> inference and training throughput beside PyTorch on the same CPU (${link('05', '05')}).</li>
</ul>
<p>Modes of the pages: ${modesText(summary.notebooks) || '—'} (<code>CONVNEXT_MODE</code>: smoke = tiny data, seconds;
quick = real data on a 2-core CPU; full = the paper's settings).</p>
${mixed}${nonQuick}${standIns}
<h2>Headline results</h2>
<div class="headlines">
<div>${headlineTableHtml(quotedImagenetTable())}</div>
${headlines.join('\n')}
</div>
<h2>Notebooks</h2>
<p>${summary.notebooks.length} notebooks, ${failed === 0 ? 'all ran without errors' : `<b>${failed} failed</b>`};
this run started ${escapeHtml(summary.startedAt)} and took ${summary.seconds.toFixed(1)} s.
Machine: ${h.cpus} × ${escapeHtml(h.cpuModel)}, ${h.memoryGiB} GiB, Node ${escapeHtml(h.node)}.
"expected": the measured time of the notebook in its mode (README, "How long the report takes").</p>
<table>
<thead><tr><th>notebook</th><th>title</th><th>status</th><th>mode</th><th>duration</th><th>expected</th><th>finished</th><th>executed</th></tr></thead>
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
      const name = path.basename(files[i], '.ipynb');
      opts.onEvent?.({ type: 'notebook-start', name, index: i, total: files.length, mode: m, expectedS: expectedSeconds(name, m) });
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
