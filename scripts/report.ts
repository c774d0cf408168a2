/**
 * `npm run report`: executes every notebook in notebooks/ headless with the convnext-ts kernel and
 * writes reports/<name>.html, reports/<name>.ipynb and reports/index.html. The mode comes from
 * CONVNEXT_MODE (smoke | quick | full, default quick) or --mode. Exits 1 when any cell failed.
 * While it runs it prints each notebook's expected time (src/notebook/timings.ts) and the time elapsed.
 * --with-benchmarks first trains the CIFAR-10 benchmark (if runs/cifar10-quick holds no finished run)
 * so that notebook 03 shows it rather than a shorter stand-in.
 */
import { Command } from 'commander';
import * as cliProgress from 'cli-progress';
import * as path from 'path';
import { parseMode } from '../src/notebook/mode';
import { progressLines, runStartLine } from '../src/notebook/progress';
import { RunEvent, listNotebooks, runReport } from '../src/notebook/runner';
import { elapsedText, expectedTotalSeconds } from '../src/notebook/timings';

const program = new Command()
  .name('report')
  .description('Execute the notebooks and export them as an HTML report')
  .option('--only <prefixes...>', 'only notebooks whose names start with these, e.g. --only 01 02')
  .option('--mode <mode>', 'smoke | quick | full (default: $CONVNEXT_MODE, else quick)')
  .option('--notebooks <dir>', 'notebook folder', 'notebooks')
  .option('--out <dir>', 'output folder', 'reports')
  .option('--timeout <seconds>', 'limit for each whole notebook (default by mode: 600 / 7200 / 172800)')
  .option('--jobs <n>', 'notebooks executed at once (timings inside notebooks suffer when > 1)', '1')
  .option('--with-benchmarks', 'first train the CIFAR-10 benchmark into runs/cifar10-quick (about 30 min, skipped when ' +
    'finished) and evaluate it with flip TTA, so notebook 03 shows it instead of a stand-in')
  .option('--heartbeat <seconds>', 'in logs: print a "still running" line after this many silent seconds', '60')
  .parse();

interface Opts {
  only?: string[]; mode?: string; notebooks: string; out: string; timeout?: string; jobs: string; withBenchmarks?: boolean; heartbeat: string;
}

/** Progress: a bar per notebook on a terminal, plain lines in logs, CI and parallel runs; both show elapsed and expected time. */
function progressPrinter(bars: boolean, heartbeatS: number): { onEvent: (e: RunEvent) => void; stop: () => void } {
  const lines = progressLines({ heartbeatS });
  let bar: cliProgress.SingleBar | undefined;
  let current: { startedAt: number; expectedS?: number; mode: Parameters<typeof elapsedText>[2] } | undefined;
  const timer = setInterval(() => {
    if (bar && current) bar.update({ time: elapsedText((Date.now() - current.startedAt) / 1000, current.expectedS, current.mode) });
    else for (const l of lines.tick()) console.log(l);
  }, bars ? 1000 : 5000);
  timer.unref();
  const onEvent = (e: RunEvent): void => {
    const out = lines.onEvent(e);
    switch (e.type) {
      case 'notebook-start':
        current = { startedAt: Date.now(), expectedS: e.expectedS, mode: e.mode };
        for (const l of out) console.log(l);
        break;
      case 'kernel-ready':
        if (bars) {
          bar = new cliProgress.SingleBar({ format: `  ${e.name} [{bar}] {value}/{total} cells | {time}` }, cliProgress.Presets.shades_classic);
          bar.start(e.cells, 0, { time: elapsedText(e.elapsedS, current?.expectedS, current?.mode ?? 'quick') });
        }
        break;
      case 'cell-done':
        if (bar) bar.update(e.cell);
        else for (const l of out) console.log(l);
        break;
      case 'notebook-done': {
        bar?.stop();
        bar = undefined;
        const r = e.result;
        const vs = r.expectedSeconds === undefined ? '' : ` (expected ~${Math.round(r.expectedSeconds)} s)`;
        console.log(r.status === 'ok'
          ? `  ${r.name}: ok in ${r.seconds.toFixed(1)} s${vs} -> ${path.relative(process.cwd(), r.html)}`
          : `  ${r.name}: FAILED (${r.kind}) in code cell ${r.cell} after ${r.seconds.toFixed(1)} s`);
        break;
      }
    }
  };
  return { onEvent, stop: () => clearInterval(timer) };
}

async function main(): Promise<void> {
  const opts = program.opts<Opts>();
  const mode = parseMode(opts.mode ?? process.env.CONVNEXT_MODE);
  const timeoutS = opts.timeout === undefined ? undefined : Number(opts.timeout);
  if (timeoutS !== undefined && !(timeoutS > 0)) throw new Error(`--timeout ${opts.timeout} is not a positive number`);
  const jobs = Number(opts.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`--jobs ${opts.jobs} is not a positive integer`);
  const heartbeatS = Number(opts.heartbeat);
  if (!(heartbeatS > 0)) throw new Error(`--heartbeat ${opts.heartbeat} is not a positive number`);
  if (opts.withBenchmarks) {
    // Loaded only here: it pulls in the trainer (and TensorFlow.js), which the report itself does not need.
    const { runBenchmarks } = require('../src/notebook/benchmarks') as typeof import('../src/notebook/benchmarks');
    await runBenchmarks(mode, { cwd: process.cwd() });
  }
  const names = listNotebooks(path.resolve(opts.notebooks), opts.only).map((f) => path.basename(f, '.ipynb'));
  console.log(runStartLine(names, mode, expectedTotalSeconds(names, mode)));
  const printer = progressPrinter(process.stdout.isTTY === true && jobs === 1, heartbeatS);
  const summary = await runReport({
    mode, only: opts.only, notebooksDir: path.resolve(opts.notebooks), outDir: path.resolve(opts.out), timeoutS, jobs,
    onEvent: printer.onEvent,
  }).finally(printer.stop);
  const failed = summary.notebooks.filter((r) => r.status !== 'ok');
  console.log(`Report: ${path.join(path.relative(process.cwd(), path.resolve(opts.out)), 'index.html')} ` +
    `(${summary.notebooks.length} notebooks, ${summary.seconds.toFixed(1)} s)`);
  for (const r of failed) {
    console.error(`\n${r.name}: code cell ${r.cell} failed (${r.kind}): ${r.message ?? ''}`);
    if (r.source) console.error(r.source.split('\n').map((l) => `  | ${l}`).join('\n'));
    if (r.stderr) console.error(r.stderr.trim().split('\n').slice(-15).map((l) => `  ! ${l}`).join('\n'));
  }
  if (failed.length > 0) process.exit(1);
}

main().catch((err: Error) => {
  console.error(`report: ${err.message}`);
  process.exit(2);
});
