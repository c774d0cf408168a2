/**
 * `npm run report`: executes every notebook in notebooks/ headless with the convnext-ts kernel and
 * writes reports/<name>.html, reports/<name>.ipynb and reports/index.html. The mode comes from
 * CONVNEXT_MODE (smoke | quick | full, default quick) or --mode. Exits 1 when any cell failed.
 */
import { Command } from 'commander';
import * as cliProgress from 'cli-progress';
import * as path from 'path';
import { parseMode } from '../src/notebook/mode';
import { RunEvent, runReport } from '../src/notebook/runner';

const program = new Command()
  .name('report')
  .description('Execute the notebooks and export them as an HTML report')
  .option('--only <prefixes...>', 'only notebooks whose names start with these, e.g. --only 01 02')
  .option('--mode <mode>', 'smoke | quick | full (default: $CONVNEXT_MODE, else quick)')
  .option('--notebooks <dir>', 'notebook folder', 'notebooks')
  .option('--out <dir>', 'output folder', 'reports')
  .option('--timeout <seconds>', 'limit for each whole notebook (default by mode: 600 / 7200 / 172800)')
  .option('--jobs <n>', 'notebooks executed at once (timings inside notebooks suffer when > 1)', '1')
  .parse();

interface Opts { only?: string[]; mode?: string; notebooks: string; out: string; timeout?: string; jobs: string }

function progressPrinter(bars: boolean): (e: RunEvent) => void {
  // A bar per notebook on a terminal; plain lines in logs, CI and parallel runs.
  let bar: cliProgress.SingleBar | undefined;
  return (e) => {
    switch (e.type) {
      case 'notebook-start':
        console.log(`[${e.index + 1}/${e.total}] ${e.name}: starting the kernel`);
        break;
      case 'kernel-ready':
        if (bars) {
          bar = new cliProgress.SingleBar({
            format: `  ${e.name} [{bar}] {value}/{total} cells | {duration_formatted}`,
          }, cliProgress.Presets.shades_classic);
          bar.start(e.cells, 0);
        }
        break;
      case 'cell-done':
        if (bar) bar.update(e.cell);
        else console.log(`  ${e.name}: cell ${e.cell}/${e.cells} done in ${e.seconds.toFixed(1)} s`);
        break;
      case 'notebook-done': {
        bar?.stop();
        bar = undefined;
        const r = e.result;
        console.log(r.status === 'ok'
          ? `  ${r.name}: ok in ${r.seconds.toFixed(1)} s -> ${path.relative(process.cwd(), r.html)}`
          : `  ${r.name}: FAILED (${r.kind}) in code cell ${r.cell} after ${r.seconds.toFixed(1)} s`);
        break;
      }
    }
  };
}

async function main(): Promise<void> {
  const opts = program.opts<Opts>();
  const mode = parseMode(opts.mode ?? process.env.CONVNEXT_MODE);
  const timeoutS = opts.timeout === undefined ? undefined : Number(opts.timeout);
  if (timeoutS !== undefined && !(timeoutS > 0)) throw new Error(`--timeout ${opts.timeout} is not a positive number`);
  const jobs = Number(opts.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`--jobs ${opts.jobs} is not a positive integer`);
  console.log(`Executing notebooks in ${mode} mode`);
  const summary = await runReport({
    mode, only: opts.only, notebooksDir: path.resolve(opts.notebooks), outDir: path.resolve(opts.out), timeoutS, jobs,
    onEvent: progressPrinter(process.stdout.isTTY === true && jobs === 1),
  });
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
